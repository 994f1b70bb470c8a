// Async activity of the main thread: every resource's type, ids, creation site and the times of its
// init, callbacks (before/after), promise resolution and destroy.
//
// The hooks run on every promise, so they do as little as they can: typed-array appends, no
// allocation, no strings. Node's own async_hooks machinery costs more than they do, so it is used
// only where nothing else gives the same events:
// - init, before and after come from async_hooks (every type, with Node's async ids);
// - promise resolution comes from V8's promise hook (`v8.promiseHooks.onSettled`), which reads the
//   async id Node keeps on each promise: the same event as async_hooks' promiseResolve, without
//   Node's per-promise dispatch;
// - destroy comes from async_hooks. With a destroy hook Node puts a weak reference on every promise
//   (about 0.8 µs each, and work for the garbage collector), so promises are tracked for destroy only
//   while they are traced in full; then Node's tracking of promises is turned off and the destroy
//   hook stays on for every other type (see `stopPromiseDestroys`).
// A creation site costs a stack capture (1 µs plus about 0.4 µs a frame measured on Node 20, against
// about 0.15 µs for the hooks themselves), so sites and events are kept for every resource up to a
// cap per sampling group and for one in K after it; counts stay exact (see `AsyncLimits`).

import { createHook, executionAsyncId, type AsyncHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { promiseHooks } from 'node:v8';

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

/**
 * How many resources of a sampling group are traced in full, then one in how many (`every`, a power
 * of two). A group is a type and the creation site of the resource that triggered the creation (the
 * code path that made it), so a rare path stays traced in full however busy another is. Past
 * `full * every * 2` in a group, `every` doubles each time the group's count doubles (at most
 * MAX_EVERY): a group of millions costs a few thousand stack captures, not one in `every` of them.
 * Which ones are traced is random (each with probability 1 / every; the gaps between them drawn
 * from the geometric distribution, so that the ones skipped cost a decrement): a group often holds
 * resources of two sites in turn (a task's promise, then the promise it awaits), and every n-th one
 * would be the same site each time.
 */
export interface Sampling {
  full: number;
  every: number;
}

/** Largest sampling weight (the trace keeps weights as 16-bit integers). */
export const MAX_EVERY = 1 << 14;

/** The 1-in-K rate for the n-th resource of a sampling group (1 while traced in full). */
export function samplingEvery(n: number, full: number, every: number): number {
  if (n <= full) return 1;
  const over = Math.floor((n - 1) / (full * every * 2));
  if (over === 0) return every;
  // Integer shifts only: this runs for every resource past the full window.
  const doublings = 32 - Math.clz32(over);
  return doublings >= 31 ? MAX_EVERY : Math.min(MAX_EVERY, every << doublings);
}

export interface AsyncLimits {
  /** PROMISE: millions in promise-heavy programs. */
  promises: Sampling;
  /** TickObject, Immediate, Microtask: callbacks scheduled by the program and by Node's own streams. */
  tasks: Sampling;
  /** Every other type (I/O, timers, crypto, DNS, ...). */
  others: Sampling;
  /** Destroy events of promises: for the first this many promises (see `DestroyRecord`). */
  destroyUntilPromises: number;
  /** Hard cap on stored events (init, before, after, resolve, destroy), about 17 bytes each in memory
   *  and 150 in the trace file; later events are counted only. */
  maxEvents: number;
  /** Frames captured for a creation site. */
  stackLimit: number;
  /**
   * Frames captured first: the full `stackLimit` only when these hold none of the program's frames
   * and the stack goes deeper. A capture costs about 0.8 µs plus 0.3 µs a frame (Node 20), and on
   * the I/O-bound benchmark 70% of the sites are found, or the whole stack is seen to hold none,
   * within 12 frames.
   */
  firstStackLimit: number;
}

export const TASK_TYPES = new Set(['TickObject', 'Immediate', 'Microtask']);

// Each traced resource costs a stack capture for its site (2-10 µs), its events and about four
// lines of trace. A group (type, trigger's site) is one code path: the first few hundred of each are
// plenty to find its line and timing, and the groups of a task's promises keep their links to the
// task (a child's group is its trigger's site, so the trigger of every resource of a traced group
// was traced). Measured on the I/O-bound benchmark (156,000 resources in 52 groups): 22,400 stack
// captures with per-type caps, 4,900 with these.
export const DEFAULT_LIMITS: AsyncLimits = {
  promises: { full: 128, every: 64 },
  tasks: { full: 128, every: 32 },
  others: { full: 256, every: 16 },
  destroyUntilPromises: 10_000,
  maxEvents: 4_000_000,
  stackLimit: 24,
  firstStackLimit: 12,
};

/**
 * How destroy events were recorded: the destroy hook for every type, promises among them until
 * `promisesUntil`, when Node stopped tracking new promises (earlier ones still report their destroy).
 * Should Node track every promise again (a hook the program enables makes Node choose its promise
 * hook anew), this is noticed and undone; if it cannot be, the destroy hook is turned off (`hookOffAt`).
 */
export interface DestroyRecord {
  /** `performance.now()` when Node stopped tracking new promises for destroy, or null. */
  promisesUntil: number | null;
  /** `performance.now()` when the destroy hook was turned off, or null while it stayed on. */
  hookOffAt: number | null;
  reason: string | null;
  /** Times Node's promise tracking was found on again and turned off. */
  reinstalled: number;
}

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
  /**
   * The library function the program's frame was calling when the resource was created (the
   * nearest Node or node_modules frame above it, as in `fetch`), '' when the program's own code
   * created it.
   */
  callee: string;
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
  /** Where promise resolution came from: V8's promise hook, or async_hooks when Node's async id was not found on a promise. */
  resolveSource: 'v8.promiseHooks' | 'async_hooks';
  destroy: DestroyRecord;
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

/** A bit per async id, growing by doubling. */
class IdBits {
  bits = new Uint8Array(1 << 16);
  has(id: number): boolean {
    const byte = id >>> 3;
    return byte < this.bits.length && (this.bits[byte] & (1 << (id & 7))) !== 0;
  }
  add(id: number): void {
    const byte = id >>> 3;
    if (byte >= this.bits.length) {
      let size = this.bits.length * 2;
      while (size <= byte) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.bits);
      this.bits = bigger;
    }
    this.bits[byte] |= 1 << (id & 7);
  }
}

/** What the recorder's own probe promise is for (see `probe`). */
const enum Probe {
  None = 0,
  /** Find the symbol under which Node keeps a promise's async id. */
  AsyncIdSymbol = 1,
  /** Enable the destroy hook from inside a hook callback. */
  Destroy = 2,
}

/** Node's async hooks: between the program's code and the recorder's init hook on the stack. */
const ASYNC_HOOKS_SCRIPT = 'node:internal/async_hooks';

/** `pickSite`'s answer when the first frames captured hold no site and the stack goes deeper. */
const DEEPER = -2;

/** Entries of the cache of recently traced resources' sites (a power of two). */
const RECENT = 1 << 16;

/** Times Node's per-promise destroy tracking is turned off again before the destroy hook goes. */
const MAX_REINSTALLS = 16;

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
  /** url -> "line:column:callee" -> site index */
  const siteIndex = new Map<string, Map<string, number>>();
  const tracedIds = new IdBits();
  const tracedPromises = new IdBits();
  let promiseType = -1;
  /** The type initAny looked up last, and its index, for init's fast path. */
  let lastType = '';
  let lastTypeIndex = -1;
  let promises = 0;
  let allCreated = 0;
  let callbacks = 0;
  let stored = 0;
  let dropped = 0;
  let recording = true;
  const { maxEvents, stackLimit, firstStackLimit, destroyUntilPromises } = limits;
  const fullOf: number[] = [];
  const everyOf: number[] = [];
  /** Per type, resources created per trigger site (index: site + 2; 1 = no site; 0 = trigger not traced). */
  const groupCounts: Uint32Array[] = [];
  /** Per type and group, past the full window: resources until the next traced one, and its weight. */
  const groupGaps: Uint32Array[] = [];
  const groupWeights: Uint16Array[] = [];
  // xorshift32: cheap, and the same sequence in every run
  let random = 0x9e3779b9 | 0;
  /** Trials until the first success at probability 1 / every (at least 1). */
  function nextGap(every: number): number {
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    const uniform = ((random >>> 0) + 1) / 4294967296;
    return 1 + Math.floor(Math.log(uniform) / Math.log(1 - 1 / every));
  }
  // The sites of recently traced resources, by async id: a direct-mapped cache, as triggers are
  // nearly always recent. An evicted or untraced trigger puts the resource in its type's group 0.
  const recentIds = new Float64Array(RECENT);
  const recentSites = new Int32Array(RECENT);

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
    resolveSource: 'async_hooks',
    destroy: { promisesUntil: null, hookOffAt: null, reason: null, reinstalled: 0 },
    enabledAt: 0,
    disabledAt: null,
  };

  // The first frame of the program's own code: not node: internals, not node_modules, not ours.
  // Returns a site index (the Error's `stack` becomes this number), -1 when there is none, DEEPER
  // when the frames captured so far hold none and the stack goes on past them.
  const holder: { stack?: unknown } = {};
  let captured = 0; // frames asked for by the current capture
  function pickSite(_error: unknown, frames: NodeJS.CallSite[]): number {
    let dependency: NodeJS.CallSite | undefined;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i];
      const url = frame.getFileName();
      // WebAssembly frames (Node's own HTTP parser among them) have no source line to point at.
      if (!url || url.startsWith('node:') || url.startsWith('wasm://') || skipUrl(url)) continue;
      if (url.includes('/node_modules/') || url.includes('\\node_modules\\')) {
        dependency ??= frame;
        continue;
      }
      return intern(frame, url, false, calleeOf(frames, i));
    }
    if (frames.length === captured && captured < stackLimit) return DEEPER;
    return dependency ? intern(dependency, dependency.getFileName() as string, true, '') : -1;
  }
  /**
   * The function the program's frame `at` was calling: the nearest frame above it with a script
   * (frames without one are V8's builtins), leaving out Node's async hooks, which run the recorder.
   */
  function calleeOf(frames: NodeJS.CallSite[], at: number): string {
    for (let j = at - 1; j >= 0; j--) {
      const url = frames[j].getFileName();
      if (!url || url === ASYNC_HOOKS_SCRIPT) continue;
      return frames[j].getFunctionName() ?? frames[j].getMethodName() ?? '';
    }
    return '';
  }
  function intern(frame: NodeJS.CallSite, url: string, dependency: boolean, callee: string): number {
    const line = frame.getLineNumber() ?? 0;
    const column = frame.getColumnNumber() ?? 0;
    let inUrl = siteIndex.get(url);
    if (inUrl === undefined) siteIndex.set(url, (inUrl = new Map()));
    const key = `${line}:${column}:${callee}`;
    let i = inUrl.get(key);
    if (i === undefined) {
      i = sites.length;
      sites.push({ url, line, column, function: frame.getFunctionName() ?? frame.getMethodName() ?? '', dependency, callee });
      inUrl.set(key, i);
    }
    return i;
  }
  function captureSite(): number {
    const savedLimit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    Error.prepareStackTrace = pickSite;
    Error.stackTraceLimit = captured = firstStackLimit;
    Error.captureStackTrace(holder, init);
    let site = holder.stack as number;
    if (site === DEEPER) {
      Error.stackTraceLimit = captured = stackLimit;
      Error.captureStackTrace(holder, init);
      site = holder.stack as number;
    }
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = savedLimit;
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

  let probing = Probe.None;
  let asyncIdSymbol: symbol | undefined;
  /** Destroys of promises created up to this async id are recorded (Node tracked them). */
  let promiseDestroysUntilId = Infinity;
  /** Node stopped tracking promises created after this async id (the latest time it was told to). */
  let untrackedSinceId = Infinity;
  function probe(asyncId: number, resource: object): void {
    ownIds.add(asyncId);
    if (probing === Probe.AsyncIdSymbol) {
      for (const s of Object.getOwnPropertySymbols(resource)) {
        if (s.description === 'async_id_symbol' && (resource as Record<symbol, unknown>)[s] === asyncId) asyncIdSymbol = s;
      }
    } else if (probing === Probe.Destroy) {
      destroyHook.enable();
      untrackedSinceId = asyncId;
      if (promiseDestroysUntilId === Infinity) promiseDestroysUntilId = asyncId;
    }
  }

  // Most resources of a busy program are skipped by sampling: this path is kept small enough for V8
  // to inline it into Node's hook dispatch; everything else goes to initAny.
  function init(asyncId: number, type: string, triggerAsyncId: number, resource: object): void {
    // A promise, or a resource of the type seen last (ticks, immediates: they come in runs).
    const t = type === 'PROMISE' ? promiseType : type === lastType ? lastTypeIndex : -1;
    if (t >= 0 && probing === Probe.None) {
      const slot = triggerAsyncId & (RECENT - 1);
      const group = recentIds[slot] === triggerAsyncId ? recentSites[slot] : 0;
      const gaps = groupGaps[t];
      const left = group < gaps.length ? gaps[group] : 0;
      // Gaps are drawn only past a group's full window: the same as initAny's skip.
      if (left > 1) {
        gaps[group] = left - 1;
        groupCounts[t][group]++;
        created[t]++;
        allCreated++;
        if (t === promiseType && ++promises === destroyUntilPromises) stopPromiseDestroys();
        return;
      }
    }
    initAny(asyncId, type, triggerAsyncId, resource);
  }
  function initAny(asyncId: number, type: string, triggerAsyncId: number, resource: object): void {
    if (probing !== Probe.None) return probe(asyncId, resource);
    allCreated++;
    let t: number;
    if (type === 'PROMISE' && promiseType >= 0) {
      t = promiseType;
      if (++promises === destroyUntilPromises) stopPromiseDestroys();
    } else {
      let found = typeIndex.get(type);
      if (found === undefined) found = newType(type);
      t = found;
      if (t === promiseType && ++promises === destroyUntilPromises) stopPromiseDestroys();
      lastType = type;
      lastTypeIndex = t;
    }
    created[t]++;
    const slot = triggerAsyncId & (RECENT - 1);
    const group = recentIds[slot] === triggerAsyncId ? recentSites[slot] : 0;
    let counts = groupCounts[t];
    if (group >= counts.length) counts = growGroups(t, group);
    const n = ++counts[group];
    const full = fullOf[t];
    let weight = 1;
    if (n > full) {
      const gaps = groupGaps[t];
      const left = gaps[group];
      if (left > 1) {
        gaps[group] = left - 1;
        return;
      }
      const weights = groupWeights[t];
      if (left === 0) {
        // The first past the full window: draw the first gap.
        weights[group] = samplingEvery(n, full, everyOf[t]);
        gaps[group] = nextGap(weights[group]);
        if (gaps[group] > 1) {
          gaps[group]--;
          return;
        }
      }
      weight = weights[group];
      weights[group] = samplingEvery(n, full, everyOf[t]);
      gaps[group] = nextGap(weights[group]);
    }
    if (stored >= maxEvents) {
      dropped++;
      return;
    }
    traced[t]++;
    tracedIds.add(asyncId);
    if (t === promiseType) tracedPromises.add(asyncId);
    if (resources.at === CHUNK) resources.grow();
    const at = resources.at++;
    const site = captureSite();
    resources.trigger[at] = triggerAsyncId;
    resources.type[at] = t;
    resources.site[at] = site;
    resources.weight[at] = weight;
    resources.length++;
    const own = asyncId & (RECENT - 1);
    recentIds[own] = asyncId;
    recentSites[own] = site + 2;
    push(EventKind.Init, asyncId);
  }
  function newType(type: string): number {
    const t = types.length;
    typeIndex.set(type, t);
    types.push(type);
    created.push(0);
    traced.push(0);
    if (type === 'PROMISE') promiseType = t;
    const sampling = type === 'PROMISE' ? limits.promises : TASK_TYPES.has(type) ? limits.tasks : limits.others;
    fullOf.push(sampling.full);
    everyOf.push(sampling.every);
    groupCounts.push(new Uint32Array(64));
    groupGaps.push(new Uint32Array(64));
    groupWeights.push(new Uint16Array(64));
    return t;
  }
  function growGroups(t: number, group: number): Uint32Array {
    let size = groupCounts[t].length * 2;
    while (size <= group) size *= 2;
    const bigger = new Uint32Array(size);
    bigger.set(groupCounts[t]);
    groupCounts[t] = bigger;
    const gaps = new Uint32Array(size);
    gaps.set(groupGaps[t]);
    groupGaps[t] = gaps;
    const weights = new Uint16Array(size);
    weights.set(groupWeights[t]);
    groupWeights[t] = weights;
    return bigger;
  }

  const hook: AsyncHook = createHook({
    init,
    before(asyncId) {
      callbacks++;
      if (tracedIds.has(asyncId)) push(EventKind.Before, asyncId);
    },
    after(asyncId) {
      if (tracedIds.has(asyncId)) push(EventKind.After, asyncId);
    },
  });
  // Only when Node's async id cannot be read from a promise.
  const resolveHook: AsyncHook = createHook({
    promiseResolve(asyncId) {
      if (tracedIds.has(asyncId)) push(EventKind.Resolve, asyncId);
    },
  });
  function settled(promise: Promise<unknown>): void {
    const id = (promise as unknown as Record<symbol, number | undefined>)[asyncIdSymbol as symbol];
    if (id !== undefined && tracedIds.has(id)) push(EventKind.Resolve, id);
  }
  let stopSettled: (() => void) | null = null;

  const destroyHook: AsyncHook = createHook({
    destroy(asyncId) {
      if (!tracedIds.has(asyncId)) return;
      if (asyncId > promiseDestroysUntilId && tracedPromises.has(asyncId)) {
        // Created after Node was told to stop tracking promises, and tracked all the same.
        if (asyncId > untrackedSinceId) retrack();
        return;
      }
      push(EventKind.Destroy, asyncId);
    },
  });

  // Node chooses its promise hook (with or without a weak reference per promise for destroy) when a
  // hook is enabled, from the hooks enabled at that moment; a hook enabled from inside a hook
  // callback is added to a copy that takes effect when the callback returns. So the destroy hook is
  // disabled, then enabled again from inside the recorder's own init (for a probe promise): Node
  // keeps its promise hook without destroy tracking, and the destroy hook applies again to every
  // other type (and to the promises Node tracked already). Run from a microtask: outside any hook
  // callback, since a program that only chains promises never lets a timer run.
  function stopPromiseDestroys(): void {
    queueMicrotask(() => {
      ownIds.add(executionAsyncId());
      if (!recording || record.destroy.hookOffAt !== null) return;
      destroyHook.disable();
      probing = Probe.Destroy;
      void Promise.resolve();
      probing = Probe.None;
      record.destroy.promisesUntil ??= performance.now();
      retracking = false;
    });
  }
  let retracking = false;
  function retrack(): void {
    if (retracking || record.destroy.hookOffAt !== null) return;
    retracking = true;
    if (record.destroy.reinstalled >= MAX_REINSTALLS) {
      queueMicrotask(() => {
        ownIds.add(executionAsyncId());
        destroyOff(
          `Node kept a weak reference on every promise for destroy events (another destroy hook, or hooks enabled again and again): turned off after ${MAX_REINSTALLS} tries`,
        );
      });
      return;
    }
    record.destroy.reinstalled++;
    stopPromiseDestroys();
  }
  // Also from a microtask: Node re-chooses its promise hook only when a hook is enabled.
  function destroyOff(reason: string): void {
    if (!recording) return;
    record.destroy.hookOffAt = performance.now();
    record.destroy.reason = reason;
    destroyHook.disable();
    const refresh = createHook({});
    refresh.enable();
    refresh.disable();
  }

  record.enabledAt = performance.now();
  hook.enable();
  probing = Probe.AsyncIdSymbol;
  void Promise.resolve();
  probing = Probe.None;
  if (asyncIdSymbol) {
    stopSettled = promiseHooks.onSettled(settled) as () => void;
    record.resolveSource = 'v8.promiseHooks';
  } else {
    resolveHook.enable();
  }
  destroyHook.enable();

  return {
    record,
    counts: () => ({ created: allCreated, promises, callbacks }),
    disable() {
      if (record.disabledAt !== null) return;
      recording = false;
      hook.disable();
      resolveHook.disable();
      destroyHook.disable();
      stopSettled?.();
      record.disabledAt = performance.now();
      record.callbacks = callbacks;
      record.droppedEvents = dropped;
    },
  };
}
