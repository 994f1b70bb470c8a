// Per-line user / system / idle time (SPEC.md, "Per-line time ratios"). Every node's samples are
// one share, decided by its own (leaf) frame, and are charged to the innermost frame of the user's
// own code on its stack.

import { Share, type Frame, type FrameKind, type LineStat, type Profile, type Totals } from '../model.js';

export function shareOf(kind: FrameKind): Share {
  if (kind === 'idle') return Share.Idle;
  if (kind === 'user' || kind === 'dependency') return Share.User;
  // (program), (garbage collector), native frames and Node's own JavaScript, which is mostly the
  // thin layer over native bindings and system calls (scryptSync, spawnSync, readFileSync...).
  return Share.System;
}

export interface Attribution {
  nodeShare: Uint8Array;
  /** The node each node's samples are charged to: its innermost user frame, else itself. */
  charged: Int32Array;
}

export function attribute(profile: Profile): Attribution {
  const n = profile.nodeParent.length;
  const nodeShare = new Uint8Array(n);
  const charged = new Int32Array(n);
  const innermostUser = new Int32Array(n);
  const recorder = new Int32Array(n).fill(-1); // the outermost recorder frame on the stack
  for (let i = 0; i < n; i++) {
    // Parents precede children, so one forward pass walks every stack without recursion.
    const kind = profile.frames[profile.nodeFrame[i]].kind;
    const parent = profile.nodeParent[i];
    innermostUser[i] = kind === 'user' ? i : parent >= 0 ? innermostUser[parent] : -1;
    recorder[i] = parent >= 0 && recorder[parent] >= 0 ? recorder[parent] : kind === 'recorder' ? i : -1;
    // Samples inside the recorder are its overhead, whoever called it: charged to it, as system time.
    nodeShare[i] = recorder[i] >= 0 ? Share.System : shareOf(kind);
    charged[i] = recorder[i] >= 0 ? recorder[i] : innermostUser[i] >= 0 ? innermostUser[i] : i;
  }
  return { nodeShare, charged };
}

/**
 * The line a node's time is charged to when it is not split by its own ticks: its most ticked line
 * (lowest on ties) at or after the function's start, since lines before it can only belong to
 * callees V8 inlined; the function's start line when there is none.
 */
export function mainLine(profile: Profile, node: number): number {
  const start = profile.frames[profile.nodeFrame[node]].line;
  const ticks = profile.nodeLineTicks[node];
  let best = -1;
  if (ticks) {
    for (let k = 0; k < ticks.length; k += 2) {
      if (ticks[k] < start || ticks[k + 1] === 0) continue;
      if (best < 0 || ticks[k + 1] > ticks[best + 1] || (ticks[k + 1] === ticks[best + 1] && ticks[k] < ticks[best])) best = k;
    }
  }
  return best >= 0 ? ticks![best] : start;
}

/** All of the recorder's time shows as one line: what recording cost, not a place in the program. */
const RECORDER: Frame = { name: '(loopscope recorder)', file: '', line: 0, column: 0, kind: 'recorder' };

/**
 * Time of each node's user-share samples during which the thread was off the CPU (asleep in a
 * system call, Atomics.wait, a blocking read), from a recording's scheduler statistics: that time is
 * system time (SPEC.md: "off-CPU time while the loop is busy"), though V8 samples it at the
 * JavaScript frame that made the call. Time waiting for a CPU on a loaded machine stays where it was.
 */
export function offCpuByNode(profile: Profile, attribution: Attribution, asleep: (t0: number, t1: number) => number): Float64Array {
  const out = new Float64Array(profile.nodeParent.length);
  const { timeline } = profile;
  for (let k = 0; k < timeline.count; k++) {
    const node = timeline.node[k];
    if (attribution.nodeShare[node] !== Share.User) continue;
    const duration = timeline.duration[k];
    const busy = duration - timeline.idle[k];
    if (busy <= 0 || duration <= 0) continue;
    const t = timeline.start[k];
    const share = Math.min(1, Math.max(0, asleep(t, t + duration) / duration));
    out[node] += busy * share;
  }
  // The timeline can coarsen entries: never move more than the node's own time.
  for (let i = 0; i < out.length; i++) out[i] = Math.min(out[i], profile.nodeSelfMs[i]);
  return out;
}

/**
 * Where a user function called into the code that ran below it: V8 records no call-site lines, so
 * this looks the call up (e.g. in the program's source); undefined when it cannot tell.
 */
export type CallSite = (caller: number, callee: number) => number | undefined;

/** The child of `ancestor` on the path from `node` up to it. */
export function childOn(profile: Profile, ancestor: number, node: number): number {
  let child = node;
  while (profile.nodeParent[child] !== ancestor && profile.nodeParent[child] >= 0) child = profile.nodeParent[child];
  return child;
}

export function lineTable(
  profile: Profile,
  { nodeShare, charged }: Attribution,
  offCpu?: Float64Array,
  callSite?: CallSite,
): { lines: LineStat[]; totals: Totals } {
  // Time charged to a caller lands on the line of its call when that can be found, else its main line.
  const callLines = new Map<number, number>();
  const lineOf = (target: number, node: number): number => {
    if (!callSite || profile.frames[profile.nodeFrame[target]].kind !== 'user') return mainLine(profile, target);
    const child = childOn(profile, target, node);
    let line = callLines.get(child);
    if (line === undefined) callLines.set(child, (line = callSite(target, child) ?? mainLine(profile, target)));
    return line;
  };
  const byKey = new Map<string, LineStat>();
  const totals: Totals = { wallMs: 0, userMs: 0, systemMs: 0, idleMs: 0, samples: 0 };
  const add = (node: number, line: number, share: Share, ms: number, samples: number, offMs = 0) => {
    let frame = profile.frames[profile.nodeFrame[node]];
    if (frame.kind === 'recorder') {
      frame = RECORDER;
      line = 0;
    }
    const key = `${frame.file}\u0000${line}\u0000${frame.name}`;
    let stat = byKey.get(key);
    if (!stat) {
      stat = { file: frame.file, line, function: frame.name, userMs: 0, systemMs: 0, idleMs: 0, samples: 0 };
      byKey.set(key, stat);
    }
    if (share === Share.User) {
      stat.userMs += ms - offMs;
      stat.systemMs += offMs;
    } else if (share === Share.System) stat.systemMs += ms;
    else stat.idleMs += ms;
    stat.samples += samples;
  };
  for (let i = 0; i < profile.nodeParent.length; i++) {
    const samples = profile.nodeSamples[i];
    if (samples === 0) continue;
    const ms = profile.nodeSelfMs[i];
    const share = nodeShare[i] as Share;
    const off = share === Share.User && offCpu ? offCpu[i] : 0;
    totals.samples += samples;
    totals.wallMs += ms;
    if (share === Share.User) {
      totals.userMs += ms - off;
      totals.systemMs += off;
    } else if (share === Share.System) totals.systemMs += ms;
    else totals.idleMs += ms;

    const target = charged[i];
    const ticks = profile.nodeLineTicks[i];
    let tickSum = 0;
    if (target === i && ticks) for (let k = 1; k < ticks.length; k += 2) tickSum += ticks[k];
    if (tickSum > 0) {
      for (let k = 0; k < ticks!.length; k += 2) {
        const part = ticks![k + 1] / tickSum;
        if (part > 0) add(i, ticks![k], share, ms * part, samples * part, off * part);
      }
    } else add(target, target === i ? mainLine(profile, target) : lineOf(target, i), share, ms, samples, off);
  }
  return { lines: [...byKey.values()].sort(heaviestFirst), totals };
}

/** The report's line order: most time first, then by file and line. */
export function heaviestFirst(a: LineStat, b: LineStat): number {
  return (
    b.userMs + b.systemMs + b.idleMs - (a.userMs + a.systemMs + a.idleMs) ||
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.line - b.line
  );
}
