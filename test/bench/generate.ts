// Writes a synthetic V8 .cpuprofile shaped like `node --cpu-prof` output, of any size, in bounded
// memory. Samples and timeDeltas are never stored: the sample stream is replayed from its seed, once
// to count hits (node hitCounts and endTime come before the arrays), once per array.
import { open, rename, type FileHandle } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/** Bump when the output changes, so stored benchmark files are regenerated. */
export const GENERATOR_VERSION = 1;

const CHUNK = 2 << 20; // bytes per write: big enough for throughput, small enough to stay bounded
const SLACK = 64 << 10; // room past CHUNK so a fill loop may finish its last number unchecked

const PROGRAM = 2;
const IDLE = 3;
const GC = 4;

/** mulberry32: tiny, fast, and plenty random for synthetic data. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** Exponentially distributed with the given mean: run and stretch lengths are heavy-ish tailed. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
}

// ---- the node tree ----------------------------------------------------------------------------

type Kind = 'user' | 'module' | 'internal' | 'native' | 'special';
interface Frame { name: string; scriptId: number; url: string; line: number; col: number; kind: Kind }
interface TreeNode { id: number; frame: Frame; children: number[]; hits: number }

const VERBS = ['handle', 'parse', 'render', 'load', 'resolve', 'validate', 'serialize', 'compute',
  'fetch', 'process', 'build', 'format', 'encode', 'decode', 'transform', 'update', 'query', 'read',
  'write', 'merge', 'filter', 'emit', 'dispatch', 'schedule', 'hash', 'normalize', 'apply', 'check'];
const NOUNS = ['Request', 'Response', 'Header', 'Body', 'User', 'Session', 'Token', 'Order', 'Item',
  'Row', 'Page', 'Template', 'Config', 'Route', 'Query', 'Result', 'Chunk', 'Record', 'Event',
  'Payload', 'Cache', 'Entry', 'Batch', 'Message', 'Stream', 'Index', 'Key', 'Invoice'];
const USER_FILES = ['server', 'router', 'db', 'auth', 'render', 'util', 'jobs', 'cache', 'api/users',
  'api/orders', 'models/user', 'models/order', 'lib/format', 'lib/queue', 'workers/report'];
const MODULE_FILES = ['express/lib/router/index.js', 'express/lib/router/layer.js', 'pg/lib/client.js',
  'pg-protocol/dist/parser.js', 'lodash/lodash.js', 'ws/lib/receiver.js', 'ejs/lib/ejs.js',
  'bcryptjs/dist/bcrypt.js', 'zod/lib/types.js', 'undici/lib/core/request.js'];
// The first entries are the event-loop entry points that sit directly under (root).
const INTERNAL: [string, string][] = [
  ['node:internal/main/run_main_module', ''], ['node:internal/process/task_queues', 'processTicksAndRejections'],
  ['node:internal/timers', 'processTimers'], ['node:internal/stream_base_commons', 'onStreamRead'],
  ['node:internal/timers', 'processImmediate'], ['node:internal/timers', 'listOnTimeout'],
  ['node:events', 'emit'], ['node:internal/streams/readable', 'readableAddChunk'],
  ['node:internal/streams/writable', 'writeOrBuffer'], ['node:_http_server', 'parserOnIncoming'],
  ['node:_http_common', 'parserOnHeadersComplete'], ['node:internal/fs/promises', 'readFile'],
  ['node:fs', 'readFileSync'], ['node:internal/crypto/pbkdf2', 'pbkdf2Sync'], ['node:zlib', 'zlibBufferSync'],
  ['node:internal/modules/cjs/loader', 'Module._compile'], ['node:internal/async_hooks', 'emitInit'],
  ['node:buffer', 'toString'], ['node:internal/util', 'promisify'], ['node:internal/modules/run_main', 'executeUserEntryPoint'],
];
const ROOT_ENTRIES = 5;
const NATIVE = ['readFileUtf8', 'writeString', 'writeBuffer', 'fstat', 'open', 'close', 'read', 'hash',
  'digest', 'compileFunction', 'writev', 'parse', 'stringify', 'randomFillSync', 'pbkdf2', 'deflateSync'];

function frames(rng: Rng): Record<Kind, Frame[]> {
  const ids = new Map<string, number>();
  let last = 8;
  const scriptId = (url: string): number => {
    if (!ids.has(url)) ids.set(url, (last += 1 + rng.int(3)));
    return ids.get(url)!;
  };
  const js = (url: string, kind: Kind, count: number): Frame[] => {
    const out: Frame[] = [];
    let line = rng.int(20);
    for (let i = 0; i < count; i++, line += 3 + rng.int(60)) {
      const name = rng.float() < 0.1 ? '' : VERBS[rng.int(VERBS.length)] + NOUNS[rng.int(NOUNS.length)];
      out.push({ name, scriptId: scriptId(url), url, line, col: rng.int(24), kind });
    }
    return out;
  };
  const special = (name: string): Frame => ({ name, scriptId: 0, url: '', line: -1, col: -1, kind: 'special' });
  return {
    special: ['(root)', '(program)', '(idle)', '(garbage collector)'].map(special),
    internal: INTERNAL.map(([url, name]) => ({ name, scriptId: scriptId(url), url, line: rng.int(900), col: rng.int(30), kind: 'internal' })),
    user: USER_FILES.flatMap((f) => js(`file:///srv/app/src/${f}.js`, 'user', 20)),
    module: MODULE_FILES.flatMap((f) => js(`file:///srv/app/node_modules/${f}`, 'module', 15)),
    native: NATIVE.map((name) => ({ ...special(name), kind: 'native' as Kind })),
  };
}

// Which kind of code a call from each kind of code lands in (cumulative thresholds).
const NEXT: Record<string, [number, Kind][]> = {
  internal: [[0.45, 'user'], [0.7, 'internal'], [0.85, 'module'], [1, 'native']],
  user: [[0.5, 'user'], [0.65, 'module'], [0.8, 'internal'], [1, 'native']],
  module: [[0.45, 'module'], [0.6, 'user'], [0.8, 'internal'], [1, 'native']],
};

/** A random call tree; ids follow creation order, so a parent's id is below its children's. */
function tree(rng: Rng, total: number): TreeNode[] {
  const f = frames(rng);
  const nodes: TreeNode[] = [];
  const add = (frame: Frame, parent?: TreeNode): TreeNode => {
    const n: TreeNode = { id: nodes.length + 1, frame, children: [], hits: 0 };
    nodes.push(n);
    parent?.children.push(n.id);
    return n;
  };
  const root = add(f.special[0]);
  for (const s of f.special.slice(1)) add(s, root);
  const open: TreeNode[] = f.internal.slice(0, ROOT_ENTRIES).map((fr) => add(fr, root));
  while (nodes.length < total) {
    // Mostly extend recent nodes, which builds stacks 10-30 deep like real programs have.
    const parent = rng.float() < 0.6
      ? open[open.length - 1 - rng.int(Math.min(30, open.length))]
      : open[rng.int(open.length)];
    const u = rng.float();
    const kind = NEXT[parent.frame.kind].find(([p]) => u < p)![1];
    const frame = f[kind][rng.int(f[kind].length)];
    // V8 merges identical call frames under one parent.
    if (parent.children.some((id) => nodes[id - 1].frame === frame)) continue;
    const n = add(frame, parent);
    if (kind !== 'native') open.push(n);
  }
  return nodes;
}

// ---- the sample stream ------------------------------------------------------------------------

interface Picks { table: Int32Array; blocking: number[] }

/** Busy samples land on nodes with Zipf-like weights, leaves favoured; a few nodes block for long. */
function picks(rng: Rng, nodes: TreeNode[]): Picks {
  const cands = nodes.slice(4);
  for (let i = cands.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [cands[i], cands[j]] = [cands[j], cands[i]];
  }
  const w = cands.map((n, rank) => (n.children.length ? 1 : 3) / (rank + 1));
  const sum = w.reduce((a, b) => a + b, 0);
  const table = new Int32Array(65536);
  let acc = 0;
  let at = 0;
  cands.forEach((n, i) => {
    acc += w[i];
    const upto = Math.round((acc / sum) * table.length);
    table.fill(n.id, at, upto);
    at = upto;
  });
  const leaves = cands.filter((n) => !n.children.length && n.frame.kind !== 'internal');
  return { table, blocking: (leaves.length ? leaves : cands).slice(0, 8).map((n) => n.id) };
}

/** Runs of one node id: idle stretches alternate with busy stretches of short runs, GC and blocking calls. */
class Runs {
  id = 0;
  len = 0;
  private busyLeft = 0;
  private idle = true;
  private rng: Rng;
  constructor(seed: number, private picks: Picks) {
    this.rng = new Rng(seed);
  }
  next(): void {
    const r = this.rng;
    if (this.busyLeft <= 0) {
      this.idle = !this.idle;
      if (this.idle) {
        this.id = IDLE;
        this.len = 1 + Math.floor(r.exp(120));
        return;
      }
      this.busyLeft = 1 + Math.floor(r.exp(300));
    }
    const u = r.float();
    if (u < 0.03) {
      this.id = GC;
      this.len = 1 + r.int(6);
    } else if (u < 0.08) {
      this.id = PROGRAM;
      this.len = 1 + r.int(3);
    } else if (u < 0.083) {
      this.id = this.picks.blocking[r.int(this.picks.blocking.length)];
      this.len = 20 + Math.floor(r.exp(400));
    } else {
      this.id = this.picks.table[r.u32() >>> 16];
      this.len = 1 + Math.floor(r.exp(3));
    }
    this.busyLeft -= this.len;
  }
}

/** Sampling intervals: ~1 ms with jitter, rare late ticks, rare small steps back in time. */
class Deltas {
  private rng: Rng;
  private carry = 0;
  private first = true;
  constructor(seed: number) {
    this.rng = new Rng(seed ^ 0x5bd1e995);
  }
  next(id: number): number {
    const u = this.rng.u32();
    if (this.first) {
      this.first = false;
      return 100 + (u % 1900);
    }
    let d = 960 + (((u & 255) + ((u >>> 8) & 255)) >>> 1); // triangular around ~1090 µs
    if (id === GC) d += (u >>> 10) & 63; // GC pauses delay the sampler a little
    const rare = u >>> 16;
    if (this.carry) {
      d += this.carry;
      this.carry = 0;
    } else if (rare < 4) {
      // Timestamps from different threads: time steps back a few µs; the next delta makes it up.
      this.carry = 1 + (this.rng.u32() & 15);
      return -this.carry;
    } else if (rare < 132) d += this.rng.u32() % 4000; // the sampler thread was descheduled
    return d;
  }
}

// ---- writing ----------------------------------------------------------------------------------

/** Two buffers: one is filled while the other is being written, so writes overlap generation. */
class Out {
  b: Buffer;
  p = 0;
  bytes = 0;
  private spare: Buffer = Buffer.allocUnsafe(CHUNK + SLACK);
  private pending: Promise<unknown> = Promise.resolve();
  constructor(private fh: FileHandle) {
    this.b = Buffer.allocUnsafe(CHUNK + SLACK);
  }
  async flush(): Promise<void> {
    await this.pending; // the spare buffer's write must finish before it is reused
    this.pending = this.fh.write(this.b, 0, this.p);
    this.bytes += this.p;
    [this.b, this.spare, this.p] = [this.spare, this.b, 0];
  }
  async text(s: string): Promise<void> {
    for (let i = 0; i < s.length; i += SLACK) {
      this.p += this.b.write(s.slice(i, i + SLACK), this.p, 'latin1');
      if (this.p >= CHUNK) await this.flush();
    }
  }
  async close(): Promise<void> {
    await this.flush();
    await this.pending;
  }
}

function putInt(b: Buffer, p: number, v: number): number {
  if (v < 0) {
    b[p++] = 45;
    v = -v;
  }
  let e = p + 1;
  for (let x = v; x >= 10; x = (x / 10) | 0) e++;
  const end = e;
  do {
    const q = (v / 10) | 0;
    b[--e] = 48 + v - q * 10;
    v = q;
  } while (v > 0);
  return end;
}

interface Stream { runs: Runs; deltas?: Deltas; left: number; runLeft: number; skipComma: number }
type Fill = (s: Stream, b: Buffer, p: number, end: number) => number;

const digits = Buffer.alloc(16);

const fillSamples: Fill = (s, b, p, end) => {
  let n = 0; // bytes of ",id" for the current run in `digits`; recomputed on entry and per run
  while (p < end && s.left > 0) {
    if (s.runLeft === 0 || n === 0) {
      if (s.runLeft === 0) {
        s.runs.next();
        s.runLeft = s.runs.len;
      }
      digits[0] = 44;
      n = putInt(digits, 1, s.runs.id);
    }
    for (let k = s.skipComma; k < n; k++) b[p++] = digits[k];
    s.skipComma = 0;
    s.runLeft--;
    s.left--;
  }
  return p;
};

const fillDeltas: Fill = (s, b, p, end) => {
  const d = s.deltas!;
  while (p < end && s.left > 0) {
    if (s.runLeft === 0) {
      s.runs.next();
      s.runLeft = s.runs.len;
    }
    if (s.skipComma) s.skipComma = 0;
    else b[p++] = 44;
    p = putInt(b, p, d.next(s.runs.id));
    s.runLeft--;
    s.left--;
  }
  return p;
};

async function pump(out: Out, s: Stream, fill: Fill): Promise<void> {
  while (s.left > 0) {
    out.p = fill(s, out.b, out.p, CHUNK);
    if (out.p >= CHUNK) await out.flush();
  }
}

function nodeJson(n: TreeNode, rng: Rng): string {
  const f = n.frame;
  let s = `{"id":${n.id},"callFrame":{"functionName":${JSON.stringify(f.name)},"scriptId":"${f.scriptId}",`
    + `"url":${JSON.stringify(f.url)},"lineNumber":${f.line},"columnNumber":${f.col}},"hitCount":${n.hits}`;
  if (n.children.length) s += `,"children":[${n.children.join(',')}]`;
  if (n.hits && f.url) {
    // Split the hits over a few distinct lines of the function body (1-based, as V8 writes them).
    const ticks: string[] = [];
    let left = n.hits;
    for (let line = f.line + 1; left > 0; line += 1 + rng.int(4)) {
      const t = ticks.length === 2 ? left : Math.max(1, Math.ceil(left * (0.4 + 0.5 * rng.float())));
      ticks.push(`{"line":${line},"ticks":${t}}`);
      left -= t;
    }
    s += `,"positionTicks":[${ticks.join(',')}]`;
  }
  return s + '}';
}

export async function generateProfile(
  path: string,
  opts: { samples: number; seed?: number; nodes?: number },
): Promise<{ bytes: number; samples: number }> {
  const seed = opts.seed ?? 1;
  const samples = Math.max(0, Math.floor(opts.samples));
  const nodes = tree(new Rng(seed), Math.max(16, opts.nodes ?? 2000));
  const pk = picks(new Rng(seed + 1), nodes);

  // Replay 1: hit counts and the summed deltas, which V8 writes before the arrays.
  const runs = new Runs(seed + 2, pk);
  const deltas = new Deltas(seed + 2);
  let total = 0;
  for (let left = samples; left > 0; ) {
    runs.next();
    const n = Math.min(runs.len, left);
    nodes[runs.id - 1].hits += n;
    for (let i = 0; i < n; i++) total += deltas.next(runs.id);
    left -= n;
  }

  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    const out = new Out(fh);
    const rng = new Rng(seed + 3);
    const start = 2e9 + rng.int(9e9); // µs on the monotonic clock, like V8's
    await out.text('{"nodes":[');
    // Parents before children, as V8 writes them; iterative because trees may be deep.
    const stack = [nodes[0]];
    for (let first = true; stack.length; first = false) {
      const n = stack.pop()!;
      await out.text((first ? '' : ',') + nodeJson(n, rng));
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(nodes[n.children[i] - 1]);
    }
    await out.text(`],"startTime":${start},"endTime":${start + total + 50 + rng.int(900)},"samples":[`);
    // Replays 2 and 3: the same seeds give the same runs, so samples and timeDeltas line up.
    await pump(out, { runs: new Runs(seed + 2, pk), left: samples, runLeft: 0, skipComma: 1 }, fillSamples);
    await out.text('],"timeDeltas":[');
    const s3 = { runs: new Runs(seed + 2, pk), deltas: new Deltas(seed + 2), left: samples, runLeft: 0, skipComma: 1 };
    await pump(out, s3, fillDeltas);
    await out.text(']}');
    await out.close();
    await fh.close();
    await rename(tmp, path);
    return { bytes: out.bytes, samples };
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, count] = process.argv.slice(2);
  if (!file || !(Number(count) >= 0)) {
    process.stderr.write('usage: node dist/test/bench/generate.js OUT.cpuprofile SAMPLES\n');
    process.exit(2);
  }
  const t0 = performance.now();
  const r = await generateProfile(file, { samples: Number(count) });
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(`${file}: ${(r.bytes / 1e6).toFixed(1)} MB, ${r.samples} samples in ${s.toFixed(1)} s `
    + `(${(r.bytes / 1e6 / s).toFixed(0)} MB/s)\n`);
}
