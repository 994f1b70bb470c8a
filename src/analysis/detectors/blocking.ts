// `blocking`: one synchronous call holds the event loop. Evidence: busy stretches of the loop (no
// idle between samples) at least THRESHOLDS.blockingStretchMs long, most of whose time one call site
// of the user's code accounts for. A recording adds what a profile cannot see: whether the thread
// was on the CPU during the stretch (computing) or off it (a synchronous sleep, sync I/O, a child
// process), how late the loop's timers ran because of it, and whether the stretch was one call
// or many short tasks (then it is starvation or context switching, not one call to blame).

import type { Finding, Profile } from '../../model.js';
import { round } from '../../reports/json.js';
import { callLine, cpuWindow, isPythonFile, manyShortSteps, manyShortTasks } from '../recorded.js';
import { THRESHOLDS } from '../thresholds.js';
import type { Site } from '../timeline.js';
import type { Detector } from './index.js';

interface Culprit {
  site: Site;
  stretches: number;
  longestMs: number;
  blockedMs: number;
  systemMs: number;
  /** With a recording: time the thread was asleep / waiting for a CPU during the culprit's stretches; how long timers were held up (NaN: not seen). */
  measuredMs: number;
  asleepMs: number;
  runQueueMs: number;
  lateMs: number;
  /** The culprit's stretches [start, end] (ms). */
  during: [number, number][];
}

/** Node's synchronous APIs that wait for I/O or for a child process (off the CPU while they wait). */
const CHILD = /^(execSync|execFileSync|spawnSync)$/;

/** Python's synchronous sleeps and waits for a child process, by the native call's name. */
const PY_SLEEP = /(^|\.)sleep$/;
const PY_CHILD = /(^|\.)(check_call|check_output|communicate|system|getoutput|getstatusoutput|Popen\.wait)$|^subprocess\./;

/**
 * asyncio's loop is Python code under the line that starts it: its own work between callbacks
 * (the timer heap, the selector, finishing tasks) is charged to `asyncio.run(...)`, not a call to blame.
 */
const PY_LOOP_ENTRY = new Set(['run', 'run_until_complete', 'run_forever', 'Runner.run', 'BaseEventLoop.run_until_complete', 'BaseEventLoop.run_forever']);

type Nature = 'cpu' | 'sleep' | 'io' | 'child' | 'unknown';

export const blocking: Detector = ({ analysis, stretches, tasks, recording, source }) => {
  const { profile, totals } = analysis;
  const series = recording?.trace?.series;
  const culprits = new Map<string, Culprit>();
  stretches.forEach((stretch, i) => {
    // Loading code on first use, the recorder's own work and waiting for a CPU on a loaded machine
    // are not the program's blocking call.
    const duration = stretch.duration - stretch.loadingMs - stretch.recorderMs - (tasks[i]?.runQueueMs ?? 0);
    if (duration < THRESHOLDS.blockingStretchMs) return;
    const top = stretch.sites[0];
    if (!top || top.ms < THRESHOLDS.culpritShare * duration) return;
    if (profile.frames[profile.nodeFrame[top.site.node]].kind !== 'user') return;
    // Many short callbacks, none long: no single synchronous call to blame.
    if (manyShortTasks(tasks[i], stretch.duration)) return;
    if (isPythonFile(top.site.file) && (manyShortSteps(tasks[i]) || PY_LOOP_ENTRY.has(top.site.callee ?? ''))) return;
    const key = `${top.site.file}\u0000${top.site.line}\u0000${top.site.function}`;
    let c = culprits.get(key);
    if (!c) {
      c = { site: top.site, stretches: 0, longestMs: 0, blockedMs: 0, systemMs: 0, measuredMs: 0, asleepMs: 0, runQueueMs: 0, lateMs: NaN, during: [] };
      culprits.set(key, c);
    }
    c.stretches++;
    c.during.push([stretch.start, stretch.start + stretch.duration]);
    c.longestMs = Math.max(c.longestMs, duration);
    c.blockedMs += top.ms;
    c.systemMs += top.systemMs;
    const cpu = series ? cpuWindow(series, stretch.start, stretch.start + stretch.duration) : null;
    if (cpu) {
      c.measuredMs += cpu.elapsedMs;
      c.asleepMs += cpu.asleepMs;
      c.runQueueMs += cpu.runQueueMs;
    }
    const late = tasks[i]?.lateMs;
    if (late !== undefined && !Number.isNaN(late)) c.lateMs = Number.isNaN(c.lateMs) ? late : Math.max(c.lateMs, late);
  });
  return [...culprits.values()].map((c): Finding => {
    const warning = c.longestMs >= THRESHOLDS.blockingWarningStretchMs || c.stretches >= THRESHOLDS.blockingRepeats;
    const critical =
      c.longestMs >= THRESHOLDS.blockingCriticalStretchMs ||
      (warning && c.blockedMs >= THRESHOLDS.blockingCriticalShare * totals.wallMs);
    const asleepShare = c.measuredMs > 0 ? c.asleepMs / c.measuredMs : NaN;
    const callee = c.site.callee;
    const python = isPythonFile(c.site.file);
    const nature: Nature = Number.isNaN(asleepShare)
      ? 'unknown'
      : asleepShare < THRESHOLDS.offCpuShare
        ? 'cpu'
        : python
          ? callee && PY_SLEEP.test(callee) ? 'sleep' : callee && PY_CHILD.test(callee) ? 'child' : 'io'
          : callee && CHILD.test(callee)
            ? 'child'
            : callee && (/Sync$/.test(callee) || c.systemMs > 0.5 * c.blockedMs)
              ? 'io'
              : 'sleep';
    // V8 names no call-site line for a caller: find the call in the source when it can be read.
    const start = profile.frames[profile.nodeFrame[c.site.node]].line;
    const call = callee ? callLine(source, c.site.file, start, callee) : null;
    const what = call?.name ?? callee ?? c.site.function;
    const evidence: Finding['evidence'] = {
      longestStretchMs: round(c.longestMs),
      stretches: c.stretches,
      blockedMs: round(c.blockedMs),
      systemShare: round(c.systemMs / c.blockedMs),
      wallShare: round(c.blockedMs / totals.wallMs),
      source: recording ? 'recording' : 'cpu-profile',
    };
    if (c.measuredMs > 0) {
      evidence.offCpuMs = round(c.asleepMs);
      evidence.offCpuShare = round(asleepShare);
      evidence.waitingForCpuMs = round(c.runQueueMs);
      evidence.nature = nature;
    }
    if (!Number.isNaN(c.lateMs)) evidence.timerLateMs = round(c.lateMs);
    if (recording?.trace?.metadata.loopDelay) evidence.loopDelayMaxMs = round(recording.trace.metadata.loopDelay.max);
    if (call) evidence.callLine = call.line;
    return {
      kind: 'blocking',
      severity: critical ? 'critical' : warning ? 'warning' : 'info',
      title: title(what, nature),
      location: {
        file: c.site.file,
        line: call?.line ?? c.site.line,
        column: call?.column ?? c.site.column,
        function: c.site.function,
      },
      impactMs: round(c.blockedMs),
      evidence,
      suggestion: python ? pythonSuggestion(c, what, nature, calleeNative(profile, c.site)) : suggestion(c, what, nature),
      during: c.during,
    };
  });
};

function title(what: string, nature: Nature): string {
  if (nature === 'sleep') return `${what} sleeps synchronously and blocks the event loop`;
  if (nature === 'io') return `${what} waits for I/O synchronously and blocks the event loop`;
  if (nature === 'child') return `${what} waits for a child process and blocks the event loop`;
  return `${what} blocks the event loop`;
}

/** The charged frame called a native function (the Python recorder's leaf for a call into C). */
function calleeNative(profile: Profile, site: Site): boolean {
  for (let i = 0; i < profile.nodeParent.length; i++) {
    if (profile.nodeParent[i] !== site.node) continue;
    const frame = profile.frames[profile.nodeFrame[i]];
    if (frame.name === site.callee) return frame.kind === 'native';
  }
  return false;
}

/** The asyncio remedies, for a culprit in Python code. */
function pythonSuggestion(c: Culprit, what: string, nature: Nature, native: boolean): string {
  const longest = `${Math.round(c.longestMs)} ms`;
  const late = c.lateMs >= THRESHOLDS.blockingStretchMs ? ` Timers due meanwhile ran up to ${Math.round(c.lateMs)} ms late.` : '';
  const off = c.measuredMs > 0 ? ` The thread was off the CPU for ${Math.round((100 * c.asleepMs) / c.measuredMs)}% of it.` : '';
  if (nature === 'sleep') {
    return `${what} holds the event loop for up to ${longest} without computing anything.${off}${late} Use \`await asyncio.sleep(...)\`, or run the blocking call in a thread: \`await asyncio.to_thread(${what}, ...)\` (loop.run_in_executor before Python 3.9).`;
  }
  if (nature === 'child') {
    return `${what} holds the event loop for up to ${longest} while a child process runs.${off}${late} Use asyncio.create_subprocess_exec and await proc.communicate(), or \`await asyncio.to_thread(${what}, ...)\`.`;
  }
  if (nature === 'io') {
    return `${what} waits for I/O on the event loop for up to ${longest} at a time.${off}${late} Use an asyncio API (asyncio.open_connection, an async client), or \`await asyncio.to_thread(${what}, ...)\`.`;
  }
  if (native) {
    return `${what} computes in native code for up to ${longest} on the event loop.${off}${late} Run it in a thread: \`await asyncio.to_thread(${what}, ...)\` (a call that releases the GIL, as hashlib and zlib do, runs in parallel there), or in a ProcessPoolExecutor via loop.run_in_executor.`;
  }
  return (
    `${c.site.function} computes in Python for up to ${longest} without yielding to the event loop.${off}${late} Move the work to a process pool ` +
    `(\`await loop.run_in_executor(ProcessPoolExecutor(), ...)\`: threads do not run Python code in parallel under the GIL), ` +
    `or split it into chunks with \`await asyncio.sleep(0)\` between them.`
  );
}

function suggestion(c: Culprit, what: string, nature: Nature): string {
  const longest = `${Math.round(c.longestMs)} ms`;
  const late = c.lateMs >= THRESHOLDS.blockingStretchMs ? ` Timers due meanwhile ran up to ${Math.round(c.lateMs)} ms late.` : '';
  const off = c.measuredMs > 0 ? ` The thread was off the CPU for ${Math.round((100 * c.asleepMs) / c.measuredMs)}% of it.` : '';
  if (nature === 'sleep') {
    return (
      `${what} holds the loop for up to ${longest} without computing anything: a synchronous sleep or wait (Atomics.wait, a blocking native call).${off}${late} ` +
      `Wait asynchronously instead (await setTimeout from node:timers/promises, Atomics.waitAsync, an event), or do the waiting in a worker thread.`
    );
  }
  if (nature === 'child') {
    return `${what} holds the loop for up to ${longest} while a child process runs.${off}${late} Use the asynchronous form (exec, execFile, spawn) and await its result.`;
  }
  if (/Sync$/.test(what)) {
    const kind = nature === 'io' ? ' waits for I/O' : nature === 'cpu' ? ' computes on the loop' : ' is synchronous';
    return (
      `${what}${kind} and held the loop for up to ${longest}: use ${what.replace(/Sync$/, '')} (callback or promise form) ` +
      `so the loop keeps serving other work, or move the call to a worker thread.${off}${late}`
    );
  }
  if (nature === 'io' || (nature === 'unknown' && c.systemMs > 0.5 * c.blockedMs)) {
    return `The loop waits outside JavaScript here for up to ${longest} at a time.${off}${late} Use the asynchronous form of ${what}, or move it to a worker thread.`;
  }
  if (nature === 'cpu') {
    return (
      `${c.site.function} computes for up to ${longest} without yielding.${off}${late} Move the work to a worker thread, ` +
      `or split it into chunks that yield to the loop between them (await new Promise(setImmediate)).`
    );
  }
  return `${c.site.function} runs for up to ${longest} without yielding (JavaScript, or a synchronous wait such as Atomics.wait that a CPU profile shows as JavaScript): move the work to a worker thread, or split it into chunks that yield between them (await new Promise(setImmediate)).`;
}
