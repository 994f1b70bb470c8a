// A plain, independent implementation of the per-line time ratios of SPEC.md for V8 `.cpuprofile`
// files: the whole file goes through JSON.parse and every rule is applied sample by sample, so the
// streaming WASM path can be checked against it. Simplicity over speed.

import { readFileSync } from 'node:fs';
import type { FrameKind, LineStat, Totals } from '../src/model.js';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
  /** Not used by the rules; V8 writes "0" for frames without a script. */
  scriptId?: string;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ReferenceResult {
  lines: LineStat[];
  totals: Totals;
}

/** A URL with a scheme and authority (`file://`, `https://`, `wasm://`) or an absolute POSIX path. */
function isUrlOrAbsolutePath(url: string): boolean {
  return url.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url);
}

export function frameKind(cf: CallFrame): FrameKind {
  const url = cf.url;
  if (url === '') {
    switch (cf.functionName) {
      case '(root)':
        return 'root';
      case '(program)':
        return 'program';
      case '(idle)':
        return 'idle';
      case '(garbage collector)':
        return 'gc';
    }
    // Code without a URL but with a script (eval, the DevTools console) is still JavaScript.
    const script = String(cf.scriptId ?? '0');
    return script === '0' || script === '' ? 'native' : 'user';
  }
  if (url.startsWith('node:') || !isUrlOrAbsolutePath(url)) return 'internal';
  if (url.includes('/node_modules/') || url.startsWith('wasm://')) return 'dependency';
  return 'user';
}

export type ShareName = 'user' | 'system' | 'idle';

export function shareOf(kind: FrameKind): ShareName {
  if (kind === 'idle') return 'idle';
  if (kind === 'user' || kind === 'dependency') return 'user';
  return 'system';
}

/** `file://` URLs become absolute paths; anything else stays as recorded. */
export function fileOf(url: string): string {
  if (!url.startsWith('file://')) return url;
  const rest = url.slice('file://'.length);
  const slash = rest.indexOf('/');
  const path = slash < 0 ? '' : rest.slice(slash);
  return decodeURIComponent(path);
}

export function functionOf(cf: CallFrame): string {
  return cf.functionName === '' ? '(anonymous)' : cf.functionName;
}

/**
 * The positionTicks line with the most ticks, lowest line on ties, among ticked lines at or after
 * the function's start (lines before it belong to inlined callees); the start line when none is.
 */
function hottestLine(ticks: { line: number; ticks: number }[], start: number): number {
  let best: { line: number; ticks: number } | undefined;
  for (const t of ticks) {
    if (t.line < start || t.ticks <= 0) continue;
    if (!best || t.ticks > best.ticks || (t.ticks === best.ticks && t.line < best.line)) best = t;
  }
  return best ? best.line : start;
}

function startLine(cf: CallFrame): number {
  return cf.lineNumber < 0 ? 0 : cf.lineNumber + 1;
}

function hasTicks(n: ProfileNode): n is ProfileNode & { positionTicks: { line: number; ticks: number }[] } {
  if (!n.positionTicks || n.positionTicks.length === 0) return false;
  let sum = 0;
  for (const t of n.positionTicks) sum += t.ticks;
  return sum > 0;
}

interface Acc {
  file: string;
  line: number;
  function: string;
  // microseconds, summed exactly while inputs are integers
  user: number;
  system: number;
  idle: number;
  samples: number;
}

export function compareLines(a: LineStat, b: LineStat): number {
  const ta = a.userMs + a.systemMs + a.idleMs;
  const tb = b.userMs + b.systemMs + b.idleMs;
  if (ta !== tb) return tb - ta;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.line !== b.line) return a.line - b.line;
  if (a.function !== b.function) return a.function < b.function ? -1 : 1;
  return 0;
}

export function referenceAnalyze(profile: CpuProfile): ReferenceResult {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) {
    if (byId.has(n.id)) throw new Error(`duplicate node id ${n.id}`);
    byId.set(n.id, n);
  }
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    for (const c of n.children ?? []) {
      if (!byId.has(c)) throw new Error(`node ${n.id} lists unknown child ${c}`);
      if (parent.has(c)) throw new Error(`node ${c} has two parents`);
      parent.set(c, n.id);
    }
  }
  const kind = new Map<number, FrameKind>();
  for (const n of profile.nodes) kind.set(n.id, frameKind(n.callFrame));

  // Innermost user node on the path from a node to the root, or -1; memoised, no recursion.
  const userAncestor = new Map<number, number>();
  const chargedUser = (id: number): number => {
    const path: number[] = [];
    let cur: number | undefined = id;
    let found = -1;
    while (cur !== undefined) {
      const known = userAncestor.get(cur);
      if (known !== undefined) {
        found = known;
        break;
      }
      if (kind.get(cur) === 'user') {
        found = cur;
        break;
      }
      path.push(cur);
      cur = parent.get(cur);
    }
    for (const p of path) userAncestor.set(p, found);
    if (cur !== undefined) userAncestor.set(cur, found);
    return found;
  };

  const samples = profile.samples;
  const deltas = profile.timeDeltas;
  if (samples.length !== deltas.length) throw new Error('samples and timeDeltas differ in length');
  const times: number[] = new Array(samples.length);
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i];
    times[i] = t;
  }
  const order = samples.map((_, i) => i);
  order.sort((a, b) => times[a] - times[b] || a - b);

  const accs = new Map<string, Acc>();
  const add = (file: string, line: number, fn: string, share: ShareName, us: number, count: number) => {
    const key = `${file}\u0000${line}\u0000${fn}`;
    let acc = accs.get(key);
    if (!acc) {
      acc = { file, line, function: fn, user: 0, system: 0, idle: 0, samples: 0 };
      accs.set(key, acc);
    }
    acc[share] += us;
    acc.samples += count;
  };

  const totals = { user: 0, system: 0, idle: 0 };
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const duration = k + 1 < order.length ? times[order[k + 1]] - times[i] : Math.max(0, profile.endTime - times[i]);
    const leaf = byId.get(samples[i]);
    if (!leaf) throw new Error(`sample ${i} names unknown node ${samples[i]}`);
    const share = shareOf(kind.get(leaf.id)!);
    totals[share] += duration;
    const u = chargedUser(leaf.id);
    const charged = u < 0 ? leaf : byId.get(u)!;
    const cf = charged.callFrame;
    const file = fileOf(cf.url);
    const fn = functionOf(cf);
    if (charged === leaf && hasTicks(leaf)) {
      let sum = 0;
      for (const p of leaf.positionTicks) sum += p.ticks;
      for (const p of leaf.positionTicks) add(file, p.line, fn, share, (duration * p.ticks) / sum, p.ticks / sum);
    } else {
      const line = hasTicks(charged) ? hottestLine(charged.positionTicks, startLine(cf)) : startLine(cf);
      add(file, line, fn, share, duration, 1);
    }
  }

  const lines: LineStat[] = [...accs.values()].map((a) => ({
    file: a.file,
    line: a.line,
    function: a.function,
    userMs: a.user / 1000,
    systemMs: a.system / 1000,
    idleMs: a.idle / 1000,
    samples: a.samples,
  }));
  lines.sort(compareLines);
  const userMs = totals.user / 1000;
  const systemMs = totals.system / 1000;
  const idleMs = totals.idle / 1000;
  return {
    lines,
    totals: { wallMs: (totals.user + totals.system + totals.idle) / 1000, userMs, systemMs, idleMs, samples: samples.length },
  };
}

export function referenceAnalyzeFile(path: string): ReferenceResult {
  return referenceAnalyze(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile);
}
