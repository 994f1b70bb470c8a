// Loaded into every Node process that `loopscope collect` starts (NODE_OPTIONS=--import <this file's
// URL>?out=DIR&interval=US). Records the main thread: a CPU profile and heap sampling through an
// in-process inspector session, async activity, event-loop, GC and memory series, and off-CPU time.
// Everything is written synchronously when the process ends, however it ends: normal exit,
// process.exit, an uncaught exception (the `exit` event still fires), or SIGINT/SIGTERM/SIGHUP
// (written, then the signal is raised again with its default action).

import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, isAbsolute, join, relative } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { MAX_EVERY, startAsyncTrace, TASK_TYPES, THREADPOOL_TYPES, type AsyncRecord, type AsyncTrace } from './async-trace.js';
import { alignClocks, hrtimeUs, type ClockAlignment } from './clock.js';
import { fileNames, FORMAT, FORMAT_VERSION, PARENT_ENV, type ProcessRecord } from './format.js';
import { isCollectorUrl } from './paths.js';
import { startSchedstat, type SchedstatInfo } from './schedstat.js';
import { DEFAULT_SERIES, startSeries, type Series } from './series.js';
import { TraceWriter } from './trace-writer.js';

/**
 * Bytes between heap samples. Every sample is a stack capture, and with collected objects kept the
 * profile grows with all the bytes ever allocated: at V8's default of 32 KB, 3 million awaits make
 * a 2.4 MB profile that takes about 60 ms to stop and write. Allocation sites that matter for memory hold
 * megabytes, which 128 KB samples still find.
 */
const HEAP_SAMPLING_INTERVAL = 128 * 1024;
/** The off-CPU sampler reads a /proc file per tick on its own thread: no faster than this. */
const SCHEDSTAT_MIN_INTERVAL_US = 500;
/**
 * Async events written per heartbeat while the program runs (about 1 µs each): a few milliseconds
 * at most, so that writing never holds the program's own callbacks up for long.
 */
const EVENTS_PER_BEAT = 4096;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const ACTIVE = Symbol.for('loopscope.collector.active');

interface Config {
  out: string;
  intervalUs: number;
}

function config(): Config | null {
  const query = new URL(import.meta.url).searchParams;
  const out = query.get('out');
  if (!out) return null;
  const interval = Number(query.get('interval') ?? 1000);
  return { out, intervalUs: Number.isFinite(interval) && interval > 0 ? interval : 1000 };
}

type Post = (method: string, params?: object) => any;

function inspectorSession(): { session: Session; post: Post } {
  const session = new Session();
  session.connect();
  // In-process sessions answer synchronously: the callback has run when `post` returns.
  const post: Post = (method, params) => {
    let failure: Error | null = null;
    let answer: unknown;
    let answered = false;
    const untyped = session.post as (m: string, p: object | undefined, cb: (e: Error | null, r: unknown) => void) => void;
    untyped.call(session, method, params, (e, r) => {
      failure = e;
      answer = r;
      answered = true;
    });
    if (!answered) throw new Error(`${method}: no synchronous answer from the inspector`);
    if (failure) throw failure;
    return answer;
  };
  return { session, post };
}

/** A script path relative to the working directory when it lies below it. */
function shortPath(path: string): string {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

function writeJson(path: string, value: unknown): void {
  const temp = `${path}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(value));
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

function start({ out, intervalUs }: Config): void {
  const pid = process.pid;
  const names = fileNames(pid);
  const clock = alignClocks();
  const startTime = new Date().toISOString();
  const parent = Number(process.env[PARENT_ENV]);
  const recordedParent = Number.isInteger(parent) && parent > 0 && parent !== pid ? parent : null;
  // First, so that a directory that cannot be written turns recording off before anything starts.
  const record: ProcessRecord = {
    pid,
    ppid: process.ppid,
    recordedParent,
    argv: process.argv,
    execArgv: process.execArgv,
    cwd: process.cwd(),
    startTime,
    startUs: hrtimeUs(),
  };
  writeJson(join(out, names.process), record);
  process.env[PARENT_ENV] = String(pid); // children name us as their recorded parent
  let finished = false;

  const { session, post } = inspectorSession();
  post('Profiler.enable');
  post('Profiler.setSamplingInterval', { interval: intervalUs });

  // Heap sampling, keeping objects that GC has already collected (sampled allocation over the
  // whole run, not just what is alive at the end). Node 20 knows both flags; a protocol that does
  // not would ignore them silently, so ask with a wrongly typed value first: a known flag is rejected.
  let heap: Record<string, unknown>;
  try {
    post('HeapProfiler.enable');
    let flagsKnown = false;
    try {
      post('HeapProfiler.startSampling', { samplingInterval: HEAP_SAMPLING_INTERVAL, includeObjectsCollectedByMajorGC: 'probe' });
      post('HeapProfiler.stopSampling');
    } catch {
      flagsKnown = true;
    }
    const flags = flagsKnown ? { includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } : {};
    post('HeapProfiler.startSampling', { samplingInterval: HEAP_SAMPLING_INTERVAL, ...flags });
    heap = {
      samplingIntervalBytes: HEAP_SAMPLING_INTERVAL,
      includeObjectsCollectedByMajorGC: flagsKnown,
      includeObjectsCollectedByMinorGC: flagsKnown,
      ...(flagsKnown ? {} : { note: 'this Node does not know includeObjectsCollectedBy*GC: only objects alive at the end are sampled' }),
    };
  } catch (error) {
    heap = { error: (error as Error).message };
  }

  const profilerStartBefore = hrtimeUs();
  post('Profiler.start');
  const profilerStartAfter = hrtimeUs();

  // The recorder's own timers, worker and observers exist before the async hooks are enabled, so
  // the hooks never see them being created (and so never trace their callbacks).
  const schedstat = startSchedstat(Math.max(intervalUs, SCHEDSTAT_MIN_INTERVAL_US));
  const ownIds = new Set<number>();
  let trace: AsyncTrace | null = null;
  let writer: TraceWriter | null = null;
  let writeError: Error | null = null;
  // Each beat writes the events recorded before the previous beat: by then the recorder's own
  // resources among them (a GC observer's Immediate) have run and are known as its own.
  let written = 0;
  const onBeat = () => {
    if (!writer || !trace) return;
    const upTo = written;
    written = trace.record.events.length;
    try {
      writer.writeEvents(upTo, EVENTS_PER_BEAT);
    } catch (error) {
      writeError = error as Error;
      writer.abort();
      writer = null;
    }
  };
  const series = startSeries(
    DEFAULT_SERIES,
    () => trace?.counts() ?? { created: 0, promises: 0, callbacks: 0 },
    ownIds,
    onBeat,
  );
  // Installed before the hooks are enabled, so that the signal handles are not traced either.
  process.on('exit', (code) => finish(code, null));
  for (const signal of SIGNALS) {
    const onSignal = () => {
      // The program listens for this signal itself: its behaviour stays its own (its exit, if it
      // exits, writes the recording).
      if (process.listenerCount(signal) > 1) return;
      finish(null, signal);
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
  trace = startAsyncTrace(isCollectorUrl, ownIds);
  writer = new TraceWriter(join(out, names.trace), {
    pid,
    processName: [basename(process.argv[0]), shortPath(process.argv[1] ?? ''), ...process.argv.slice(2)].join(' ').trim(),
    offsetUs: clock.offsetUs,
    async: trace.record,
  });

  function finish(exitCode: number | null, signal: string | null): void {
    if (finished || !trace) return;
    finished = true;
    try {
      trace.disable();
      const endUs = hrtimeUs();
      const profile = (post('Profiler.stop') as { profile: { startTime: number; endTime: number } }).profile;
      let heapProfile: unknown = null;
      try {
        heapProfile = (post('HeapProfiler.stopSampling') as { profile: unknown }).profile;
      } catch (error) {
        heap = { ...heap, error: (error as Error).message };
      }
      series.stop();
      const sched = schedstat.stop();
      session.disconnect();

      writeJson(join(out, names.cpuprofile), profile);
      if (heapProfile) writeJson(join(out, names.heapprofile), heapProfile);
      if (writeError) throw writeError;
      if (!writer) throw new Error('the trace writer is gone');
      writer.finish({
        endUs,
        series: series.series,
        schedstat: sched.samples,
        // Built after the events are written: the recorder's own resources are then out of the counts.
        metadata: () =>
          traceMetadata({
            clock,
            profile,
            profilerStart: [profilerStartBefore, profilerStartAfter],
            intervalUs,
            heap,
            heapProfile,
            names,
            trace: trace.record,
            series: series.series,
            schedstat: sched.info,
          }),
      });
      writeJson(join(out, names.process), {
        ...record,
        endTime: new Date().toISOString(),
        endUs,
        exitCode,
        signal,
        files: { cpuprofile: names.cpuprofile, trace: names.trace, heapprofile: heapProfile ? names.heapprofile : undefined },
      } satisfies ProcessRecord);
    } catch (error) {
      writer?.abort();
      process.stderr.write(`loopscope: could not write the recording of process ${pid}: ${(error as Error).message}\n`);
    }
  }
}

interface MetadataInput {
  clock: ClockAlignment;
  profile: { startTime: number; endTime: number };
  profilerStart: [number, number];
  intervalUs: number;
  heap: Record<string, unknown>;
  heapProfile: unknown;
  names: ReturnType<typeof fileNames>;
  trace: AsyncRecord;
  series: Series;
  schedstat: SchedstatInfo;
}

/** The trace's `metadata`: what was recorded, how, and what was sampled or capped. */
function traceMetadata(input: MetadataInput) {
  const { clock, profile, intervalUs, heap, heapProfile, names, trace: r, series } = input;
  const limits = r.limits;
  const toUs = (ms: number) => Math.round((ms * 1000 + clock.offsetUs) * 10) / 10;
  const poolEnv = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10);
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    pid: process.pid,
    ppid: process.ppid,
    node: process.version,
    platform: process.platform,
    clock: {
      unit: 'us',
      base: 'the CPU profile clock: monotonic, the same as process.hrtime',
      performanceNowOffsetUs: clock.offsetUs,
      alignmentUncertaintyUs: clock.uncertaintyUs,
      profileStartTime: profile.startTime,
      profileEndTime: profile.endTime,
      profilerStartBracketUs: input.profilerStart,
    },
    cpuProfile: { samplingIntervalUs: intervalUs, file: names.cpuprofile },
    heapProfile: { ...heap, file: heapProfile ? names.heapprofile : null },
    async: {
      hooks: ['init', 'before', 'after', 'promiseResolve', 'destroy'],
      sources: {
        init: 'async_hooks',
        before: 'async_hooks',
        after: 'async_hooks',
        promiseResolve: r.resolveSource,
        destroy: 'async_hooks',
      },
      recordedFromUs: toUs(r.enabledAt),
      recordedUntilUs: toUs(r.disabledAt ?? performance.now()),
      sampling: {
        rule:
          'per group (a type and the creation site of the resource that triggered the creation; one group per type for ' +
          'triggers not traced): the first `full` resources are traced, then each with probability 1 / K, where ' +
          'K = `every` up to `full * every * 2` resources and doubles each time the count doubles after that, to at most `maxEvery`',
        maxEvery: MAX_EVERY,
        promises: { types: ['PROMISE'], ...limits.promises },
        tasks: { types: [...TASK_TYPES], ...limits.tasks },
        others: { types: 'every other type', ...limits.others },
        note:
          'a traced resource has all its events and its creation site; a sampled one has args.weight = K; ' +
          'counts in `types` and the asyncActivity counters are exact',
      },
      destroy: {
        recorded: true,
        ...(r.destroy.promisesUntil === null
          ? {}
          : {
              promisesUntilUs: toUs(r.destroy.promisesUntil),
              promisesReason: `promises created after the first ${limits.destroyUntilPromises} have no destroy event: Node tracks each promise with a weak reference for it`,
            }),
        ...(r.destroy.reinstalled > 0 ? { promiseTrackingTurnedOffAgain: r.destroy.reinstalled } : {}),
        ...(r.destroy.hookOffAt === null ? {} : { untilUs: toUs(r.destroy.hookOffAt), reason: r.destroy.reason }),
      },
      siteStackLimit: limits.stackLimit,
      maxEvents: limits.maxEvents,
      droppedEvents: r.droppedEvents,
      callbacks: r.callbacks,
      types: Object.fromEntries(
        r.types
          .map((t, i) => {
            const counts = { created: r.created[i], traced: r.traced[i], ...(THREADPOOL_TYPES.has(t) ? { threadpool: true } : {}) };
            return [t, counts] as const;
          })
          .filter(([, c]) => c.created > 0),
      ),
      openAtEnd: 'resources without a destroy event were alive at the end (or their destroy was not recorded)',
    },
    threadpool: {
      size: Number.isInteger(poolEnv) && poolEnv > 0 ? Math.min(poolEnv, 1024) : 4,
      source: Number.isInteger(poolEnv) && poolEnv > 0 ? 'UV_THREADPOOL_SIZE' : 'default',
    },
    eventLoopDelay: series.loopDelay,
    series: {
      heartbeatMs: series.options.heartbeatMs,
      memoryEveryMs: series.options.heartbeatMs * series.options.slowEvery,
      counters: {
        timerDrift: 'lateMs: how much later than its period the heartbeat timer fired',
        eventLoopUtilization: 'utilization since the previous sample (performance.eventLoopUtilization)',
        memory: 'process.memoryUsage(), bytes',
        asyncActivity: 'resources created, promises created, callbacks run since the previous sample',
        schedstat: 'main thread cumulative onCpuNs and runQueueNs (/proc schedstat); off-CPU = elapsed - onCpu',
      },
    },
    schedstat: input.schedstat,
  };
}

const cfg = config();
if (isMainThread && cfg && !(globalThis as Record<symbol, unknown>)[ACTIVE]) {
  (globalThis as Record<symbol, unknown>)[ACTIVE] = true;
  try {
    start(cfg);
  } catch (error) {
    process.stderr.write(`loopscope: recording is off for process ${process.pid}: ${(error as Error).message}\n`);
  }
}
