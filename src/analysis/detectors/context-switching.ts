// `context-switching`: work split into so many tiny async tasks that scheduling costs more than the
// work. A bare CPU profile shows the cost: the loop is busy in Node's scheduling machinery and in the
// garbage collector (every task allocates promises and closures), while the user's own code gets a
// small share. The culprit is the line that spawns the tasks: the caller of the function whose
// resumptions the machinery runs.
//
// A recording counts the tasks themselves: callbacks run (exact), their rate over the busy time,
// the work each did (callback durations), and where the tasks were created. The spawn site is the
// creation site with the most resources outside the task function itself (a task's own awaits are
// created inside it); the recorder's own overhead is left out of the busy time.

import type { Finding, Profile } from '../../model.js';
import type { AsyncResources, AsyncTrace, TraceSite } from '../../recording/model.js';
import { round } from '../../reports/json.js';
import { mainLine } from '../ratios.js';
import { callLine, cpuWindow, isPythonFile, isUserSite, rowOf, starvedStretches } from '../recorded.js';
import { THRESHOLDS } from '../thresholds.js';
import type { Detector, Evidence } from './index.js';

/** Node's task queues: what runs between one tiny task and the next. */
const MACHINERY = new Set([
  'processImmediate',
  'runMicrotasks',
  'processTicksAndRejections',
  'runNextTicks',
  'listOnTimeout',
  'processTimers',
  'processPromiseRejections',
]);

interface Shares {
  busy: number;
  machinery: number;
  gc: number;
  /** Self time of the program's own JavaScript, its dependencies included: the work. */
  user: number;
  underMachinery: Uint8Array;
}

/** Async hooks' own bookkeeping: runs only because the recorder installed hooks. */
const HOOKS_FILE = 'node:internal/async_hooks';

function shares(profile: Profile, recorded: boolean): Shares {
  const n = profile.nodeParent.length;
  // Per node: inside the machinery (a queue frame on its stack)? Inside the recorder?
  const underMachinery = new Uint8Array(n);
  const recorder = new Uint8Array(n);
  let busy = 0;
  let machinery = 0;
  let gc = 0;
  let user = 0;
  for (let i = 0; i < n; i++) {
    const frame = profile.frames[profile.nodeFrame[i]];
    const parent = profile.nodeParent[i];
    underMachinery[i] = MACHINERY.has(frame.name) || (parent >= 0 && underMachinery[parent]) ? 1 : 0;
    recorder[i] = frame.kind === 'recorder' || (parent >= 0 && recorder[parent]) || (recorded && frame.file === HOOKS_FILE) ? 1 : 0;
    const ms = profile.nodeSelfMs[i];
    if (frame.kind === 'idle' || recorder[i]) continue;
    busy += ms;
    if (frame.kind === 'gc') gc += ms;
    else if (frame.kind === 'user' || frame.kind === 'dependency') user += ms;
    if (frame.kind !== 'user' && frame.kind !== 'gc' && underMachinery[i]) machinery += ms;
  }
  return { busy, machinery, gc, user, underMachinery };
}

export const contextSwitching: Detector = (evidence) => {
  const { profile } = evidence.analysis;
  const trace = evidence.recording?.trace;
  const s = shares(profile, !!trace);
  const { busy, machinery, gc } = s;
  const overhead = machinery + gc;
  if (trace) return busy >= THRESHOLDS.switchingTraceBusyMs ? fromTrace(evidence, trace, s) : [];
  if (busy < THRESHOLDS.switchingBusyMs) return [];
  if (overhead < THRESHOLDS.switchingOverheadShare * busy || gc < THRESHOLDS.switchingGcShare * busy) return [];
  if (machinery < THRESHOLDS.switchingMachineryShare * busy || machinery < THRESHOLDS.switchingMachineryOverUser * s.user) return [];
  const culprit = spawner(profile, s.underMachinery);
  if (!culprit) return [];
  const frame = profile.frames[profile.nodeFrame[culprit.node]];
  const warning =
    overhead >= THRESHOLDS.switchingWarningShare * busy &&
    busy >= THRESHOLDS.switchingWarningBusyMs;
  // The spawning line is the call of the task function, when the source shows it.
  const line = callLine(evidence.source, frame.file, frame.line, culprit.task)?.line ?? mainLine(profile, culprit.node);
  return [
    {
      kind: 'context-switching',
      severity: warning ? 'warning' : 'info',
      title: `${culprit.task} runs as many tiny async tasks`,
      location: { file: frame.file, line, column: frame.column, function: frame.name },
      impactMs: round(overhead),
      evidence: {
        busyMs: round(busy),
        machineryShare: round(machinery / busy),
        gcShare: round(gc / busy),
        userShare: round(culprit.userMs / busy),
        source: 'cpu-profile',
      },
      suggestion:
        `${Math.round((100 * overhead) / busy)}% of the busy time goes to scheduling tasks and collecting their garbage, ` +
        `${Math.round((100 * culprit.userMs) / busy)}% to ${culprit.task} itself. Batch the work: process items in chunks ` +
        `inside one task, make per-item functions synchronous, or bound the number of tasks in flight. ` +
        `A \`loopscope collect\` recording would count the tasks and their creation sites.`,
    },
  ];
};

function fromTrace(evidence: Evidence, trace: AsyncTrace, { busy, machinery, gc, user }: Shares): Finding[] {
  const res = trace.resources;
  const callbacks = trace.metadata.callbacksRun || trace.callbacks.count;
  let created = 0;
  for (const c of trace.metadata.typeCounts.values()) created += c.created;
  // Every task is at least one resource created and one callback run. The rate is per second of
  // CPU: on a loaded machine the samples also count the time the thread waited for a CPU.
  const tasks = Math.max(callbacks, created);
  const { profile } = evidence.analysis;
  const waited = cpuWindow(trace.series, profile.startMs, profile.endMs)?.runQueueMs ?? 0;
  const rate = tasks / (Math.max(busy - waited, 0.25 * busy) / 1000);
  // Everything but the program's own JavaScript: scheduling, promise bookkeeping, GC.
  const overhead = busy - user;
  const overheadShare = overhead / busy;
  const python = typeof trace.metadata.raw.python === 'string';
  if (tasks < THRESHOLDS.switchingMinTasks || rate < (python ? THRESHOLDS.switchingMinRatePython : THRESHOLDS.switchingMinRate)) return [];
  if (overheadShare < THRESHOLDS.switchingOverheadShare) return [];
  // Per site: resources created (weighted) and callbacks run (weighted).
  const bySite = new Map<number, number>();
  const resumed = new Map<number, number>();
  for (let r = 0; r < res.count; r++) {
    const w = res.weight[r];
    const site = res.site[r];
    if (!isUserSite(res, site)) continue;
    bySite.set(site, (bySite.get(site) ?? 0) + w);
    // A Python task's first step only starts it: the task function is where its awaits resume.
    if (res.callbacks[r] && res.types[res.type[r]] !== 'Task') resumed.set(site, (resumed.get(site) ?? 0) + w * res.callbacks[r]);
  }
  const top = (m: Map<number, number>, skip?: (site: number) => boolean) =>
    [...m].filter(([site]) => !skip?.(site)).sort((a, b) => b[1] - a[1])[0];
  const task = top(resumed);
  const taskFn = task ? res.sites[task[0]] : undefined;
  const spawn = gatherer(res, bySite) ?? spawnOutside(res, bySite, taskFn) ?? top(bySite);
  if (!spawn) return [];
  const [spawnSite, spawned] = spawn;
  // One task re-queueing itself while timers starve is `starvation`, reported there.
  if (starvedStretches(evidence).some(({ tasks: t }) => t.topSite === spawnSite || (task && t.topSite === task[0]))) return [];
  const site = res.sites[spawnSite];
  const fn = site.function || '(anonymous)';
  const doer = taskFn?.function ? `${taskFn.function} did` : 'each task did';
  const perTaskUs = (1000 * user) / tasks;
  const library = libraryCallee(res, spawnSite);
  // Tasks a library call makes for itself are what that API costs: the remedy is another API or
  // fewer calls, not a change to the program's tasks, and whether it matters is the program's call.
  const severity = library
    ? 'info'
    : overheadShare >= THRESHOLDS.switchingCriticalShare && busy >= THRESHOLDS.switchingCriticalBusyMs
      ? 'critical'
      : overhead >= THRESHOLDS.switchingTraceWarningMs
        ? 'warning'
        : 'info';
  const counts =
    `${created} async resources were created and ${callbacks} callbacks ran (${Math.round(rate / 1000)}k per busy second); `;
  const measured = {
    callbacks,
    resourcesCreated: created,
    tasksPerSecond: Math.round(rate),
    spawned: Math.round(spawned),
    busyMs: round(busy),
    overheadShare: round(overheadShare),
    machineryShare: round(machinery / busy),
    gcShare: round(gc / busy),
    source: 'recording',
  };
  const overheadPct = Math.round(100 * overheadShare);
  const own = {
    title: `${fn} spawns ${Math.round(spawned)} tiny async tasks`,
    evidence: { ...measured, userUsPerTask: round(perTaskUs) },
    suggestion:
      counts +
      `${doer} about ${perTaskUs < 1 ? perTaskUs.toFixed(2) : Math.round(perTaskUs)} µs of its own work per task, while scheduling, ` +
      `promise bookkeeping and garbage collection took ${overheadPct}% of the busy time. ` +
      (isPythonFile(site.file)
        ? `Batch the work: handle items in chunks inside a few tasks, make per-item coroutines plain functions, ` +
          `or bound the tasks in flight (an asyncio.Semaphore, a few worker tasks reading an asyncio.Queue) instead of one asyncio.gather of them all.`
        : `Batch the work: process items in chunks inside one task, make per-item functions synchronous, or bound the number of tasks in flight.`),
  };
  const inLibrary = library && {
    title: `${fn} runs ${Math.round(spawned)} tiny async tasks inside library code (${library.name})`,
    evidence: { ...measured, insideCallee: library.name, insideCalleeShare: round(library.share) },
    suggestion:
      counts +
      `${Math.round(100 * library.share)}% of the tasks from this line were created inside Node's or a library's code (${library.name}), ` +
      `not by the program's own, and scheduling, promise bookkeeping, garbage collection and that code took ${overheadPct}% ` +
      `of the busy time. That is what the calls at this line cost: make fewer, larger calls, or use a lower-level API that creates fewer ` +
      `promises per call` +
      (FETCH_CALLEES.has(library.name) ? ` (for HTTP: undici's request() or http.request with a keep-alive agent instead of fetch).` : '.'),
  };
  return [
    {
      kind: 'context-switching',
      severity,
      location: { file: site.file, line: site.line, column: site.column, function: fn },
      impactMs: round(overhead),
      ...(inLibrary || own),
    },
  ];
}

/** Node's APIs for scheduling a task: calling them is the program making its own tasks. */
const SCHEDULING = new Set(['setTimeout', 'setInterval', 'setImmediate', 'nextTick', 'queueMicrotask']);

/** Functions of Node's fetch and its Response, for the suggestion. */
const FETCH_CALLEES = new Set(['fetch', 'text', 'json', 'arrayBuffer', 'blob', 'formData', 'consumeBody']);

/**
 * The library function inside which most of a site's resources were created (weighted), when one
 * is (`fetch` creates dozens of promises a call); undefined when the program's own code, or its
 * calls to Node's task scheduling, made most of them.
 */
function libraryCallee(res: AsyncResources, site: number): { name: string; share: number } | undefined {
  let total = 0;
  const byCallee = new Map<number, number>();
  for (let r = 0; r < res.count; r++) {
    if (res.site[r] !== site) continue;
    const w = res.weight[r];
    total += w;
    const name = res.callees[res.callee[r]];
    if (name && !SCHEDULING.has(name)) byCallee.set(res.callee[r], (byCallee.get(res.callee[r]) ?? 0) + w);
  }
  let inside = 0;
  let top = -1;
  for (const [c, n] of byCallee) {
    inside += n;
    if (top < 0 || n > byCallee.get(top)!) top = c;
  }
  if (top < 0 || inside < THRESHOLDS.switchingLibraryShare * total) return undefined;
  return { name: res.callees[top], share: inside / total };
}

/**
 * The site that gathers the tasks (Promise.all, or awaiting each task's promise): among the busy
 * creation sites, one whose resources were mostly triggered by another busy site's resources (a
 * promise derived from each task's promise). A task's own awaits are created inside it, the tasks'
 * promises at its declaration: the gathering line is where they were spawned from.
 */
function gatherer(res: AsyncResources, bySite: Map<number, number>): [number, number] | undefined {
  const most = Math.max(0, ...bySite.values());
  const busy = new Set([...bySite].filter(([, n]) => n >= THRESHOLDS.switchingBusySiteShare * most).map(([site]) => site));
  // Counted over the resources whose trigger was traced too (past the recorder's cap, 1 in K is).
  const triggered = new Map<number, number>();
  const known = new Map<number, number>();
  for (let r = 0; r < res.count; r++) {
    const site = res.site[r];
    if (!busy.has(site)) continue;
    const parent = rowOf(res, res.trigger[r]);
    if (parent < 0) continue;
    known.set(site, (known.get(site) ?? 0) + 1);
    const from = res.site[parent];
    if (from !== site && busy.has(from) && res.sites[from].function !== res.sites[site].function) {
      triggered.set(site, (triggered.get(site) ?? 0) + 1);
    }
  }
  let best: [number, number] | undefined;
  for (const [site, n] of triggered) {
    if (n < THRESHOLDS.switchingGatherLinks || n < 0.5 * (known.get(site) ?? 0)) continue;
    const count = bySite.get(site)!;
    if (!best || count > best[1]) best = [site, count];
  }
  return best;
}

/**
 * Else the busiest creation site outside the task function (a named one: anonymous functions cannot
 * be told apart), unless it made next to nothing: a function that makes its tasks itself (a loop
 * of awaits, a recursive walk) has only its caller's one call outside.
 */
function spawnOutside(res: AsyncResources, bySite: Map<number, number>, taskFn: TraceSite | undefined): [number, number] | undefined {
  if (!taskFn?.function) return undefined;
  const most = Math.max(0, ...bySite.values());
  return [...bySite]
    .filter(([site, n]) => {
      const s = res.sites[site];
      return n >= THRESHOLDS.switchingSpawnerShare * most && !(s.file === taskFn.file && s.function === taskFn.function);
    })
    .sort((a, b) => b[1] - a[1])[0];
}

/**
 * The task function is the user function with the most time resumed by the machinery; its spawner
 * is the user frame that called it directly (the first, synchronous part of each task).
 */
function spawner(profile: Profile, underMachinery: Uint8Array): { node: number; task: string; userMs: number } | undefined {
  const byFrame = new Map<number, number>();
  for (let i = 0; i < profile.nodeParent.length; i++) {
    const frame = profile.frames[profile.nodeFrame[i]];
    if (frame.kind === 'user' && underMachinery[i]) byFrame.set(profile.nodeFrame[i], (byFrame.get(profile.nodeFrame[i]) ?? 0) + profile.nodeSelfMs[i]);
  }
  const task = [...byFrame.entries()].sort((a, b) => b[1] - a[1])[0];
  if (!task) return undefined;
  const [taskFrame] = task;
  const callers = new Map<number, number>();
  let userMs = 0;
  for (let i = 0; i < profile.nodeParent.length; i++) {
    if (profile.nodeFrame[i] !== taskFrame) continue;
    userMs += profile.nodeSelfMs[i];
    if (underMachinery[i]) continue;
    let up = profile.nodeParent[i];
    while (up >= 0 && profile.frames[profile.nodeFrame[up]].kind !== 'user') up = profile.nodeParent[up];
    if (up >= 0) callers.set(up, (callers.get(up) ?? 0) + 1);
  }
  const caller = [...callers.entries()].sort((a, b) => b[1] - a[1])[0];
  const name = profile.frames[taskFrame].name;
  const node = caller ? caller[0] : profile.nodeFrame.indexOf(taskFrame);
  return { node, task: name, userMs };
}
