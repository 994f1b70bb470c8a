// Measurements over a `collect` recording that several detectors share: off-CPU time in a window,
// how late the loop's timers ran, the tasks (callbacks) that filled a busy stretch, and the wait
// represented by an async resource. Times are milliseconds on the CPU profile's clock.

import type { AsyncResources, AsyncTrace, Series, SourceLookup } from '../recording/model.js';
import type { Stretch } from './timeline.js';
import { THRESHOLDS } from './thresholds.js';

/** Value of a cumulative series column at time t, linearly interpolated (clamped at the ends). */
function cumulativeAt(records: Float64Array, width: number, column: number, t: number): number {
  const n = records.length / width;
  if (n === 0) return NaN;
  if (t <= records[0]) return records[column];
  if (t >= records[(n - 1) * width]) return records[(n - 1) * width + column];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (records[mid * width] <= t) lo = mid;
    else hi = mid;
  }
  const t0 = records[lo * width];
  const t1 = records[hi * width];
  const v0 = records[lo * width + column];
  const v1 = records[hi * width + column];
  return t1 > t0 ? v0 + ((v1 - v0) * (t - t0)) / (t1 - t0) : v0;
}

export interface CpuWindow {
  elapsedMs: number;
  onCpuMs: number;
  /** Runnable but waiting for a CPU (a loaded machine, not the program's doing). */
  runQueueMs: number;
  /** Neither running nor runnable: sleeping or blocked in a system call. */
  asleepMs: number;
}

/** The main thread's scheduler time in [t0, t1], or null without schedstat samples covering it. */
export function cpuWindow(series: Series, t0: number, t1: number): CpuWindow | null {
  const s = series.schedstat;
  if (s.length < 6 || t1 <= t0) return null;
  // Only windows the samples cover: outside them the values are clamped and would read as asleep.
  if (t1 < s[0] || t0 > s[s.length - 3]) return null;
  const a = Math.max(t0, s[0]);
  const b = Math.min(t1, s[s.length - 3]);
  if (b <= a) return null;
  const elapsedMs = b - a;
  const onCpuMs = Math.min(elapsedMs, Math.max(0, cumulativeAt(s, 3, 1, b) - cumulativeAt(s, 3, 1, a)));
  const runQueueMs = Math.min(elapsedMs - onCpuMs, Math.max(0, cumulativeAt(s, 3, 2, b) - cumulativeAt(s, 3, 2, a)));
  return { elapsedMs, onCpuMs, runQueueMs, asleepMs: Math.max(0, elapsedMs - onCpuMs - runQueueMs) };
}

/**
 * How long timers that fell due were held up by work in [t0, t1]: the recorder's heartbeat fires
 * every few milliseconds, so a beat falls due during any busy stretch longer than its period. A
 * beat fired at t, L ms late, was due at t - L and waited through [t - L, t]; the part of that wait
 * inside the window is what the window cost it. NaN when no beat fired during or after the window.
 */
export function timerLateness(series: Series, t0: number, t1: number): number {
  const d = series.drift;
  // No beat fired during or after the window (the program ended with it): unknown.
  let late = NaN;
  for (let i = lowerBound(d, 2, t0); i < d.length; i += 2) {
    const t = d[i];
    const due = t - d[i + 1];
    if (due > t1 + THRESHOLDS.heartbeatSlackMs) break;
    const held = Math.max(0, Math.min(t, t1) - Math.max(due, t0));
    if (!(held <= late)) late = held;
  }
  return late;
}

/** First record index (multiplied by width) whose time is >= t. */
function lowerBound(records: Float64Array, width: number, t: number): number {
  let lo = 0;
  let hi = records.length / width;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (records[mid * width] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo * width;
}

/** First resource row created at or after t (resources are in init order). */
export function firstResourceAt(res: AsyncResources, t: number): number {
  let lo = 0;
  let hi = res.count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (res.init[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The wait a resource stands for: from its creation until it resolved or its first callback ran,
 * whichever came first (a timer's callback, an I/O completion, an awaited promise settling).
 * NaN when it never ended while recording.
 */
export function waitOf(res: AsyncResources, row: number): number {
  const r = res.resolveAfter[row];
  const c = res.callbackAfter[row];
  if (Number.isNaN(r)) return c;
  if (Number.isNaN(c)) return r;
  return Math.min(r, c);
}

/**
 * The operation a resource waited for, as [start, end]: usually its wait (waitOf). A promise whose
 * handler ran and returned a pending promise (a `.then` step of a chain built up front) resolved
 * only later: its own operation is from its handler to its resolution; the time before the handler
 * was the previous step's. Null when it never ended.
 */
export function operationOf(res: AsyncResources, row: number, minMs: number): [number, number] | null {
  const init = res.init[row];
  const r = res.resolveAfter[row];
  const c = res.callbackAfter[row];
  // Pending well after its handler returned (not just while the handler ran: an await's own
  // promise settles as its continuation finishes).
  if (!Number.isNaN(r) && !Number.isNaN(c) && r - c - res.callbackMs[row] >= minMs) return [init + c, init + r];
  const w = waitOf(res, row);
  return Number.isNaN(w) ? null : [init, init + w];
}

/** Row of an async id (resources are in ascending id order), -1 when it was not traced. */
export function rowOf(res: AsyncResources, asyncId: number): number {
  let lo = 0;
  let hi = res.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = res.id[mid];
    if (v === asyncId) return mid;
    if (v < asyncId) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Resource types that stand for one await of the program: a Node promise, or an await a Python
 * task was suspended in (the Python recorder's "await").
 */
export const isAwaitType = (name: string | undefined) => name === 'PROMISE' || name === 'await';

/** The program is Python: the culprit's file is a Python source (remedies name asyncio's APIs). */
export const isPythonFile = (file: string) => /\.py[w]?$/.test(file);

/** A user site, where the program's own code created resources. */
export const isUserSite = (res: AsyncResources, site: number) => site >= 0 && !res.sites[site].dependency;

/** The tasks that ran in a busy stretch of the loop, from the recorded callbacks. */
export interface StretchTasks {
  /** Callbacks that started in the stretch (weighted by sampling) and the traced ones among them. */
  callbacks: number;
  traced: number;
  longestMs: number;
  /** Time-weighted median duration of the callbacks: half the callback time is in callbacks at least this long. */
  typicalMs: number;
  /** Time in callbacks, their own time (nested callbacks apart), sampled ones weighted; capped at the stretch's duration. */
  coveredMs: number;
  /** Resources created in the stretch (weighted), and the user site that created the most. */
  created: number;
  topSite: number;
  topSiteCreated: number;
  /**
   * Most of the top site's (traced) resources pending at once: 1-2 for one task that re-queues
   * itself (each await or tick created after the previous one ended), thousands for a fan-out.
   */
  topSiteConcurrency: number;
  /** How long timers that fell due were held up by the stretch (ms); NaN when the program ended before a timer could run. */
  lateMs: number;
  /** Share of the stretch the thread spent on a CPU or asleep, not waiting for a CPU (1 without scheduler data). */
  cpuShare: number;
  /** Time waiting for a CPU during the stretch (a loaded machine). */
  runQueueMs: number;
}

/** Task statistics for each stretch of at least `minMs`; other stretches get null. */
export function stretchTasks(trace: AsyncTrace, stretches: Stretch[], minMs: number): (StretchTasks | null)[] {
  const { resources: res, callbacks: cbs, series } = trace;
  const long = stretches.map((s, i) => (s.duration >= minMs ? i : -1)).filter((i) => i >= 0);
  const out: (StretchTasks | null)[] = stretches.map(() => null);
  if (!long.length) return out;
  const durations: number[][] = long.map(() => []);
  const stats = long.map((): StretchTasks => ({
    callbacks: 0,
    traced: 0,
    longestMs: 0,
    typicalMs: 0,
    coveredMs: 0,
    created: 0,
    topSite: -1,
    topSiteCreated: 0,
    topSiteConcurrency: 0,
    lateMs: 0,
    cpuShare: 1,
    runQueueMs: 0,
  }));
  const starts = long.map((i) => stretches[i].start);
  // One pass over the callbacks, each placed in the long stretch it started in (if any).
  for (let k = 0; k < cbs.count; k++) {
    const t = cbs.start[k];
    let lo = 0;
    let hi = starts.length - 1;
    let j = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= t) {
        j = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (j < 0) continue;
    const s = stretches[long[j]];
    if (t > s.start + s.duration) continue;
    const st = stats[j];
    const d = cbs.self[k];
    // A callback of a resource traced 1 in K stands for K callbacks like it.
    const w = res.weight[cbs.resource[k]];
    st.callbacks += w;
    st.traced++;
    st.longestMs = Math.max(st.longestMs, d);
    st.coveredMs += d * w;
    durations[j].push(d, w);
  }
  long.forEach((i, j) => {
    const s = stretches[i];
    const st = stats[j];
    st.coveredMs = Math.min(st.coveredMs, s.duration);
    // Time-weighted median: sort (duration, weight) pairs by duration.
    const pairs = durations[j];
    const order = Array.from({ length: pairs.length / 2 }, (_, q) => q).sort((a, b) => pairs[2 * a] - pairs[2 * b]);
    let total = 0;
    for (const q of order) total += pairs[2 * q] * pairs[2 * q + 1];
    let acc = 0;
    for (const q of order) {
      acc += pairs[2 * q] * pairs[2 * q + 1];
      if (acc >= total / 2) {
        st.typicalMs = pairs[2 * q];
        break;
      }
    }
    const bySite = new Map<number, number>();
    const end = s.start + s.duration;
    const first = firstResourceAt(res, s.start);
    let r = first;
    for (; r < res.count && res.init[r] <= end; r++) {
      st.created += res.weight[r];
      const site = res.site[r];
      if (isUserSite(res, site)) bySite.set(site, (bySite.get(site) ?? 0) + res.weight[r]);
    }
    for (const [site, n] of bySite) {
      if (n > st.topSiteCreated) {
        st.topSite = site;
        st.topSiteCreated = n;
      }
    }
    st.topSiteConcurrency = maxPending(res, first, r, st.topSite);
    st.lateMs = timerLateness(series, s.start, end);
    const cpu = cpuWindow(series, s.start, end);
    if (cpu && cpu.elapsedMs > 0) {
      st.runQueueMs = cpu.runQueueMs;
      st.cpuShare = 1 - cpu.runQueueMs / cpu.elapsedMs;
    }
    out[i] = st;
  });
  return out;
}

/** Most resources of `site` among rows [from, to) pending at one time (a resource that never ended counts to the end). */
function maxPending(res: AsyncResources, from: number, to: number, site: number): number {
  if (site < 0) return 0;
  const ends: number[] = [];
  let most = 0;
  // Rows are in init order; a min-heap of end times would do, but the pending set is small when it matters.
  for (let r = from; r < to; r++) {
    if (res.site[r] !== site) continue;
    const t = res.init[r];
    let k = 0;
    for (let j = 0; j < ends.length; j++) if (ends[j] > t) ends[k++] = ends[j];
    ends.length = k;
    const w = waitOf(res, r);
    ends.push(Number.isNaN(w) ? Infinity : t + w);
    most = Math.max(most, ends.length);
    if (most > THRESHOLDS.concurrencyCap) return most;
  }
  return most;
}

/** A stretch is one synchronous call (blocking) unless it is made of many short callbacks. */
export function manyShortTasks(tasks: StretchTasks | null, durationMs: number): boolean {
  // On a loaded machine every callback takes longer by the time it waited for a CPU.
  return (
    tasks !== null &&
    tasks.traced >= THRESHOLDS.manyTasksMin &&
    tasks.typicalMs * tasks.cpuShare < THRESHOLDS.shortTaskMs &&
    tasks.coveredMs >= THRESHOLDS.manyTasksCoverage * durationMs
  );
}

/**
 * A Python stretch of many task steps none of which was long: the loop's own work between tiny
 * steps (its timer heap, the selector, creating tasks) is large next to them, so the steps cover
 * little of the stretch, yet no single call is to blame (context switching, not blocking).
 */
export function manyShortSteps(tasks: StretchTasks | null): boolean {
  return (
    tasks !== null &&
    tasks.traced >= THRESHOLDS.manyTasksMin &&
    tasks.longestMs < THRESHOLDS.blockingStretchMs &&
    tasks.typicalMs * tasks.cpuShare < THRESHOLDS.shortTaskMs
  );
}

/** Known names a profile gives to APIs whose user-facing name differs (zlib's convenience methods). */
const CALL_PATTERNS: Record<string, RegExp> = {
  syncBufferWrapper: /\b((?:gzip|gunzip|deflate|inflate|deflateRaw|inflateRaw|unzip|brotliCompress|brotliDecompress)Sync)\s*\(/,
  zlibBufferSync: /\b((?:gzip|gunzip|deflate|inflate|deflateRaw|inflateRaw|unzip|brotliCompress|brotliDecompress)Sync)\s*\(/,
};

/**
 * The line of a call to `callee` in the function that starts at `line` of `file` (the first call
 * after the function's start, within `maxLines`), and the name the source gives it; null when the
 * source cannot be read or has no such call.
 */
export function callLine(
  source: SourceLookup | undefined,
  file: string,
  line: number,
  callee: string,
  maxLines: number = THRESHOLDS.callSearchLines,
): { line: number; column: number; name: string } | null {
  if (!source || !callee || !file) return null;
  const lines = source.lines(file);
  if (!lines) return null;
  const escaped = callee.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = (Object.hasOwn(CALL_PATTERNS, callee) ? CALL_PATTERNS[callee] : undefined) ?? new RegExp(`(?:^|[^\\w$])(${escaped})\\s*\\(`);
  const from = Math.max(0, line - 1);
  // A module's top-level code starts at its first line and runs to its end.
  const to = line <= 1 ? lines.length : Math.min(lines.length, from + maxLines);
  for (let i = from; i < to; i++) {
    const text = lines[i];
    const m = pattern.exec(text);
    if (!m) continue;
    const comment = text.indexOf('//');
    const at = text.indexOf(m[1], m.index);
    if (comment >= 0 && comment < at) continue;
    return { line: i + 1, column: at + 1, name: m[1] };
  }
  return null;
}

/** Idle time of the main thread in [t0, t1] from the profile's timeline (entries overlapping the window, pro rata). */
export function idleBetween(timeline: { count: number; start: Float64Array; duration: Float64Array; idle: Float64Array }, t0: number, t1: number): number {
  let lo = 0;
  let hi = timeline.count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timeline.start[mid] + timeline.duration[mid] <= t0) lo = mid + 1;
    else hi = mid;
  }
  let idle = 0;
  for (let k = lo; k < timeline.count && timeline.start[k] < t1; k++) {
    const s = timeline.start[k];
    const d = timeline.duration[k];
    if (d <= 0) continue;
    const overlap = Math.min(t1, s + d) - Math.max(t0, s);
    if (overlap > 0) idle += (timeline.idle[k] * overlap) / d;
  }
  return idle;
}

/**
 * Busy stretches in which one task re-queued itself in short steps while timers fell due:
 * the loop starved (many short callbacks, none to blame alone; the steps created one after another
 * from one site, never many pending at once; the heartbeat ran late). Shared by `starvation` (which reports them) and
 * `context-switching` (which leaves them alone).
 */
export function starvedStretches(evidence: {
  stretches: Stretch[];
  tasks: (StretchTasks | null)[];
}): { stretch: Stretch; tasks: StretchTasks }[] {
  const out: { stretch: Stretch; tasks: StretchTasks }[] = [];
  evidence.stretches.forEach((stretch, i) => {
    const tasks = evidence.tasks[i];
    if (!tasks || !manyShortTasks(tasks, stretch.duration)) return;
    if (!(tasks.lateMs >= THRESHOLDS.starvationLateMs) || tasks.topSite < 0) return;
    if (tasks.topSiteCreated < THRESHOLDS.manyTasksMin || tasks.topSiteConcurrency > THRESHOLDS.starvationMaxConcurrency) return;
    out.push({ stretch, tasks });
  });
  return out;
}
