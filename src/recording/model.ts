// What a `loopscope collect` recording adds to a CPU profile, as the detectors read it: the async
// resources of the main thread, the callbacks they ran, the loop / GC / memory / off-CPU series and
// the heap profile's allocation sites. Times are milliseconds on the CPU profile's clock (the
// trace's microseconds / 1000), so they compare directly with Profile.timeline.
//
// Per-resource data is column-wise in typed arrays: a recording holds up to a few million traced
// resources and callbacks (the recorder caps its events at 4 M), about 48 bytes per resource and 20
// per callback here. No I/O and no Node imports: the browser viewer reads the same shapes.

/** Where an async resource was created: the first frame of the program's own code. */
export interface TraceSite {
  /** Absolute path (or URL for non-file scripts). */
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  function: string;
  /** Not the program's own code: node_modules, WebAssembly, or the recorder. */
  dependency: boolean;
}

/** Async resources in init order (async ids ascending). `NaN` marks "never happened". */
export interface AsyncResources {
  count: number;
  id: Float64Array;
  trigger: Float64Array;
  /** Index into `types`. */
  type: Uint16Array;
  /** Index into `sites`, -1 when no frame of the program was on the stack. */
  site: Int32Array;
  /**
   * Index into `callees`: the library function the site's line was calling when the resource was
   * created (`fetch`, `readFile`); 0, the empty name, when the program's own code created it.
   */
  callee: Uint16Array;
  /** How many resources this traced one stands for (the recorder traces 1 in K past a cap). */
  weight: Uint16Array;
  /** Init time (ms). */
  init: Float64Array;
  /** Time from init to the first promiseResolve (ms), NaN if none. */
  resolveAfter: Float32Array;
  /** Time from init to the start of the first callback (ms), NaN if none. */
  callbackAfter: Float32Array;
  callbacks: Uint32Array;
  /** Time spent in this resource's callbacks (ms). */
  callbackMs: Float32Array;
  types: string[];
  /** Per type: its work runs on the libuv thread pool. */
  threadpool: boolean[];
  sites: TraceSite[];
  /** Names of the library functions in `callee`; the first is ''. */
  callees: string[];
}

/** Callbacks (before..after of a resource), in the order they ended. */
export interface Callbacks {
  count: number;
  start: Float64Array;
  duration: Float32Array;
  /**
   * Duration less the callbacks nested in it (ms). Microtasks run inside the callback that queued
   * them (an ES module's evaluation, a promise job): its own time is what it did itself.
   */
  self: Float32Array;
  /** Row in AsyncResources. */
  resource: Int32Array;
}

/** Sampled series, each a flat array of fixed-width records starting with the time (ms). */
export interface Series {
  /** [t, lateMs]: how late the recorder's heartbeat timer fired. */
  drift: Float64Array;
  /** [t, utilization]. */
  utilization: Float64Array;
  /** [t, heapUsed, heapTotal, external, arrayBuffers, rss] bytes. */
  memory: Float64Array;
  /** [t, resources created, promises created, callbacks run] since the previous record. */
  activity: Float64Array;
  /** [t, onCpuMs, runQueueMs]: cumulative scheduler statistics of the main thread. */
  schedstat: Float64Array;
  /** [start, duration] of each GC pause (ms). */
  gc: Float64Array;
}

/** The parts of the trace's `metadata` the diagnosis uses (the rest stays in `raw`). */
export interface TraceMetadata {
  threadpoolSize: number;
  /** Loop-delay histogram (ms) of the whole run, when recorded. */
  loopDelay: { max: number; p99: number; mean: number; count: number } | null;
  /** Per type: resources created (exact) and traced. */
  typeCounts: Map<string, { created: number; traced: number }>;
  callbacksRun: number;
  schedstatAvailable: boolean;
  heartbeatMs: number;
  raw: Record<string, unknown>;
}

export interface AsyncTrace {
  resources: AsyncResources;
  callbacks: Callbacks;
  series: Series;
  metadata: TraceMetadata;
  /** Lines the reader did not understand (kept as a count, never fatal). */
  skippedLines: number;
}

/** One allocating function of the heap profile. */
export interface AllocationSite {
  file: string;
  /** The function's 1-based start line (the heap profile has no finer position). */
  line: number;
  column: number;
  function: string;
  /** Sampled bytes allocated by the function itself over the run. */
  bytes: number;
}

export interface HeapSummary {
  /** Allocation sites of the program's own code, most bytes first. */
  sites: AllocationSite[];
  totalBytes: number;
  /** Bytes allocated by the program's own code, its dependencies included. */
  programBytes: number;
  samplingIntervalBytes: number;
}

/** The program's source text, where the machine that analyses the recording can read it. */
export interface SourceLookup {
  /** The file's lines (index 0 = line 1), or undefined when it cannot be read. */
  lines(file: string): string[] | undefined;
}

/** Everything the collector recorded besides the CPU profile, for one process. */
export interface RecordingEvidence {
  /** The recording directory and the process analysed. */
  dir: string;
  pid: number;
  trace: AsyncTrace | null;
  heap: HeapSummary | null;
  /** The program's source, where the machine that analyses the recording can read it. */
  source?: SourceLookup;
  /** Why a recorded file was left out of the analysis (a damaged heap profile), for a warning. */
  skipped?: string;
}
