// The shapes every stage shares: importers produce a Profile, analysis turns it into an Analysis,
// reports render an Analysis. Times are milliseconds (f64) throughout; a profile of bytes or counts
// (a heap profile, a pprof sample type that is not time) says so in Profile.unit.

/** What kind of code a frame is; decides which share a sample counts as and who it is charged to. */
export type FrameKind =
  | 'user' // the user's own code: a file or URL outside node_modules and Node's internals
  | 'dependency' // code under node_modules
  | 'internal' // Node's own JavaScript (node:*, internal/*)
  | 'native' // a frame without a script: builtins, native bindings
  | 'idle' // (idle): the event loop waits
  | 'program' // (program): the VM itself
  | 'gc' // (garbage collector)
  | 'root' // (root)
  | 'recorder'; // loopscope's own recorder (collect), running inside the program

export interface Frame {
  name: string;
  /** Absolute path for file:// scripts, the URL as recorded otherwise, '' when there is none. */
  file: string;
  /** 1-based line of the function's start; 0 when unknown. */
  line: number;
  /** 1-based column; 0 when unknown. */
  column: number;
  kind: FrameKind;
}

/** Busy/idle share a node's samples count as (see SPEC.md "Per-line time ratios"). */
export const enum Share {
  User = 0,
  System = 1,
  Idle = 2,
}

/**
 * The main thread's timeline, bounded in size: consecutive samples of one stack node merge into one
 * entry; when the table fills up, short neighbouring entries merge into buckets owned by the node
 * that dominated them, and `resolutionMs` says how coarse entries may be.
 */
export interface Timeline {
  count: number;
  start: Float64Array;
  duration: Float64Array;
  /** Time in the entry spent idle (exact even when the entry is a coarsened bucket). */
  idle: Float64Array;
  /** Dominant stack node (index into the Profile's node tables). */
  node: Int32Array;
  resolutionMs: number;
}

/**
 * What a profile's values measure: time (ms), bytes allocated, or a count. The tables keep their
 * `Ms` names whatever the unit: in a bytes profile nodeSelfMs holds bytes, a line's userMs /
 * systemMs / idleMs hold bytes by share, and nothing in it is time.
 */
export type ValueUnit = 'ms' | 'bytes' | 'count';

export const unitOf = (profile: Pick<Profile, 'unit'>): ValueUnit => profile.unit ?? 'ms';

/**
 * Whether the samples' order is the order they were taken in. 'none': a format that keeps totals
 * per stack only (pprof, folded stacks, heap profiles), whose importer lays the stacks end to end:
 * the timeline is then made up, and nothing read from it (a stretch's length, a train of waits) is
 * real (src/analysis/untimed.ts).
 */
export type TimeOrder = 'real' | 'none';

export const timeOrderOf = (profile: Pick<Profile, 'timeOrder'>): TimeOrder => profile.timeOrder ?? 'real';

/** The core tables of one thread of one profile. Node tables are indexed by node index. */
export interface Profile {
  /** What was read, for messages: a path or a name. */
  source: string;
  format: string;
  /** What the values measure; absent: time in ms. */
  unit?: ValueUnit;
  /** Whether the timeline follows the order the samples were taken in; absent: 'real'. */
  timeOrder?: TimeOrder;
  frames: Frame[];
  /** Parent node index, -1 for the root. Parents always precede their children. */
  nodeParent: Int32Array;
  nodeFrame: Int32Array;
  /** Self time and sample count of each node. */
  nodeSelfMs: Float64Array;
  nodeSamples: Float64Array;
  /** Per-node line ticks ([line, ticks] pairs, 1-based lines) where the profile records them. */
  nodeLineTicks: (Uint32Array | undefined)[];
  timeline: Timeline;
  startMs: number;
  endMs: number;
  /** Samples whose time ran backwards past the reorder window; their duration was clamped to 0. */
  clampedSamples: number;
}

export interface LineStat {
  file: string;
  line: number;
  function: string;
  userMs: number;
  systemMs: number;
  idleMs: number;
  samples: number;
}

export interface Totals {
  wallMs: number;
  userMs: number;
  systemMs: number;
  idleMs: number;
  samples: number;
}

export type Kind = 'blocking' | 'sequential' | 'context-switching' | 'starvation' | 'memory';
export type Severity = 'critical' | 'warning' | 'info';

export interface Finding {
  kind: Kind;
  severity: Severity;
  title: string;
  location: { file: string; line: number; column: number; function: string };
  impactMs?: number;
  impactBytes?: number;
  evidence: Record<string, number | string>;
  suggestion: string;
  /**
   * When in the run it shows: [start, end] ms on the profile's clock, where the detector knows it.
   * For the viewer's timeline; not part of the report JSON.
   */
  during?: [number, number][];
}

export interface Analysis {
  profile: Profile;
  /** Share of every node's samples, and the node its time is charged to (-1: no user frame). */
  nodeShare: Uint8Array;
  lines: LineStat[];
  totals: Totals;
  findings: Finding[];
}

/** What the user may choose about how an input is read (command-line flags; the viewer's defaults). */
export interface ImportOptions {
  /** Trace events: the thread to analyse, by name or tid (default: the main thread). */
  thread?: string;
  /** pprof: the sample type to read (default: the profile's default_sample_type, else the last). */
  sampleType?: string;
  /** A directory to look in for source maps besides the scripts' own. */
  sourceMaps?: string;
}

/** An input that cannot be read: says what is wrong and where. Reported as one line, exit code 2. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
