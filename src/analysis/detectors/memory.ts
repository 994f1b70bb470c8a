// `memory`: concurrent tasks each hold large data at once. Needs a recording: the memory series
// (heap used + external memory, which holds Buffers and ArrayBuffers), the async trace (how many
// tasks were waiting at the peak, and where), the heap profile (which function of the program
// allocated the most) and the GC share.
//
// Where the bytes were allocated: V8's sampling heap profile names the allocating function (not
// the line) and never sees Buffer contents, which live outside the JavaScript heap. So for heap
// growth the finding points at the heap profile's top function of the program, on the line the CPU
// profile sampled most in it; for external growth, at the call of an allocating API (Buffer.alloc,
// readFile, ...) that the CPU profile caught, else at the allocation that precedes the await the
// tasks were holding their data across, found in the source when it can be read. A Python
// recording's heap profile (tracemalloc in short windows) names the line itself; it is used when its
// top site holds a fair share of the growth (else the windows missed it), the source otherwise.

import type { Finding, Profile } from '../../model.js';
import type { AsyncTrace, HeapSummary, SourceLookup } from '../../recording/model.js';
import { round } from '../../reports/json.js';
import { mainLine, type Attribution } from '../ratios.js';
import { callLine, isAwaitType, isPythonFile, isUserSite, waitOf } from '../recorded.js';
import { THRESHOLDS } from '../thresholds.js';
import type { Detector } from './index.js';

/** Functions of Node's Buffer and fs APIs that allocate memory outside the JavaScript heap. */
const ALLOCATING = new Set(['alloc', 'allocUnsafe', 'allocUnsafeSlow', 'from', 'concat', 'fill', 'readFile', 'readFileSync', 'ArrayBuffer', 'createUnsafeBuffer']);
/** An allocation in source text, for the line before an await. */
const ALLOCATION_TEXT =
  /\b(Buffer\.(alloc|allocUnsafe|allocUnsafeSlow|from|concat)|readFileSync|readFile|new (ArrayBuffer|SharedArrayBuffer|Array|\w+Array|Map|Set)\b|Array\.from|\.repeat|JSON\.parse|\.fill|\.map|\.split)\s*\(/;

/** The same in Python source: a sequence repeated, a buffer or list built, a file or a body read whole. */
const PYTHON_ALLOCATION_TEXT = /(\*\s*\(?\s*[\d_]+|\b(bytearray|bytes|list|dict)\(|\.(read|readlines|encode|decode|join|loads|load|tobytes)\()/;

const MB = 1 << 20;

interface Location {
  file: string;
  line: number;
  column: number;
  function: string;
  how: string;
}

export const memory: Detector = ({ analysis, attribution, recording, source }) => {
  const trace = recording?.trace;
  if (!trace) return [];
  const m = trace.series.memory;
  const n = m.length / 6;
  if (n < 2) return [];
  let peak = 0;
  let minHeld = Infinity;
  let minHeap = Infinity;
  let minExternal = Infinity;
  for (let i = 0; i < n; i++) {
    const heap = m[i * 6 + 1];
    const external = m[i * 6 + 3];
    const held = heap + external;
    if (held > m[peak * 6 + 1] + m[peak * 6 + 3]) peak = i;
    minHeld = Math.min(minHeld, held);
    minHeap = Math.min(minHeap, heap);
    minExternal = Math.min(minExternal, external);
  }
  const heapAtPeak = m[peak * 6 + 1];
  const externalAtPeak = m[peak * 6 + 3];
  // A process that allocates before the first sample never shows its low point: compare with what
  // a fresh process holds at most.
  const baseline = Math.min(minHeld, THRESHOLDS.memoryFreshProcessBytes);
  const growth = heapAtPeak + externalAtPeak - baseline;
  if (growth < THRESHOLDS.memoryInfoBytes) return [];
  const heapGrowth = heapAtPeak - Math.min(minHeap, THRESHOLDS.memoryFreshProcessBytes);
  const externalGrowth = externalAtPeak - Math.min(minExternal, THRESHOLDS.memoryFreshProcessBytes);

  // Memory stays high after the tasks end until a GC runs: look for the holders when the level was
  // first reached.
  let reached = peak;
  for (let i = 0; i < peak; i++) {
    if (m[i * 6 + 1] + m[i * 6 + 3] - baseline >= THRESHOLDS.memoryPeakReached * growth) {
      reached = i;
      break;
    }
  }
  const holders = pendingAt(trace, m[reached * 6]);
  const concurrency = holders ? holders.count : 1;
  const perTask = growth / Math.max(1, concurrency);
  const concurrent = concurrency >= THRESHOLDS.memoryMinConcurrent && perTask >= THRESHOLDS.memoryMinPerTaskBytes;
  const severity: Finding['severity'] =
    concurrent && growth >= THRESHOLDS.memoryCriticalBytes
      ? 'critical'
      : (concurrent && growth >= THRESHOLDS.memoryWarningBytes) || growth >= THRESHOLDS.memoryAloneWarningBytes
        ? 'warning'
        : 'info';

  const external = externalGrowth > heapGrowth;
  const where =
    (external
      ? externalSite(analysis.profile, attribution, source) ?? beforeAwait(trace, holders?.site, source)
      : heapSite(analysis.profile, recording.heap, growth)) ??
    beforeAwait(trace, holders?.site, source);
  if (!where) return [];

  let gcMs = 0;
  for (let i = 1; i < trace.series.gc.length; i += 2) gcMs += trace.series.gc[i];
  const wall = analysis.totals.wallMs;
  const holderSite = holders ? trace.resources.sites[holders.site] : undefined;
  const what = external ? 'Buffers / ArrayBuffers' : typeof trace.metadata.raw.python === 'string' ? 'resident memory' : 'JavaScript heap';
  const impactBytes = Math.round(concurrency > 1 ? growth - perTask : growth);
  return [
    {
      kind: 'memory',
      severity,
      title: concurrent
        ? `${concurrency} concurrent tasks each hold about ${fmt(perTask)} (${fmt(growth)} at the peak)`
        : `Memory grows by ${fmt(growth)} (${what})`,
      location: { file: where.file, line: where.line, column: where.column, function: where.function },
      impactBytes,
      evidence: {
        peakHeldBytes: Math.round(heapAtPeak + externalAtPeak),
        growthBytes: Math.round(growth),
        heapGrowthBytes: Math.round(heapGrowth),
        externalGrowthBytes: Math.round(externalGrowth),
        arrayBuffersAtPeakBytes: Math.round(m[peak * 6 + 4]),
        rssAtPeakBytes: Math.round(m[peak * 6 + 5]),
        concurrentTasks: concurrency,
        bytesPerTask: Math.round(perTask),
        ...(holderSite ? { heldAcross: `${holderSite.file}:${holderSite.line}` } : {}),
        gcMs: round(gcMs),
        gcShare: round(wall > 0 ? gcMs / wall : 0),
        allocationFrom: where.how,
        source: 'recording',
      },
      suggestion: concurrent
        ? `${concurrency} tasks were waiting at the same await (line ${holderSite?.line}) while each held about ${fmt(perTask)} allocated here, ` +
          `${fmt(growth)} in all. Limit how many run at once (${isPythonFile(where.file) ? 'an asyncio.Semaphore, or a few worker tasks reading an asyncio.Queue' : 'a pool of a few'}), stream the data instead of holding it whole, ` +
          `or release it (${isPythonFile(where.file) ? '`del` it' : 'drop the reference'}) before awaiting.`
        : `The program held ${fmt(growth)} more at its peak than at its lowest (${what}). Stream large data instead of holding it whole, ` +
          `and release references before long awaits.`,
      during: [[m[reached * 6], m[peak * 6]]],
    },
  ];
};

const fmt = (bytes: number) => (bytes >= 10 * MB ? `${Math.round(bytes / MB)} MB` : `${(bytes / MB).toFixed(1)} MB`);

/**
 * Where tasks were waiting at time t: the user site (and resource type) with the most resources
 * pending then that a callback would resume, weighted. One await makes a few resources of
 * different types (a timer, its promise, the await's own promise); one type counts each task once.
 */
function pendingAt(trace: AsyncTrace, t: number): { site: number; count: number } | null {
  const res = trace.resources;
  // A resource traced 1 in K stands for K over the run, not K at once: a group's weights count only
  // once enough of its traced resources are pending together to show it is concurrent.
  const byKey = new Map<number, { site: number; count: number; traced: number }>();
  for (let r = 0; r < res.count && res.init[r] <= t; r++) {
    const site = res.site[r];
    if (!isUserSite(res, site)) continue;
    const wait = waitOf(res, r);
    if (!Number.isNaN(wait) && res.init[r] + wait < t) continue;
    const resumes = res.callbackAfter[r];
    // Settled without a callback of its own (a Python await is resumed by its task's step instead).
    if (!Number.isNaN(wait) && Number.isNaN(resumes) && res.types[res.type[r]] !== 'await') continue;
    const key = site * 65536 + res.type[r];
    const g = byKey.get(key);
    if (g) {
      g.count += res.weight[r];
      g.traced++;
    } else byKey.set(key, { site, count: res.weight[r], traced: 1 });
  }
  for (const g of byKey.values()) if (g.traced < THRESHOLDS.memoryMinConcurrent) g.count = g.traced;
  // A promise-only group may be bookkeeping around the tasks (Promise.all's own promises); an
  // operation the tasks wait for (a timer, a socket, a file) names the await better.
  let promise: { site: number; count: number } | null = null;
  let other: { site: number; count: number } | null = null;
  for (const [key, g] of byKey) {
    if (isAwaitType(res.types[key % 65536])) {
      if (!promise || g.count > promise.count) promise = g;
    } else if (!other || g.count > other.count) other = g;
  }
  return other && (!promise || other.count >= 0.5 * promise.count) ? other : promise;
}

/** External memory: the user call of an allocating API the CPU profile sampled most. */
function externalSite(profile: Profile, attribution: Attribution, source: SourceLookup | undefined): Location | null {
  const score = new Map<string, { node: number; callee: string; ms: number }>();
  for (let i = 0; i < profile.nodeParent.length; i++) {
    const ms = profile.nodeSelfMs[i];
    const target = attribution.charged[i];
    if (ms <= 0 || target === i || profile.frames[profile.nodeFrame[target]].kind !== 'user') continue;
    // The API the user frame called, and whether an allocating function is on the way down.
    let child = i;
    let allocating = false;
    while (child >= 0 && profile.nodeParent[child] !== target) {
      if (ALLOCATING.has(profile.frames[profile.nodeFrame[child]].name)) allocating = true;
      child = profile.nodeParent[child];
    }
    if (child < 0) continue;
    const callee = profile.frames[profile.nodeFrame[child]].name;
    if (!allocating && !ALLOCATING.has(callee)) continue;
    const key = `${target}\u0000${callee}`;
    const s = score.get(key);
    if (s) s.ms += ms;
    else score.set(key, { node: target, callee, ms });
  }
  const best = [...score.values()].sort((a, b) => b.ms - a.ms)[0];
  if (!best) return null;
  const frame = profile.frames[profile.nodeFrame[best.node]];
  const call = callLine(source, frame.file, frame.line, best.callee);
  return {
    file: frame.file,
    line: call?.line ?? mainLine(profile, best.node),
    column: call?.column ?? frame.column,
    function: frame.name,
    how: call ? `cpu-profile: ${best.callee} (found in the source)` : `cpu-profile: ${best.callee}`,
  };
}

/** Heap growth: the heap profile's top function of the program, on the line the CPU profile sampled most in it. */
function heapSite(profile: Profile, heap: HeapSummary | null, growth: number): Location | null {
  const top = heap?.sites[0];
  if (!top) return null;
  if (isPythonFile(top.file) && top.bytes < THRESHOLDS.memoryPythonHeapSiteMinShare * growth) return null;
  let best = -1;
  for (let i = 0; i < profile.nodeParent.length; i++) {
    const f = profile.frames[profile.nodeFrame[i]];
    if (f.file !== top.file || f.line !== top.line || f.name !== top.function) continue;
    if (best < 0 || profile.nodeSelfMs[i] > profile.nodeSelfMs[best]) best = i;
  }
  const line = best >= 0 ? mainLine(profile, best) : top.line;
  return { file: top.file, line, column: top.column, function: top.function, how: `heap-profile: ${Math.round(top.bytes / MB)} MB sampled` };
}

/** The allocation the source shows before the await the tasks were holding their data across. */
function beforeAwait(trace: AsyncTrace, site: number | undefined, source: SourceLookup | undefined): Location | null {
  if (site === undefined) return null;
  const s = trace.resources.sites[site];
  const lines = source?.lines(s.file);
  if (lines) {
    const python = isPythonFile(s.file);
    for (let i = s.line - 2; i >= Math.max(0, s.line - 1 - THRESHOLDS.callSearchLines); i--) {
      const text = python ? lines[i].replace(/#.*$/, '') : lines[i];
      const m = (python ? PYTHON_ALLOCATION_TEXT : ALLOCATION_TEXT).exec(text);
      if (m) return { file: s.file, line: i + 1, column: m.index + 1, function: s.function || '(anonymous)', how: 'source: the allocation before the await' };
      if (/^\s*(async\s+)?(function|def)\b|=>\s*\{\s*$/.test(lines[i])) break; // the function's start
    }
  }
  return { file: s.file, line: s.line, column: s.column, function: s.function || '(anonymous)', how: 'async-trace: the await the data is held across' };
}
