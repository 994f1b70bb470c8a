// `context-switching`: work split into so many tiny async tasks that scheduling costs more than the
// work. A bare CPU profile shows the cost: the loop is busy in Node's scheduling machinery and in the
// garbage collector (every task allocates promises and closures), while the user's own code gets a
// small share. The culprit is the line that spawns the tasks: the caller of the function whose
// resumptions the machinery runs.

import type { Finding, Profile } from '../../model.js';
import { round } from '../../reports/json.js';
import { mainLine } from '../ratios.js';
import { THRESHOLDS } from '../thresholds.js';
import type { Detector } from './index.js';

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

export const contextSwitching: Detector = ({ analysis }) => {
  const { profile } = analysis;
  const n = profile.nodeParent.length;
  // Per node: inside the machinery (a queue frame on its stack)?
  const underMachinery = new Uint8Array(n);
  let busy = 0;
  let machinery = 0;
  let gc = 0;
  for (let i = 0; i < n; i++) {
    const frame = profile.frames[profile.nodeFrame[i]];
    const parent = profile.nodeParent[i];
    underMachinery[i] = MACHINERY.has(frame.name) || (parent >= 0 && underMachinery[parent]) ? 1 : 0;
    const ms = profile.nodeSelfMs[i];
    if (frame.kind === 'idle') continue;
    busy += ms;
    if (frame.kind === 'gc') gc += ms;
    else if (frame.kind !== 'user' && underMachinery[i]) machinery += ms;
  }
  const overhead = machinery + gc;
  if (busy < THRESHOLDS.switchingBusyMs) return [];
  if (overhead < THRESHOLDS.switchingOverheadShare * busy || machinery < THRESHOLDS.switchingMachineryShare * busy) return [];
  const culprit = spawner(profile, underMachinery);
  if (!culprit) return [];
  const frame = profile.frames[profile.nodeFrame[culprit.node]];
  const warning = overhead >= THRESHOLDS.switchingWarningShare * busy && busy >= THRESHOLDS.switchingWarningBusyMs;
  return [
    {
      kind: 'context-switching',
      severity: warning ? 'warning' : 'info',
      title: `${culprit.task} runs as many tiny async tasks`,
      location: { file: frame.file, line: mainLine(profile, culprit.node), column: frame.column, function: frame.name },
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
