// `starvation`: ready work waits far past its due time because other work monopolises a shared
// resource. Needs a recording: a CPU profile has no notion of "due".
//
// The loop: a busy stretch made of many short callbacks (no single synchronous call to blame, so
// not `blocking`), forming one chain of tasks that re-queue themselves (each created by the one
// before: process.nextTick or promise loops), while the recorder's heartbeat timer, due during the
// stretch, ran far too late. The culprit is the line that re-queues (the creation site of most of
// the chain's tasks).
//
// The libuv thread pool: jobs (fs, crypto, zlib, dns) wait in its queue when more are in flight
// than it has threads. A job's run time is estimated by replaying the pool as a FIFO queue of
// UV_THREADPOOL_SIZE workers over the recorded submit (init) and completion (callback) times; a
// quick job whose time in flight far exceeds its run time was starved, and the culprit is the
// call site whose jobs held the workers meanwhile.

import type { Finding } from '../../model.js';
import type { AsyncTrace } from '../../recording/model.js';
import { round } from '../../reports/json.js';
import { isPythonFile, isUserSite, starvedStretches } from '../recorded.js';
import { THRESHOLDS } from '../thresholds.js';
import type { Detector, Evidence } from './index.js';

export const starvation: Detector = (evidence) => {
  const trace = evidence.recording?.trace;
  if (!trace) return [];
  return [...loopStarvation(evidence, trace), ...poolStarvation(evidence, trace)];
};

function severityOf(lateMs: number, repeats: number): Finding['severity'] {
  if (lateMs >= THRESHOLDS.starvationCriticalLateMs) return 'critical';
  if (lateMs >= THRESHOLDS.starvationWarningLateMs || repeats >= THRESHOLDS.blockingRepeats) return 'warning';
  return 'info';
}

function loopStarvation(evidence: Evidence, trace: AsyncTrace): Finding[] {
  const res = trace.resources;
  const bySite = new Map<number, { stretches: number; busyMs: number; lateMs: number; maxLateMs: number; tasks: number; typicalMs: number; during: [number, number][] }>();
  for (const { stretch, tasks } of starvedStretches(evidence)) {
    let c = bySite.get(tasks.topSite);
    if (!c) bySite.set(tasks.topSite, (c = { stretches: 0, busyMs: 0, lateMs: 0, maxLateMs: 0, tasks: 0, typicalMs: 0, during: [] }));
    c.stretches++;
    c.during.push([stretch.start, stretch.start + stretch.duration]);
    c.busyMs += stretch.duration;
    c.lateMs += tasks.lateMs;
    c.maxLateMs = Math.max(c.maxLateMs, tasks.lateMs);
    c.tasks += tasks.callbacks;
    c.typicalMs = Math.max(c.typicalMs, tasks.typicalMs);
  }
  const { totals } = evidence.analysis;
  return [...bySite].map(([s, c]): Finding => {
    const site = res.sites[s];
    const fn = site.function || '(anonymous)';
    return {
      kind: 'starvation',
      severity: severityOf(c.maxLateMs, c.stretches),
      title: `${fn} re-queues itself and starves timers and I/O`,
      location: { file: site.file, line: site.line, column: site.column, function: fn },
      impactMs: round(c.lateMs),
      evidence: {
        maxTimerLateMs: round(c.maxLateMs),
        busyMs: round(c.busyMs),
        stretches: c.stretches,
        tasks: Math.round(c.tasks),
        typicalTaskMs: round(c.typicalMs),
        wallShare: round(c.busyMs / totals.wallMs),
        source: 'recording',
      },
      suggestion:
        `The loop ran ${Math.round(c.tasks)} short tasks back to back for ${Math.round(c.busyMs)} ms, each queued by the one before from this line, ` +
        `so timers and I/O callbacks that fell due waited up to ${Math.round(c.maxLateMs)} ms. process.nextTick and promise callbacks run before ` +
        `the loop moves on: yield to the macrotask queue every few milliseconds (await new Promise(setImmediate)), or move the work to a worker thread.`,
      during: c.during,
    };
  });
}

interface Job {
  row: number;
  submit: number;
  done: number;
  start: number;
  run: number;
}

function poolStarvation(evidence: Evidence, trace: AsyncTrace): Finding[] {
  const res = trace.resources;
  const size = trace.metadata.threadpoolSize;
  const jobs: Job[] = [];
  for (let r = 0; r < res.count; r++) {
    if (!res.threadpool[res.type[r]] || res.weight[r] !== 1) continue;
    const after = res.callbackAfter[r];
    if (!(after >= 0)) continue;
    jobs.push({ row: r, submit: res.init[r], done: res.init[r] + after, start: 0, run: 0 });
  }
  if (jobs.length <= size) return [];
  // FIFO replay: each job takes the worker that frees first (at the completion of its last job).
  const free = new Float64Array(size).fill(-Infinity);
  for (const job of jobs) {
    let w = 0;
    for (let k = 1; k < size; k++) if (free[k] < free[w]) w = k;
    job.start = Math.min(job.done, Math.max(job.submit, free[w]));
    job.run = job.done - job.start;
    free[w] = job.done;
  }
  const queued = (j: Job) => j.start - j.submit;
  const victims = jobs.filter(
    (j) => queued(j) >= THRESHOLDS.poolQueuedMs && queued(j) >= THRESHOLDS.poolQueueRatio * Math.max(j.run, THRESHOLDS.poolMinRunMs),
  );
  if (!victims.length) return [];
  // Who held the workers while the victims queued: run time of the jobs that ran in those windows.
  // The most queued victims tell; a few hundred are plenty (the scan is victims x jobs).
  const scanned = [...victims].sort((a, b) => queued(b) - queued(a)).slice(0, THRESHOLDS.poolVictimsScanned);
  const holders = new Map<number, { runMs: number; jobs: Set<number> }>();
  for (const v of scanned) {
    for (const j of jobs) {
      if (j === v) continue;
      const overlap = Math.min(j.done, v.start) - Math.max(j.start, v.submit);
      if (overlap <= 0) continue;
      const site = res.site[j.row];
      let h = holders.get(site);
      if (!h) holders.set(site, (h = { runMs: 0, jobs: new Set() }));
      h.runMs += overlap;
      h.jobs.add(j.row);
    }
  }
  const ranked = [...holders].filter(([s]) => isUserSite(res, s)).sort((a, b) => b[1].runMs - a[1].runMs);
  if (!ranked.length) return [];
  const [culpritSite, culprit] = ranked[0];
  const others = victims.filter((v) => res.site[v.row] !== culpritSite);
  const own = victims.length - others.length;
  const worst = others.reduce((m, v) => Math.max(m, queued(v)), 0);
  const waited = others.reduce((a, v) => a + queued(v), 0);
  const site = res.sites[culpritSite];
  const fn = site.function || '(anonymous)';
  const types = [...new Set([...culprit.jobs].map((r) => res.types[res.type[r]]))].join(', ');
  const victimTypes = [...new Set(others.map((v) => res.types[res.type[v.row]]))].join(', ');
  const culpritJobs = jobs.filter((j) => res.site[j.row] === culpritSite);
  const meanRun = culpritJobs.reduce((a, j) => a + j.run, 0) / Math.max(1, culpritJobs.length);
  let inFlight = 0;
  let maxInFlight = 0;
  const edges = jobs.flatMap((j) => [[j.submit, 1], [j.done, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [, d] of edges) maxInFlight = Math.max(maxInFlight, (inFlight += d));
  const severity = others.length ? severityOf(worst, 0) : 'info';
  return [
    {
      kind: 'starvation',
      severity,
      title: `${fn} floods the thread pool (${types}) and starves other jobs`,
      location: { file: site.file, line: site.line, column: site.column, function: fn },
      impactMs: round(waited),
      evidence: {
        poolSize: size,
        maxInFlight,
        culpritJobs: culpritJobs.length,
        meanJobRunMs: round(meanRun),
        starvedJobs: others.length,
        starvedTypes: victimTypes,
        maxQueuedMs: round(worst),
        ownJobsQueued: own,
        source: 'recording',
      },
      suggestion: isPythonFile(site.file)
        ? executorSuggestion(culpritJobs.length, meanRun, size, others.length, worst, maxInFlight)
        : others.length
        ? `${culpritJobs.length} ${types} jobs from this line (about ${Math.round(meanRun)} ms each) kept all ${size} threads of the libuv pool busy, ` +
          `so ${others.length} quick job(s) (${victimTypes}) queued behind them for up to ${Math.round(worst)} ms. Limit how many of these run at once ` +
          `(a small queue, or a semaphore of fewer than ${size}), move them to worker threads, or raise UV_THREADPOOL_SIZE.`
        : `${culpritJobs.length} ${types} jobs from this line (about ${Math.round(meanRun)} ms each) queue behind each other in the ${size}-thread ` +
          `libuv pool (up to ${maxInFlight} in flight). If other work needs the pool meanwhile, limit how many run at once or raise UV_THREADPOOL_SIZE.`,
    },
  ];
}

/** The asyncio remedies when the jobs come from Python's run_in_executor / asyncio.to_thread. */
function executorSuggestion(jobs: number, meanRun: number, size: number, starved: number, worst: number, inFlight: number): string {
  const held = `${jobs} jobs from this line (about ${Math.round(meanRun)} ms each) kept all ${size} workers of the loop's default executor busy`;
  return starved
    ? `${held}, so ${starved} quick job(s) queued behind them for up to ${Math.round(worst)} ms. Give the long jobs their own executor ` +
        `(loop.run_in_executor(ThreadPoolExecutor(max_workers=...), ...)), bound them with an asyncio.Semaphore, or make the default executor bigger (loop.set_default_executor).`
    : `${held} (up to ${inFlight} in flight, queued behind each other). If other work needs the executor meanwhile (asyncio.to_thread, getaddrinfo), ` +
        `bound these jobs with an asyncio.Semaphore or give them their own ThreadPoolExecutor.`;
}
