// Seeded random V8 `.cpuprofile` files that exercise what a streaming reader gets wrong: deep
// chains, sparse and huge node ids, children listed before parents, every frame kind, positionTicks,
// escaped and non-ASCII strings, arbitrary whitespace and key order, unknown keys holding brackets,
// quotes and deep nesting, locally reordered samples (negative timeDeltas, ties), times past 2^32 µs
// or with fractions, numbers in exponent form, empty profiles. Each profile lists its choices in
// `traits`, so a failure says which feature it exercised.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallFrame, CpuProfile, ProfileNode } from './reference.js';

/** mulberry32: small, fast, good enough for test data. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

export type Size = 'tiny' | 'small' | 'medium' | 'large';

export interface GeneratedProfile {
  seed: number;
  size: Size;
  profile: CpuProfile;
  text: string;
  /** What the generator chose, for failure messages. */
  traits: string[];
}

// ---------------------------------------------------------------------------------------------
// Names and URLs

const NAME_PARTS = [
  'handle',
  'run',
  'parse',
  'Request',
  'loop',
  'écrire',
  'naïve',
  '日本語',
  '😀emoji',
  'say"hi"',
  'back\\slash',
  'tab\tname',
  'new\nline',
  '{brace}',
  '[bracket]',
  'a/b',
  'x,y:z',
  '\u0001ctl',
  '\u2028sep',
  'get value',
  '<anonymous>',
  '$_',
  '#priv',
];

function randomName(rng: Rng): string {
  if (rng.chance(0.12)) return '';
  const n = rng.int(1, 3);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(NAME_PARTS);
  return s;
}

const DIR_PARTS = ['home', 'app', 'src', 'lib', 'my dir', 'café', 'ü', '😀', 'a%b', 'q"uote', 'back\\sl'];

/** A path segment, raw (for paths) and percent-encoded the way `pathToFileURL` does it. */
function segment(rng: Rng): { raw: string; enc: string } {
  const raw = rng.pick(DIR_PARTS) + (rng.chance(0.5) ? String(rng.int(0, 99)) : '');
  return { raw, enc: encodeURIComponent(raw) };
}

function randomPath(rng: Rng, nodeModules: boolean): { path: string; fileUrl: string } {
  const segs: { raw: string; enc: string }[] = [];
  const depth = rng.int(1, 4);
  for (let i = 0; i < depth; i++) segs.push(segment(rng));
  if (nodeModules) {
    segs.push({ raw: 'node_modules', enc: 'node_modules' });
    const pkg = rng.pick(['express', 'lodash', '@scope', 'pkg-ü']);
    segs.push({ raw: pkg, enc: encodeURIComponent(pkg) });
  }
  const base = rng.pick(['index.js', 'app.mjs', 'main.cjs', 'server.ts', 'wörk.js', 'a b.js']);
  segs.push({ raw: base, enc: encodeURIComponent(base) });
  return { path: '/' + segs.map((s) => s.raw).join('/'), fileUrl: 'file:///' + segs.map((s) => s.enc).join('/') };
}

type Kind = 'root' | 'program' | 'idle' | 'gc' | 'native' | 'internal' | 'dependency' | 'user';

function randomCallFrame(rng: Rng, kind: Kind): CallFrame {
  const line = rng.int(0, 400);
  const col = rng.int(0, 80);
  switch (kind) {
    case 'root':
      return { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 };
    case 'program':
      return { functionName: '(program)', url: '', lineNumber: -1, columnNumber: -1 };
    case 'idle':
      return { functionName: '(idle)', url: '', lineNumber: -1, columnNumber: -1 };
    case 'gc':
      return { functionName: '(garbage collector)', url: '', lineNumber: -1, columnNumber: -1 };
    case 'native': {
      const functionName = rng.pick(['scryptSync', 'readFileSync', 'JSON.parse', 'writeUtf8String', 'now', '', randomName(rng)]);
      const neg = rng.chance(0.7);
      return { functionName, url: '', lineNumber: neg ? -1 : line, columnNumber: neg ? -1 : col };
    }
    case 'internal': {
      const url = rng.pick([
        'node:internal/timers',
        'node:internal/process/task_queues',
        'node:fs',
        'node:internal/modules/cjs/loader',
        'internal/timers.js',
        'events.js',
        'internal/process/task_queues.js',
        'evalmachine.<anonymous>',
        'node:internal/deps/undici/undici',
      ]);
      return { functionName: randomName(rng), url, lineNumber: line, columnNumber: col };
    }
    case 'dependency': {
      const p = randomPath(rng, true);
      const url = rng.chance(0.7) ? p.fileUrl : rng.chance(0.5) ? p.path : 'https://cdn.example.com/node_modules/x/dist/x.js';
      return { functionName: randomName(rng), url, lineNumber: line, columnNumber: col };
    }
    case 'user': {
      const p = randomPath(rng, false);
      const r = rng.next();
      const url = r < 0.6 ? p.fileUrl : r < 0.85 ? p.path : rng.pick(['https://example.com/app.js?v=1', 'webpack://app/src/x.ts', 'wasm://wasm/0012abcd']);
      // a recorded line of -1 for a script frame happens with eval'd code
      const lineNumber = rng.chance(0.05) ? -1 : line;
      return { functionName: randomName(rng), url, lineNumber, columnNumber: col };
    }
  }
}

/** Share of profiles with url-less script frames (scriptId other than "0"). */
const EVAL_PROFILES = 0.1;

/** Code without a URL (eval, the console): V8 gives it a script id but no URL. */
function evalCallFrame(rng: Rng): CallFrame {
  return { functionName: rng.pick(['', 'eval', randomName(rng)]), url: '', lineNumber: rng.int(0, 20), columnNumber: rng.int(0, 20), scriptId: String(rng.int(1, 300)) };
}

/** Quirks: a special name with a URL is an ordinary frame. */
function quirkyCallFrame(rng: Rng): CallFrame {
  const p = randomPath(rng, false);
  return {
    functionName: rng.pick(['(program)', '(idle)', '(garbage collector)', '(root)']),
    url: rng.chance(0.5) ? p.fileUrl : 'node:internal/x',
    lineNumber: rng.int(0, 30),
    columnNumber: 0,
  };
}

function otherSpelling(rng: Rng, cf: CallFrame): CallFrame | undefined {
  const columnNumber = cf.columnNumber + rng.int(1, 20);
  if (cf.url.startsWith('file:///')) {
    const path = decodeURIComponent(cf.url.slice('file://'.length));
    return { ...cf, url: rng.chance(0.7) ? path : 'file://localhost' + cf.url.slice('file://'.length), columnNumber };
  }
  if (cf.url.startsWith('/')) return { ...cf, url: 'file://' + cf.url.split('/').map(encodeURIComponent).join('/'), columnNumber };
  if (cf.url !== '' || rng.chance(0.5)) return { ...cf, columnNumber };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The profile

interface Plan {
  nodes: number;
  chain: number;
  samples: number;
}

function plan(rng: Rng, size: Size): Plan {
  switch (size) {
    case 'tiny':
      return { nodes: rng.int(1, 6), chain: 0, samples: rng.int(0, 12) };
    case 'small':
      return { nodes: rng.int(2, 60), chain: rng.chance(0.3) ? rng.int(5, 40) : 0, samples: rng.int(0, 300) };
    case 'medium':
      return { nodes: rng.int(20, 400), chain: rng.chance(0.4) ? rng.int(50, 600) : 0, samples: rng.int(200, 2000) };
    case 'large':
      return { nodes: rng.int(100, 1500), chain: rng.int(4000, 5200), samples: rng.int(2000, 5000) };
  }
}

function uniqueIds(rng: Rng, n: number, traits: string[]): number[] {
  const mode = rng.pick(['dense', 'gaps', 'huge', 'huge']);
  traits.push(`ids:${mode}`);
  const ids: number[] = [];
  if (mode === 'dense') {
    const base = rng.int(0, 2);
    for (let i = 0; i < n; i++) ids.push(base + i);
  } else if (mode === 'gaps') {
    let id = rng.int(0, 1000);
    for (let i = 0; i < n; i++) {
      ids.push(id);
      id += rng.chance(0.5) ? 1 : rng.int(2, 100000);
    }
  } else {
    const seen = new Set<number>();
    if (rng.chance(0.5)) {
      seen.add(2147483647);
      ids.push(2147483647);
    }
    while (ids.length < n) {
      const id = rng.int(0, 2147483647);
      if (!seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    }
    rng.shuffle(ids);
  }
  return ids;
}

export function generateProfile(seed: number, size: Size): GeneratedProfile {
  const rng = new Rng(seed);
  const traits: string[] = [];
  const p = plan(rng, size);
  const total = p.nodes + p.chain;
  const ids = uniqueIds(rng, total + 1, traits); // one spare for a side branch

  // Frame pool: few distinct frames so that lines collide across nodes, as in real profiles.
  const kindsWeighted: Kind[] = ['user', 'user', 'user', 'user', 'dependency', 'dependency', 'internal', 'internal', 'native', 'native', 'program', 'idle', 'gc'];
  const pool: CallFrame[] = [];
  const poolSize = rng.int(1, Math.max(2, Math.min(80, total)));
  const evalRate = rng.chance(EVAL_PROFILES) ? 0.1 : 0;
  if (evalRate) traits.push('eval-frames');
  for (let i = 0; i < poolSize; i++) {
    const r = rng.next();
    pool.push(r < 0.03 ? quirkyCallFrame(rng) : r < 0.03 + evalRate ? evalCallFrame(rng) : randomCallFrame(rng, rng.pick(kindsWeighted)));
  }
  // Twins: one script named both ways (file:// URL and path), or two columns on one line; distinct
  // frames that report as the same line.
  for (const cf of pool.slice()) {
    if (!rng.chance(0.2)) continue;
    const twin = otherSpelling(rng, cf);
    if (twin) pool.push(twin);
  }

  const nodes: ProfileNode[] = [];
  const children: number[][] = [];
  const parentIdx: number[] = [];
  nodes.push({ id: ids[0], callFrame: randomCallFrame(rng, 'root') });
  children.push([]);
  parentIdx.push(-1);
  const addNode = (parent: number, cf: CallFrame): number => {
    const idx = nodes.length;
    nodes.push({ id: ids[idx], callFrame: { ...cf } });
    children.push([]);
    parentIdx.push(parent);
    children[parent].push(idx);
    return idx;
  };
  // the usual top level: (program), (idle), (garbage collector) under the root
  for (let i = 1; i < p.nodes; i++) {
    const parent = i < 4 ? 0 : rng.chance(0.3) ? rng.int(0, Math.min(i - 1, 5)) : rng.int(0, i - 1);
    let cf: CallFrame;
    if (i < 4 && parent === 0 && rng.chance(0.8)) cf = randomCallFrame(rng, (['program', 'idle', 'gc'] as const)[i - 1]);
    else cf = rng.pick(pool);
    addNode(parent, cf);
  }
  if (p.chain > 0) {
    // recursive code: a chain cycling through a few frames, hung under some node
    traits.push(`chain:${p.chain}`);
    const cycle: CallFrame[] = [];
    const cycleLen = rng.int(1, 4);
    for (let i = 0; i < cycleLen; i++) cycle.push(rng.chance(0.7) ? randomCallFrame(rng, rng.pick(['user', 'dependency', 'native', 'internal'] as const)) : rng.pick(pool));
    let at = rng.int(0, nodes.length - 1);
    for (let i = 0; i < p.chain; i++) at = addNode(at, cycle[i % cycleLen]);
    // a short side branch near the bottom
    if (rng.chance(0.5)) addNode(Math.max(0, nodes.length - rng.int(1, 10)), rng.pick(pool));
  }

  // Samples: biased to a hot set; chain leaves and inner nodes get samples too.
  const n = nodes.length;
  const hot: number[] = [];
  const hotCount = rng.int(1, Math.min(n, 25));
  for (let i = 0; i < hotCount; i++) hot.push(rng.int(0, n - 1));
  if (p.chain > 0) hot.push(n - 1, n - 2 >= 0 ? n - 2 : n - 1);
  const sampleIdx: number[] = [];
  for (let i = 0; i < p.samples; i++) sampleIdx.push(rng.chance(0.8) ? rng.pick(hot) : rng.int(0, n - 1));
  const hits = new Array<number>(n).fill(0);
  for (const s of sampleIdx) hits[s]++;

  // positionTicks: on some nodes, not necessarily summing to the node's samples.
  const tickMode = rng.pick(['none', 'some', 'many']);
  traits.push(`ticks:${tickMode}`);
  const pTicks = tickMode === 'none' ? 0.02 : tickMode === 'some' ? 0.3 : 0.8;
  for (let i = 1; i < n; i++) {
    if (nodes[i].callFrame.url === '' || !rng.chance(pTicks)) continue;
    if (rng.chance(0.03)) {
      nodes[i].positionTicks = [];
      continue;
    }
    const start = Math.max(1, nodes[i].callFrame.lineNumber + 1);
    const lines = new Set<number>();
    const count = rng.int(1, 5);
    while (lines.size < count) lines.add(start + rng.int(0, 30));
    const equalTicks = rng.chance(0.3);
    const t0 = rng.int(1, 9);
    nodes[i].positionTicks = rng
      .shuffle([...lines])
      .map((line) => ({ line, ticks: equalTicks ? t0 : hits[i] > 0 && rng.chance(0.4) ? rng.int(1, hits[i]) : rng.int(1, 50) }));
  }

  // Times: sorted first (ties, small and large steps), then shuffled inside blocks of at most 33, so
  // no sample appears more than 32 positions away from its place in time.
  // 'epoch': µs since 1970 (1.7e15: f64 still exact, but not in ms); 'gaps': pauses over 2^32 µs;
  // 'fractions': fractional µs.
  const timeMode = rng.pick(['plain', 'plain', 'plain', 'plain', 'epoch', 'gaps', 'fractions']);
  if (timeMode !== 'plain') traits.push(`times:${timeMode}`);
  const startTime =
    timeMode === 'epoch'
      ? 1_700_000_000_000_000 + rng.int(0, 999_999_999)
      : rng.chance(0.1)
        ? rng.int(0, 1000)
        : rng.int(1, 2 ** 20) * 1_000_000 + rng.int(0, 999_999);
  const sorted: number[] = [];
  let t = startTime + (rng.chance(0.05) ? -rng.int(1, 5000) : rng.int(0, 3000));
  const tieRate = rng.pick([0, 0.02, 0.2]);
  for (let i = 0; i < p.samples; i++) {
    sorted.push(t);
    const r = rng.next();
    t += r < tieRate ? 0 : r < 0.9 ? rng.int(500, 1500) : r < 0.98 ? rng.int(1, 499) : rng.int(1500, 300_000);
    if (timeMode === 'gaps' && rng.chance(0.01)) t += rng.int(2 ** 32, 2 ** 34);
    if (timeMode === 'fractions' && rng.chance(0.5)) t += rng.pick([0.5, 0.25, 0.75]);
  }
  const perm = sampleIdx.map((_, i) => i);
  // 'edge': blocks of 33 reversed, so the last sample of each block belongs 32 positions earlier.
  const reorder = rng.pick(['none', 'light', 'heavy', 'edge']);
  traits.push(`reorder:${reorder}`);
  if (reorder !== 'none') {
    for (let b = 0; b < perm.length; ) {
      const len = Math.min(perm.length - b, reorder === 'edge' ? 33 : rng.int(1, 33));
      if (reorder === 'edge') {
        const block = perm.slice(b, b + len).reverse();
        for (let k = 0; k < len; k++) perm[b + k] = block[k];
      } else if (reorder === 'heavy' || rng.chance(0.1)) {
        const block = rng.shuffle(perm.slice(b, b + len));
        for (let k = 0; k < len; k++) perm[b + k] = block[k];
      }
      b += len;
    }
  }
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let prev = startTime;
  for (let i = 0; i < perm.length; i++) {
    const j = perm[i];
    samples.push(nodes[sampleIdx[j]].id);
    timeDeltas.push(sorted[j] - prev);
    prev = sorted[j];
  }
  const last = sorted.length ? sorted[sorted.length - 1] : startTime;
  const er = rng.next();
  const endTime = er < 0.15 ? last - rng.int(0, 2000) : er < 0.25 ? last : last + rng.int(1, 5000);

  // Node order in the file: V8 writes parents first (pre-order); some writers do not.
  const order: number[] = [];
  const orderMode = rng.pick(['preorder', 'preorder', 'bfs', 'reversed', 'shuffled']);
  traits.push(`order:${orderMode}`);
  if (orderMode === 'preorder') {
    const stack = [0];
    while (stack.length) {
      const i = stack.pop()!;
      order.push(i);
      for (let k = children[i].length - 1; k >= 0; k--) stack.push(children[i][k]);
    }
  } else if (orderMode === 'bfs') {
    const queue = [0];
    for (let q = 0; q < queue.length; q++) {
      order.push(queue[q]);
      queue.push(...children[queue[q]]);
    }
  } else {
    for (let i = 0; i < n; i++) order.push(i);
    if (orderMode === 'reversed') order.reverse();
    else rng.shuffle(order);
  }
  const fileNodes: ProfileNode[] = order.map((i) => {
    const node: ProfileNode = { id: nodes[i].id, callFrame: nodes[i].callFrame };
    if (children[i].length) node.children = children[i].map((c) => nodes[c].id);
    else if (rng.chance(0.1)) node.children = [];
    if (nodes[i].positionTicks) node.positionTicks = nodes[i].positionTicks;
    return node;
  });

  const profile: CpuProfile = { nodes: fileNodes, startTime, endTime, samples, timeDeltas };
  const text = serialize(rng, profile, hits, order, traits);
  return { seed, size, profile, text, traits };
}

// ---------------------------------------------------------------------------------------------
// Writing JSON by hand: whitespace, key order, escapes and unknown keys vary.

type Ws = 'compact' | 'pretty' | 'random';

class Writer {
  constructor(
    private rng: Rng,
    private ws: Ws,
    private escapeMode: 'raw' | 'ascii' | 'mixed',
  ) {}
  space(indent: number): string {
    if (this.ws === 'compact') return '';
    if (this.ws === 'pretty') return '\n' + '  '.repeat(Math.min(indent, 12));
    if (!this.rng.chance(0.3)) return '';
    const chars = [' ', ' ', '\n', '\t', '\r\n', '  '];
    let s = '';
    const k = this.rng.int(1, 3);
    for (let i = 0; i < k; i++) s += this.rng.pick(chars);
    return s;
  }
  colon(): string {
    if (this.ws === 'compact') return ':';
    if (this.ws === 'pretty') return ': ';
    return this.space(0) + ':' + this.space(0);
  }
  /** Keys: JSON-escaped where they must be, otherwise written as they are. */
  key(s: string): string {
    return JSON.stringify(s);
  }
  str(s: string): string {
    const mode = this.escapeMode === 'mixed' ? (this.rng.chance(0.5) ? 'raw' : 'ascii') : this.escapeMode;
    let out = '"';
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const ch = s[i];
      if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (ch === '\n') out += '\\n';
      else if (ch === '\t') out += this.rng.chance(0.5) ? '\\t' : '\\u0009';
      else if (ch === '\r') out += '\\r';
      else if (ch === '/' && this.rng.chance(0.2)) out += '\\/';
      else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
      else if (c > 0x7e && mode === 'ascii') {
        const hex = c.toString(16).padStart(4, '0');
        out += '\\u' + (this.rng.chance(0.5) ? hex.toUpperCase() : hex);
      }
      else if (c >= 0x20 && c < 0x7f && this.escapeMode === 'mixed' && this.rng.chance(0.02)) out += '\\u' + c.toString(16).padStart(4, '0');
      else out += ch;
    }
    return out + '"';
  }
}

/** A number written exactly as given (exponents, signs, fractions). */
class RawNumber {
  constructor(readonly text: string) {}
}

/** A JSON value for unknown keys: nested containers, strings full of brackets and quotes, decoy keys. */
function junk(rng: Rng, depth: number): unknown {
  const r = rng.next();
  if (depth === 0 && r < 0.05) {
    // deep nesting
    let v: unknown = rng.pick(['"]', 1, [], {}]);
    const levels = rng.int(50, 400);
    for (let k = 0; k < levels; k++) v = rng.chance(0.5) ? [v] : { [rng.pick(['samples', 'a', '}'])]: v };
    return v;
  }
  if (r < 0.1) {
    // a long run of escapes and brackets, so that windows end inside escapes
    const chars = ['\\', '"', '[', ']', '{', '}', ',', ':', 'a', ' ', 'é', '\n', '\\"', '😀'];
    let str = '';
    const len = rng.int(20, 200);
    for (let k = 0; k < len; k++) str += rng.pick(chars);
    return str;
  }
  if (depth > 3 || r < 0.35) {
    return rng.pick<unknown>([
      'a]b}c{d[e',
      '"quoted" \\ back',
      '{"nodes":[1,2,3]}',
      '\\"]}',
      '',
      'samples',
      new RawNumber('12.5e-3'),
      new RawNumber('-0'),
      new RawNumber('1E+21'),
      new RawNumber('-0.0e-0'),
      new RawNumber('7.25'),
      -42,
      true,
      false,
      null,
      3.14159,
      'é😀',
    ]);
  }
  if (r < 0.68) {
    const n = rng.int(0, 4);
    const a: unknown[] = [];
    for (let i = 0; i < n; i++) a.push(junk(rng, depth + 1));
    return a;
  }
  const o: Record<string, unknown> = {};
  const n = rng.int(0, 4);
  for (let i = 0; i < n; i++) {
    const k = rng.pick(['nodes', 'samples', 'timeDeltas', 'startTime', 'endTime', 'id', 'children', 'callFrame', 'x]', 'k"ey', 'meta{']);
    o[k] = k === 'samples' || k === 'timeDeltas' || k === 'nodes' ? [rng.int(0, 99), { id: 1 }] : junk(rng, depth + 1);
  }
  return o;
}

function writeValue(w: Writer, v: unknown, indent: number): string {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : JSON.stringify(v);
  if (typeof v === 'string') return w.str(v);
  if (v instanceof RawNumber) return v.text;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[' + w.space(indent) + ']';
    return '[' + v.map((x) => w.space(indent + 1) + writeValue(w, x, indent + 1)).join(',') + w.space(indent) + ']';
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return '{' + w.space(indent) + '}';
  return '{' + entries.map(([k, x]) => w.space(indent + 1) + w.key(k) + w.colon() + writeValue(w, x, indent + 1)).join(',') + w.space(indent) + '}';
}

function writeObject(w: Writer, entries: [string, string][], indent: number): string {
  return '{' + entries.map(([k, x]) => w.space(indent + 1) + w.key(k) + w.colon() + x).join(',') + w.space(indent) + '}';
}

/** The same number spelled another way: exponent, fraction, sign of zero. */
function numberText(rng: Rng, x: number, otherForms: boolean): string {
  if (!otherForms || Math.abs(x) >= 1e12 || rng.chance(0.6)) return String(x);
  if (x === 0 && rng.chance(0.3)) return '-0';
  const forms = [`${x}e0`, `${x}E+0`, `${x * 100}e-2`];
  if (Number.isInteger(x)) forms.push(`${x}.0`, `${x / 1000}e3`, `${x / 1000}E3`);
  return rng.pick(forms);
}

function writeNumbers(w: Writer, xs: number[], indent: number, text: (x: number) => string = String): string {
  if (xs.length === 0) return '[' + w.space(indent) + ']';
  return '[' + xs.map((x) => w.space(indent + 1) + text(x)).join(',') + w.space(indent) + ']';
}

function serialize(rng: Rng, profile: CpuProfile, hits: number[], order: number[], traits: string[]): string {
  const ws = rng.pick<Ws>(['compact', 'compact', 'pretty', 'random']);
  const esc = rng.pick(['raw', 'ascii', 'mixed'] as const);
  traits.push(`ws:${ws}`, `esc:${esc}`);
  const w = new Writer(rng, ws, esc);
  const extraKeys = rng.chance(0.5);
  const otherForms = rng.chance(0.1);
  if (otherForms) traits.push('number-forms');
  const num = (x: number) => numberText(rng, x, otherForms);
  const shuffleKeys = rng.chance(0.4);
  if (extraKeys) traits.push('unknown-keys');
  if (shuffleKeys) traits.push('key-order');

  const nodeTexts = profile.nodes.map((node, k) => {
    const cf = node.callFrame;
    const cfEntries: [string, string][] = [
      ['functionName', w.str(cf.functionName)],
      ['scriptId', w.str(cf.scriptId ?? (cf.url === '' ? '0' : String(rng.int(1, 300))))],
      ['url', w.str(cf.url)],
      ['lineNumber', String(cf.lineNumber)],
      ['columnNumber', String(cf.columnNumber)],
    ];
    if (extraKeys && rng.chance(0.2)) cfEntries.push(['codeType', w.str(rng.pick(['JS', 'other']))]);
    if (shuffleKeys) rng.shuffle(cfEntries);
    const entries: [string, string][] = [
      ['id', String(node.id)],
      ['callFrame', writeObject(w, cfEntries, 3)],
      ['hitCount', String(rng.chance(0.5) ? hits[order[k]] : rng.int(0, 1000))],
    ];
    if (node.children) entries.push(['children', writeNumbers(w, node.children, 3)]);
    if (node.positionTicks) {
      const pt = node.positionTicks.map((t) => {
        const e: [string, string][] = [
          ['line', String(t.line)],
          ['ticks', String(t.ticks)],
        ];
        if (shuffleKeys && rng.chance(0.5)) e.reverse();
        return w.space(4) + writeObject(w, e, 4);
      });
      entries.push(['positionTicks', pt.length ? '[' + pt.join(',') + w.space(3) + ']' : '[]']);
    }
    if (extraKeys && rng.chance(0.15)) entries.push([rng.pick(['deoptReason', 'x', 'meta']), writeValue(w, junk(rng, 1), 3)]);
    if (shuffleKeys) rng.shuffle(entries);
    return w.space(2) + writeObject(w, entries, 2);
  });
  const top: [string, string][] = [
    ['nodes', '[' + nodeTexts.join(',') + w.space(1) + ']'],
    ['startTime', num(profile.startTime)],
    ['endTime', num(profile.endTime)],
    ['samples', writeNumbers(w, profile.samples, 1)],
    ['timeDeltas', writeNumbers(w, profile.timeDeltas, 1, num)],
  ];
  if (extraKeys) {
    const k = rng.int(1, 3);
    for (let i = 0; i < k; i++) {
      top.splice(rng.int(0, top.length), 0, [rng.pick(['$schema', 'meta', 'title', 'x{', 'threads']), writeValue(w, junk(rng, 0), 1)]);
    }
  }
  if (shuffleKeys) {
    rng.shuffle(top);
    // the variants seen in the wild: samples after timeDeltas, startTime last
    if (rng.chance(0.5)) {
      const names = top.map(([k]) => k);
      const s = names.indexOf('samples');
      const d = names.indexOf('timeDeltas');
      if (s < d) [top[s], top[d]] = [top[d], top[s]];
      const st = top.findIndex(([k]) => k === 'startTime');
      top.push(top.splice(st, 1)[0]);
    }
  }
  const lead = ws === 'random' && rng.chance(0.3) ? rng.pick([' ', '\n', '\t\r\n']) : '';
  const trail = ws === 'pretty' ? '\n' : ws === 'random' && rng.chance(0.3) ? ' \n' : '';
  return lead + writeObject(w, top, 0) + trail;
}

export const SIZES: readonly Size[] = ['tiny', 'small', 'medium', 'large'];

/** The fixed mix the cross-check uses: mostly tiny and small, a few medium and large. */
export function sizeFor(i: number): Size {
  if (i % 25 === 24) return 'large';
  if (i % 5 === 4) return 'medium';
  return i % 3 === 0 ? 'tiny' : 'small';
}

export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'loopscope-crosscheck-'));
}

export function writeProfile(dir: string, g: GeneratedProfile): string {
  const path = join(dir, `random-${g.seed}-${g.size}.cpuprofile`);
  writeFileSync(path, g.text);
  return path;
}
