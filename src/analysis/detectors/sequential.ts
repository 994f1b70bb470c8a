// `sequential`: independent awaits run one after another.
//
// With a recording, from the async trace: the resources one creation site made (the awaited call's
// line), each standing for a wait from its creation until it resolved or its callback ran. The
// site's waits, merged where they overlap, form episodes; many episodes that never overlap while
// the loop sits idle, adding up to a large part of the wall time, are awaits made one after
// another. Promise.all makes one episode of them all; a bounded pool makes a few long overlapping
// ones. Several sites of one train (a helper's setTimeout, its promise, the await that resumes the
// caller) show the same episodes: the finding goes to the one resumed last, the outermost await.
//
// Waits of 2 ms and more count, or, where most of a line's waiting is in shorter ones (a local file
// or database), waits down to 0.2 ms with a lower idle share (each is several trips to the thread
// pool with JavaScript between them). A long loop is sampled by the recorder: its count is a lower
// bound and its time an estimate (src/analysis/episodes.ts).
//
// A line that gathers several operations (Promise.all, asyncio.gather), awaited in a loop, makes one
// episode per batch: the batches run one after another. The trace cannot count the calls in a
// batch (one fetch is dozens of resources, sampled past the first), so the source names the batch.
//
// A line that iterates an async source (`for await`, `async for`) waits for its items in order by
// nature, and is left alone.
//
// Without a trace, a bare CPU profile shows it only indirectly: a train of idle waits, each ended
// by a short burst of work that resumes the code and starts the next wait. Samples rarely catch the
// user's own frame in such bursts, so the train is credited to the user function seen most across
// its bursts. The awaits may also be dependent, so the finding is `info` and names the recording
// that would confirm it.

import type { Finding } from '../../model.js';
import type { AsyncResources, AsyncTrace, SourceLookup, TraceSite } from '../../recording/model.js';
import { round } from '../../reports/json.js';
import { episodes, sampledWaits, weightedMs, type Op } from '../episodes.js';
import { firstResourceAt, idleBetween, isPythonFile, isUserSite, operationOf } from '../recorded.js';
import { THRESHOLDS } from '../thresholds.js';
import type { Gap, Site, Stretch } from '../timeline.js';
import type { Detector, Evidence } from './index.js';

export const sequential: Detector = (evidence) =>
  evidence.recording?.trace ? fromTrace(evidence, evidence.recording.trace) : fromProfile(evidence);

interface Train {
  site: number;
  /** Traced episodes [start, end] in time order, never overlapping. */
  starts: number[];
  ends: number[];
  /** The traced episodes' waits: their sum and the longest. */
  tracedMs: number;
  longest: number;
  idleShare: number;
  /** The waits the episodes stand for: the traced ones', or estimated from a sample. */
  waited: number;
  /** Some of the line's resources were traced 1 in K: the episodes are some of its waits. */
  sampled: boolean;
  /** The episodes are some of its waits: sampled, or some too short to count. */
  lowerBound: boolean;
  resources: number;
}

function overlapMs(a: Train, b: Train): number {
  let i = 0;
  let j = 0;
  let total = 0;
  while (i < a.starts.length && j < b.starts.length) {
    const o = Math.min(a.ends[i], b.ends[j]) - Math.max(a.starts[i], b.starts[j]);
    if (o > 0) total += o;
    if (a.ends[i] < b.ends[j]) i++;
    else j++;
  }
  return total;
}

/** End of t's episode that overlaps [start, end], or -Infinity. */
function endDuring(t: Train, start: number, end: number): number {
  let lo = 0;
  let hi = t.starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t.ends[mid] < start) lo = mid + 1;
    else if (t.starts[mid] > end) hi = mid - 1;
    else return t.ends[mid];
  }
  return -Infinity;
}

/**
 * The member of a train whose wait ends last in most of its episodes: the outermost await, resumed
 * once the operations below it are done (microseconds later, but always later). Counting episodes
 * rather than averaging keeps one straggler from deciding.
 */
function lastResumed(train: Train[]): Train {
  const head = train[0];
  const wins = new Map<Train, number>();
  for (let k = 0; k < head.starts.length; k++) {
    let best = -Infinity;
    const ends = train.map((t) => endDuring(t, head.starts[k], head.ends[k]));
    for (const e of ends) best = Math.max(best, e);
    train.forEach((t, i) => {
      if (ends[i] === best) wins.set(t, (wins.get(t) ?? 0) + 1);
    });
  }
  return train.reduce((a, b) => ((wins.get(b) ?? 0) > (wins.get(a) ?? 0) ? b : a), head);
}

/** Calls that await a group of operations together. */
const GATHER = /(?:^|[^\w$.])(Promise\.(?:all|allSettled|any|race)|(?:asyncio\.)?(?:gather|TaskGroup)|asyncio\.wait)\s*\(/;

/** The gathering call (`Promise.all`) a line of the source makes, or null. */
function gatherCall(source: SourceLookup | undefined, { file, line }: TraceSite): string | null {
  const code = source?.lines(file)?.[line - 1]?.replace(isPythonFile(file) ? /(^|\s)#.*/ : /(^|\s)\/\/.*/, '');
  return (code !== undefined && GATHER.exec(code)?.[1]) || null;
}

/** Async iterators: Node streams' (`for await (const chunk of stream)`). */
const ITERATORS = new Set(['createAsyncIterator']);

/**
 * A line that iterates one async source (`for await (...)`, Python's `async for`: a stream, a
 * cursor, a generator) waits for its items in order by nature; independent operations inside a
 * generator show at their own lines.
 */
function iterated(source: SourceLookup | undefined, res: AsyncResources, site: number, ops: Op[]): boolean {
  const { file, line } = res.sites[site];
  const text = source?.lines(file)?.[line - 1];
  if (text !== undefined && (isPythonFile(file) ? /^\s*async\s+for\b/ : /(^|[^\w$.])for\s+await\s*\(/).test(text)) return true;
  return ops.some((op) => ITERATORS.has(res.callees[op[3]]));
}

/** Whether a resource created in [t0, t1] stands for others the recorder did not trace. */
function sampledBetween(res: AsyncResources, t0: number, t1: number): boolean {
  for (let r = firstResourceAt(res, t0); r < res.count && res.init[r] <= t1; r++) if (res.weight[r] > 1) return true;
  return false;
}

/** Milliseconds as read: 0.12, 3.4, 85. */
const shortMs = (ms: number) => (ms < 1 ? ms.toFixed(2) : ms < 10 ? ms.toFixed(1) : String(Math.round(ms)));

function fromTrace({ analysis, source }: Evidence, trace: AsyncTrace): Finding[] {
  const { profile, totals } = analysis;
  const res = trace.resources;
  /** A line's operations as a train of waits one after another, or null. */
  const trainOf = (site: number, ops: Op[], minWaitMs: number, minIdleShare: number): Train | null => {
    if (ops.length < THRESHOLDS.sequentialMinWaits) return null;
    const ep = episodes(ops);
    // An episode the loop spent busy is not a wait: the step between two waits (the code that
    // starts the next batch), stretched past the minimum on a loaded machine.
    const idleOf = ep.starts.map((start, k) => idleBetween(profile.timeline, start, ep.ends[k]));
    const kept = ep.starts
      .map((_, k) => k)
      .filter((k) => {
        const d = ep.ends[k] - ep.starts[k];
        return d >= minWaitMs && idleOf[k] >= THRESHOLDS.sequentialEpisodeIdleShare * d;
      });
    if (kept.length < THRESHOLDS.sequentialMinWaits) return null;
    const starts = kept.map((k) => ep.starts[k]);
    const ends = kept.map((k) => ep.ends[k]);
    let tracedMs = 0;
    let longest = 0;
    let idleMs = 0;
    for (const k of kept) {
      const d = ep.ends[k] - ep.starts[k];
      tracedMs += d;
      longest = Math.max(longest, d);
      idleMs += idleOf[k];
    }
    if (idleMs < minIdleShare * tracedMs) return null;
    // A sample stands for more waits like it, never for more time than the loop sat idle from the
    // first to the last (the estimate runs 1.3-1.4x high on loops of timers and requests: the last
    // episodes before the first sampled resource already miss some).
    const sampled = kept.some((k) => ep.weights[k] > ep.ops[k]);
    const estimate = sampled ? sampledWaits(ops, ep, new Set(kept)) : null;
    const idleSpan = estimate ? idleBetween(profile.timeline, starts[0], ends[ends.length - 1]) : 0;
    const waited = Math.max(Math.min(estimate ?? 0, idleSpan), tracedMs);
    if (waited - longest < THRESHOLDS.sequentialMinImpactMs) return null;
    const idleShare = idleMs / tracedMs;
    // Sub-millisecond operations shorter still are not counted either: the count is a lower bound.
    const lowerBound = sampled || minWaitMs < THRESHOLDS.sequentialMinWaitMs;
    return { site, starts, ends, tracedMs, longest, idleShare, waited, sampled, lowerBound, resources: ops.length };
  };
  // One line's sites are one: a call's first resources are made at the callee's column, the rest,
  // made as it resumes, at the await's.
  const lineSite = new Map<string, number>();
  const bySite = new Map<number, Op[]>();
  for (let r = 0; r < res.count; r++) {
    if (!isUserSite(res, res.site[r])) continue;
    const { file, line } = res.sites[res.site[r]];
    const key = `${file}:${line}`;
    let site = lineSite.get(key);
    if (site === undefined) lineSite.set(key, (site = res.site[r]));
    const op = operationOf(res, r, THRESHOLDS.sequentialMinWaitMs);
    if (!op || op[1] - op[0] < THRESHOLDS.sequentialShortWaitMs) continue;
    let ops = bySite.get(site);
    if (!ops) bySite.set(site, (ops = []));
    ops.push([op[0], op[1], res.weight[r], res.callee[r]]);
  }
  const candidates: Train[] = [];
  for (const [site, ops] of bySite) {
    if (iterated(source, res, site, ops)) continue;
    // Waits of a few milliseconds and more, or where most of the time is in shorter ones,
    // sub-millisecond ones too (a local file or database): next to long waits, the short ones are
    // steps between them. A loaded machine stretches short waits past 2 ms: when the long ones
    // alone make no train, the short pass is tried too.
    const long = ops.filter((op) => op[1] - op[0] >= THRESHOLDS.sequentialMinWaitMs);
    const mostlyShort = 2 * weightedMs(long) < weightedMs(ops);
    const short = () => trainOf(site, ops, THRESHOLDS.sequentialShortWaitMs, THRESHOLDS.sequentialShortIdleDuringWaits);
    const train =
      (mostlyShort ? short() : null) ??
      trainOf(site, long, THRESHOLDS.sequentialMinWaitMs, THRESHOLDS.sequentialIdleDuringWaits) ??
      (mostlyShort ? null : short());
    if (train) candidates.push(train);
  }
  // Sites whose episodes coincide are one train; it is reported at the wait that ends last (the
  // outermost await, resumed once the others are done).
  candidates.sort((a, b) => b.waited - a.waited);
  const trains: Train[][] = [];
  for (const c of candidates) {
    const train = trains.find((t) => overlapMs(t[0], c) >= THRESHOLDS.sequentialSameTrain * Math.min(t[0].tracedMs, c.tracedMs));
    if (train) train.push(c);
    else trains.push([c]);
  }
  const findings: Finding[] = [];
  for (const train of trains) {
    // The line that gathers a batch is its outermost await; else the wait that ends last.
    const gathering = train.find((t) => gatherCall(source, res.sites[t.site]));
    const head = gathering ?? lastResumed(train);
    // Of a sampled train, the line that saw most of its waits tells them best.
    const seen = head.lowerBound ? train.reduce((a, b) => (b.waited > a.waited ? b : a)) : head;
    const site = res.sites[head.site];
    const impact = seen.waited - seen.longest;
    const share = seen.waited / totals.wallMs;
    const count = seen.starts.length;
    // Past a code path's first resources the recorder traces a sample: some waits went unseen.
    const sampled = seen.sampled || sampledBetween(res, seen.starts[0], seen.ends[count - 1]);
    const atLeast = sampled || seen.lowerBound ? 'at least ' : '';
    // By the share of the run the waits took, or by the time at stake alone (a long run with a
    // slow start still loses it).
    const severity =
      share >= THRESHOLDS.sequentialCriticalShare || impact >= THRESHOLDS.sequentialCriticalImpactMs
        ? 'critical'
        : share >= THRESHOLDS.sequentialWarningShare || impact >= THRESHOLDS.sequentialWarningImpactMs
          ? 'warning'
          : 'info';
    const typical = [...seen.ends.map((e, k) => e - seen.starts[k])].sort((a, b) => a - b)[count >> 1];
    const others = train.filter((t) => t !== head).map((t) => res.sites[t.site]);
    const python = isPythonFile(site.file);
    const batch = gatherCall(source, site);
    const where = site.function ? `${site.function} awaits` : 'Awaits at this line run';
    // The waits of resources the recorder did not trace are counted in.
    const estimated = seen.waited > seen.tracedMs;
    const timing =
      `(typically ${shortMs(typical)} ms each, ${estimated ? 'about ' : ''}${Math.round(seen.waited)} ms in all` +
      `${estimated ? ' counting those the recorder did not trace' : ''}, ${Math.round(100 * share)}% of the run) while the loop sat idle`;
    const suggestion = batch
      ? `${atLeast}${count} batches gathered with ${batch} at line ${site.line} never overlapped ${timing}: each batch waits for ` +
        `its slowest operation before the next one starts. If the operations are independent, keep a fixed number in flight ` +
        `instead of fixed batches, starting the next operation as soon as one finishes ` +
        (python
          ? `(an asyncio.Semaphore around each operation under one asyncio.gather or TaskGroup, or a few workers reading an asyncio.Queue)`
          : `(a pool: p-limit, or a few workers taking items from a shared queue)`) +
        `. Started all at once, they would take about the longest batch, ${Math.round(seen.longest)} ms; a pool as wide as a batch ` +
        `saves less: the time each batch's slowest operation kept the others waiting.`
      : `${atLeast}${count} waits from this line never overlapped ${timing}. If they are independent, start them together and await once ` +
        (python
          ? `(asyncio.gather, or an asyncio.TaskGroup with an asyncio.Semaphore to bound how many run at once)`
          : `(Promise.all, or a pool of a few at a time for many)`) +
        `: the wall time drops to about the longest wait, ${Math.round(seen.longest)} ms.`;
    findings.push({
      kind: 'sequential',
      severity,
      title: `${where} ${atLeast}${count} ${batch ? 'batches' : 'operations'} one after another${batch ? ` (${batch})` : ''}`,
      location: { file: site.file, line: site.line, column: site.column, function: site.function || '(anonymous)' },
      impactMs: round(impact),
      evidence: {
        waits: count,
        waitedMs: round(seen.waited),
        longestWaitMs: round(seen.longest),
        medianWaitMs: round(typical),
        idleDuringWaits: round(seen.idleShare),
        wallShare: round(share),
        maxConcurrent: 1,
        resources: seen.resources,
        ...(sampled ? { sampled: 1 } : {}),
        ...(others.length ? { sameTrainLines: [...new Set(others.map((o) => o.line))].join(',') } : {}),
        ...(batch ? { gatheredBy: batch } : {}),
        source: 'recording',
      },
      suggestion,
      during: seen.starts.map((start, k): [number, number] => [start, seen.ends[k]]),
    });
  }
  return findings;
}

interface IdleTrain {
  waits: number[];
  bursts: Stretch[];
}

/** Runs of long idle gaps separated only by short bursts. */
function idleTrains({ stretches, gaps }: Evidence): IdleTrain[] {
  const phases: (Gap | Stretch)[] = [...stretches, ...gaps].sort((a, b) => a.start - b.start);
  const out: IdleTrain[] = [];
  let train: IdleTrain = { waits: [], bursts: [] };
  const close = () => {
    if (train.waits.length) out.push(train);
    train = { waits: [], bursts: [] };
  };
  for (const phase of phases) {
    if ('sites' in phase) {
      if (phase.duration > THRESHOLDS.sequentialBurstMs) close();
      else train.bursts.push(phase);
    } else if (phase.duration >= THRESHOLDS.sequentialGapMs) train.waits.push(phase.duration);
  }
  close();
  return out;
}

function fromProfile(evidence: Evidence): Finding[] {
  const { profile, totals } = evidence.analysis;
  const findings: Finding[] = [];
  for (const { waits, bursts } of idleTrains(evidence)) {
    const waited = waits.reduce((a, b) => a + b, 0);
    if (waits.length < THRESHOLDS.sequentialMinGaps || waited < THRESHOLDS.sequentialIdleShare * totals.wallMs) continue;
    const users = new Map<string, { site: Site; ms: number }>();
    for (const burst of bursts) {
      for (const { site, ms } of burst.sites) {
        if (profile.frames[profile.nodeFrame[site.node]].kind !== 'user') continue;
        const key = `${site.file}\u0000${site.function}`;
        const u = users.get(key);
        if (u) u.ms += ms;
        else users.set(key, { site, ms });
      }
    }
    const site = [...users.values()].sort((a, b) => b.ms - a.ms)[0]?.site;
    if (!site) continue;
    // A wake-up too short for any sample merges two waits into one gap: split gaps that are a
    // multiple of the typical wait back into that many waits.
    const typical = [...waits].sort((a, b) => a - b)[waits.length >> 1];
    const parts = waits.map((w) => Math.max(1, Math.round(w / typical)));
    const count = parts.reduce((a, b) => a + b, 0);
    const longest = Math.max(...waits.map((w, i) => w / parts[i]));
    findings.push({
      kind: 'sequential',
      severity: 'info',
      title: `${site.function} seems to await one operation after another`,
      location: { file: site.file, line: site.line, column: site.column, function: site.function },
      impactMs: round(waited - longest),
      evidence: {
        waits: count,
        waitedMs: round(waited),
        longestWaitMs: round(longest),
        medianWaitMs: round(typical),
        wallShare: round(waited / totals.wallMs),
        source: 'cpu-profile',
      },
      suggestion:
        `The loop sat idle ${count} times in a row (typically ${Math.round(typical)} ms), waking only briefly in between. ` +
        `If these awaits are independent, start them together (${isPythonFile(site.file) ? 'asyncio.gather, or a TaskGroup with a semaphore' : 'Promise.all, or a bounded pool'}) and wait once. ` +
        `A CPU profile cannot see what was awaited: record with \`loopscope collect\` to confirm the awaits never overlap.`,
    });
  }
  return findings;
}
