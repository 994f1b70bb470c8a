// Async activity of the main thread through async_hooks: every resource's type, ids, creation site
// and the times of its init, callbacks (before/after), promise resolution and destroy.
//
// The hooks run on every promise, so they do as little as they can: typed-array appends, no
// allocation, no strings. A creation site costs a stack capture (3-10 µs measured on Node 20,
// against about 0.15 µs for the hooks themselves), so sites and events are kept for every resource
// up to a cap per type and for one in K after it; counts stay exact (see `AsyncLimits`).

import { createHook, executionAsyncId, type AsyncHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

/** Resource types whose work runs on the libuv thread pool. */
export const THREADPOOL_TYPES = new Set([
  'FSREQCALLBACK',
  'FSREQPROMISE',
  'FILEHANDLECLOSEREQ',
  'STATWATCHER',
  'PBKDF2REQUEST',
  'SCRYPTREQUEST',
  'RANDOMBYTESREQUEST',
  'RANDOMPRIMEREQUEST',
  'CHECKPRIMEREQUEST',
  'KEYGENREQUEST',
  'KEYPAIRGENREQUEST',
  'KEYEXPORTREQUEST',
  'CIPHERREQUEST',
  'DERIVEBITSREQUEST',
  'HASHREQUEST',
  'SIGNREQUEST',
  'VERIFYREQUEST',
  'ZLIB',
  'GETADDRINFOREQWRAP',
  'GETNAMEINFOREQWRAP',
]);

/** How many resources of a type are traced in full, then one in how many. */
export interface Sampling {
  full: number;
  every: number;
}

export interface AsyncLimits {
  /** PROMISE: millions in promise-heavy programs. */
  promises: Sampling;
  /** TickObject, Immediate, Microtask: callbacks scheduled by the program and by Node's own streams. */
  tasks: Sampling;
  /** Every other type (I/O, timers, crypto, DNS, ...), counted per type. */
  others: Sampling;
  /** Destroy events cost a weak reference per promise: the destroy hook is turned off after this many promises. */
  destroyUntilPromises: number;
  /** Hard cap on stored events (init, before, after, resolve, destroy), about 17 bytes each in memory
   *  and 150 in the trace file; later events are counted only. */
  maxEvents: number;
  /** Frames captured for a creation site. */
  stackLimit: number;
}

export const TASK_TYPES = new Set(['TickObject', 'Immediate', 'Microtask']);

export const DEFAULT_LIMITS: AsyncLimits = {
  promises: { full: 10_000, every: 256 },
  tasks: { full: 5_000, every: 64 },
  others: { full: 20_000, every: 16 },
  destroyUntilPromises: 100_000,
  maxEvents: 4_000_000,
  stackLimit: 24,
};

export const enum EventKind {
  Init = 0,
  Before = 1,
  After = 2,
  Resolve = 3,
  Destroy = 4,
}

export interface Site {
  /** Script URL or path as V8 names it. */
  url: string;
  /** 1-based. */
  line: number;
  column: number;
  function: string;
  /** No frame of the program's own code was within reach; this is the first node_modules frame. */
  dependency: boolean;
}

/** Entries per storage chunk. */
export const CHUNK = 1 << 16;

/** Column-wise append-only storage in fixed chunks, so growing never copies. */
class EventLog {
  readonly kinds: Uint8Array[] = [];
  readonly ids: Float64Array[] = [];
  readonly times: Float64Array[] = [];
  length = 0;
  kind = new Uint8Array(0);
  id = new Float64Array(0);
  time = new Float64Array(0);
  at = CHUNK; // index within the current chunk; CHUNK means full

  grow(): void {
    this.kind = new Uint8Array(CHUNK);
    this.id = new Float64Array(CHUNK);
    this.time = new Float64Array(CHUNK);
    this.kinds.push(this.kind);
    this.ids.push(this.id);
    this.times.push(this.time);
    this.at = 0;
  }
}

class ResourceLog {
  readonly triggers: Float64Array[] = [];
  readonly types: Uint16Array[] = [];
  readonly sites: Int32Array[] = [];
  /** 1 for a resource traced in full, K for one sampled 1 in K. */
  readonly weights: Uint16Array[] = [];
  length = 0;
  trigger = new Float64Array(0);
  type = new Uint16Array(0);
  site = new Int32Array(0);
  weight = new Uint16Array(0);
  at = CHUNK;

  grow(): void {
    this.trigger = new Float64Array(CHUNK);
    this.type = new Uint16Array(CHUNK);
    this.site = new Int32Array(CHUNK);
    this.weight = new Uint16Array(CHUNK);
    this.triggers.push(this.trigger);
    this.types.push(this.type);
    this.sites.push(this.site);
    this.weights.push(this.weight);
    this.at = 0;
  }
}

/** Everything recorded, for the trace writer. Times are `performance.now()` milliseconds. */
export interface AsyncRecord {
  events: EventLog;
  resources: ResourceLog;
  types: string[];
  sites: Site[];
  /** Per type: resources created, and traced (events and site kept). */
  created: number[];
  traced: number[];
  /** Callbacks run (before hooks), all resources, traced or not. */
  callbacks: number;
  /** Events not stored because `maxEvents` was reached. */
  droppedEvents: number;
  /** Resources created by the recorder itself (left out of the trace). */
  ownIds: Set<number>;
  limits: AsyncLimits;
  /** `performance.now()` when the destroy hook was turned off, or null while it stayed on. */
  destroyOffAt: number | null;
  /** `performance.now()` when the hooks were enabled and disabled. */
  enabledAt: number;
  disabledAt: number | null;
}

export interface AsyncTrace {
  record: AsyncRecord;
  /** Resources created and callbacks run so far (for rate counters). */
  counts(): { created: number; promises: number; callbacks: number };
  disable(): void;
}

/**
 * `skipUrl(url)` is true for the recorder's own scripts, which are never a creation site; `ownIds`
 * collects the async ids of the recorder's own resources, which the trace leaves out.
 */
export function startAsyncTrace(skipUrl: (url: string) => boolean, ownIds: Set<number>, limits: AsyncLimits = DEFAULT_LIMITS): AsyncTrace {
  const events = new EventLog();
  const resources = new ResourceLog();
  const typeIndex = new Map<string, number>();
  const types: string[] = [];
  const created: number[] = [];
  const traced: number[] = [];
  const sites: Site[] = [];
  const siteIndex = new Map<string, number>();
  let tracedBits = new Uint8Array(1 << 16);
  let promiseType = -1;
  let promises = 0;
  let allCreated = 0;
  let callbacks = 0;
  let stored = 0;
  let dropped = 0;
  const { maxEvents, stackLimit, destroyUntilPromises } = limits;
  const promisesFull = limits.promises.full;
  const promisesEvery = limits.promises.every;
  const fullOf: number[] = [];
  const everyOf: number[] = [];

  const record: AsyncRecord = {
    events,
    resources,
    types,
    sites,
    created,
    traced,
    callbacks: 0,
    droppedEvents: 0,
    ownIds,
    limits,
    destroyOffAt: null,
    enabledAt: 0,
    disabledAt: null,
  };

  // The first frame of the program's own code: not node: internals, not node_modules, not ours.
  // Returns a site index (the Error's `stack` becomes this number), -1 when there is none.
  const holder: { stack?: unknown } = {};
  function pickSite(_error: unknown, frames: NodeJS.CallSite[]): number {
    let dependency: NodeJS.CallSite | undefined;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i];
      const url = frame.getFileName();
      if (!url || url.startsWith('node:') || skipUrl(url)) continue;
      if (url.includes('/node_modules/') || url.includes('\\node_modules\\')) {
        dependency ??= frame;
        continue;
      }
      return intern(frame, url, false);
    }
    return dependency ? intern(dependency, dependency.getFileName() as string, true) : -1;
  }
  function intern(frame: NodeJS.CallSite, url: string, dependency: boolean): number {
    const line = frame.getLineNumber() ?? 0;
    const column = frame.getColumnNumber() ?? 0;
    const key = `${url}:${line}:${column}`;
    let i = siteIndex.get(key);
    if (i === undefined) {
      i = sites.length;
      sites.push({ url, line, column, function: frame.getFunctionName() ?? frame.getMethodName() ?? '', dependency });
      siteIndex.set(key, i);
    }
    return i;
  }
  function captureSite(): number {
    const limit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    Error.stackTraceLimit = stackLimit;
    Error.prepareStackTrace = pickSite;
    Error.captureStackTrace(holder, init);
    const site = holder.stack as number;
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
    return site;
  }

  function push(kind: EventKind, id: number): void {
    if (stored >= maxEvents) {
      dropped++;
      return;
    }
    if (events.at === CHUNK) events.grow();
    const at = events.at++;
    events.kind[at] = kind;
    events.id[at] = id;
    events.time[at] = performance.now();
    events.length++;
    stored++;
  }

  function isTraced(id: number): boolean {
    const byte = id >>> 3;
    return byte < tracedBits.length && (tracedBits[byte] & (1 << (id & 7))) !== 0;
  }

  function init(asyncId: number, type: string, triggerAsyncId: number): void {
    allCreated++;
    let t: number;
    let n: number;
    if (type === 'PROMISE' && promiseType >= 0) {
      t = promiseType;
      n = ++created[t];
      if (++promises === destroyUntilPromises) destroyOff();
      if (n > promisesFull && n % promisesEvery !== 0) return;
    } else {
      let found = typeIndex.get(type);
      if (found === undefined) {
        found = types.length;
        typeIndex.set(type, found);
        types.push(type);
        created.push(0);
        traced.push(0);
        if (type === 'PROMISE') promiseType = found;
        const sampling = type === 'PROMISE' ? limits.promises : TASK_TYPES.has(type) ? limits.tasks : limits.others;
        fullOf.push(sampling.full);
        everyOf.push(sampling.every);
      }
      t = found;
      n = ++created[t];
      if (t === promiseType) promises++;
      if (n > fullOf[t] && n % everyOf[t] !== 0) return;
    }
    if (stored >= maxEvents) {
      dropped++;
      return;
    }
    traced[t]++;
    const byte = asyncId >>> 3;
    if (byte >= tracedBits.length) {
      let size = tracedBits.length * 2;
      while (size <= byte) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(tracedBits);
      tracedBits = bigger;
    }
    tracedBits[byte] |= 1 << (asyncId & 7);
    if (resources.at === CHUNK) resources.grow();
    const at = resources.at++;
    resources.trigger[at] = triggerAsyncId;
    resources.type[at] = t;
    resources.site[at] = captureSite();
    resources.weight[at] = n > fullOf[t] ? everyOf[t] : 1;
    resources.length++;
    push(EventKind.Init, asyncId);
  }

  const hook: AsyncHook = createHook({
    init,
    before(asyncId) {
      callbacks++;
      if (isTraced(asyncId)) push(EventKind.Before, asyncId);
    },
    after(asyncId) {
      if (isTraced(asyncId)) push(EventKind.After, asyncId);
    },
    promiseResolve(asyncId) {
      if (isTraced(asyncId)) push(EventKind.Resolve, asyncId);
    },
  });
  // Separate, so that it can be turned off alone: with a destroy hook Node tracks every promise
  // with a weak reference, which doubles the hooks' cost on promise-heavy programs.
  const destroyHook: AsyncHook = createHook({
    destroy(asyncId) {
      if (isTraced(asyncId)) push(EventKind.Destroy, asyncId);
    },
  });

  // Turned off from a hook, since a program that only chains promises never lets a timer run. Node
  // picks its promise hook (with or without destroy tracking) when a hook is enabled, not when one
  // is disabled, and changes made inside a hook callback apply to a copy until it returns; so the
  // choice is made again in a microtask, by enabling an empty hook.
  function destroyOff(): void {
    if (record.destroyOffAt !== null) return;
    record.destroyOffAt = performance.now();
    destroyHook.disable();
    queueMicrotask(() => {
      ownIds.add(executionAsyncId());
      const refresh = createHook({});
      refresh.enable();
      refresh.disable();
    });
  }

  record.enabledAt = performance.now();
  hook.enable();
  destroyHook.enable();

  return {
    record,
    counts: () => ({ created: allCreated, promises, callbacks }),
    disable() {
      if (record.disabledAt !== null) return;
      hook.disable();
      destroyHook.disable();
      record.disabledAt = performance.now();
      record.callbacks = callbacks;
      record.droppedEvents = dropped;
    },
  };
}
