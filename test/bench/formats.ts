// `npm run bench:formats`: loopscope on a large Chrome trace (a DevTools performance export: the CPU
// profile as Profile/ProfileChunk events among other events) and a large pprof profile, each next
// to the naive baseline measured in the same run on the same file (readFileSync + JSON.parse, or
// readFileSync + protobufjs decode). Both files are written in bounded memory into bench-data/.
// Env: BENCH_TRACE_MB and BENCH_PPROF_MB set the sizes (default 500, and 200,400: two pprof sizes
// show how memory grows with the file), BENCH_RUNS the runs, BENCH_FORMATS=trace (or pprof) measures
// one of the two.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from './generate.js';
import { measure, type Run } from './measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/test/bench
const CLI = join(ROOT, 'dist/src/cli.cjs');
const DATA = join(ROOT, 'bench-data');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Bump when the generated files change, so stored ones are regenerated. */
const GENERATOR_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Generating

/** A call tree of `n` nodes (node 1 the root; 2 (program), 3 (idle), 4 (garbage collector)). */
function callTree(rng: Rng, n: number): { parent: Int32Array; frame: string[] } {
  const parent = new Int32Array(n + 1);
  const frame = ['', '{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1}'];
  for (const name of ['(program)', '(idle)', '(garbage collector)']) {
    parent[frame.length] = 1;
    frame.push(`{"functionName":"${name}","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1}`);
  }
  for (let id = frame.length; id <= n; id++) {
    // Mostly deep chains with some branching, as real programs have.
    parent[id] = id === 5 ? 1 : Math.max(5, id - 1 - rng.int(Math.min(id - 5, 40)));
    const file = rng.int(60);
    const url = file < 40 ? `file:///srv/app/src/module${file}.js` : `file:///srv/app/node_modules/dep${file}/index.js`;
    frame.push(`{"functionName":"fn${id}","scriptId":"${10 + file}","url":"${url}","lineNumber":${rng.int(900)},"columnNumber":${rng.int(80)}}`);
  }
  return { parent, frame };
}

/** Buffered writes in bounded memory. */
class Out {
  bytes = 0;
  private parts: string[] = [];
  pending = 0;
  constructor(private readonly fh: Awaited<ReturnType<typeof open>>) {}
  async write(s: string): Promise<void> {
    this.parts.push(s);
    this.pending += s.length;
    if (this.pending >= 1 << 22) await this.flush();
  }
  async writeBytes(b: Uint8Array): Promise<void> {
    await this.flush();
    await this.fh.write(b);
    this.bytes += b.length;
  }
  async flush(): Promise<void> {
    if (!this.parts.length) return;
    const buf = Buffer.from(this.parts.join(''));
    this.parts = [];
    this.pending = 0;
    await this.fh.write(buf);
    this.bytes += buf.length;
  }
}

async function writeFileBounded(path: string, body: (out: Out) => Promise<void>): Promise<number> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  const out = new Out(fh);
  await body(out);
  await out.flush();
  await fh.close();
  await rename(tmp, path);
  return out.bytes;
}

/**
 * A DevTools-style trace of about `mb` MB: metadata, a Profile event, then per chunk of 500 samples
 * a ProfileChunk (new nodes with `parent`, samples, timeDeltas) from the profiler thread and 30
 * RunTask slices of the main thread, as `{"metadata": ..., "traceEvents": [...]}`.
 */
async function generateTrace(path: string, mb: number): Promise<{ bytes: number; samples: number }> {
  const rng = new Rng(7);
  const tree = callTree(rng, 3000);
  const introduced = new Uint8Array(tree.parent.length);
  const pid = 4711;
  let samples = 0;
  const bytes = await writeFileBounded(path, async (out) => {
    let ts = 50_000_000;
    await out.write('{"metadata":{"source":"DevTools","startTime":"2026-11-27T12:00:00.000Z"},"traceEvents":[\n');
    await out.write(`{"pid":${pid},"tid":1,"ts":0,"ph":"M","cat":"__metadata","name":"thread_name","args":{"name":"CrRendererMain"}},\n`);
    await out.write(`{"pid":${pid},"tid":9,"ts":0,"ph":"M","cat":"__metadata","name":"thread_name","args":{"name":"v8:ProfEvntProc"}},\n`);
    await out.write(`{"pid":${pid},"tid":1,"ts":${ts},"ph":"P","cat":"disabled-by-default-v8.cpu_profiler","name":"Profile","id":"0x1","args":{"data":{"startTime":${ts}}}}`);
    let node = 5;
    while (out.bytes + out.pending < mb * 1e6 || samples === 0) {
      const ids: number[] = [];
      const deltas: number[] = [];
      const nodes: string[] = [];
      for (let i = 0; i < 500; i++) {
        // Runs of one stack, jumps to a nearby one, now and then idle or GC.
        const r = rng.float();
        if (r < 0.05) node = 3;
        else if (r < 0.06) node = 4;
        else if (r < 0.3 || node < 5) node = 5 + rng.int(tree.parent.length - 5);
        const chain: number[] = [];
        for (let id = node; id > 0 && !introduced[id]; id = tree.parent[id]) chain.push(id);
        for (let k = chain.length - 1; k >= 0; k--) {
          const id = chain[k];
          introduced[id] = 1;
          nodes.push(`{"callFrame":${tree.frame[id]},"id":${id}${id > 1 ? `,"parent":${tree.parent[id]}` : ''}}`);
        }
        ids.push(node);
        deltas.push(100 + rng.int(60));
      }
      samples += ids.length;
      const chunkTs = ts + deltas.reduce((a, b) => a + b, 0);
      await out.write(
        `,\n{"pid":${pid},"tid":9,"ts":${chunkTs},"ph":"P","cat":"disabled-by-default-v8.cpu_profiler","name":"ProfileChunk","id":"0x1",` +
          `"args":{"data":{"cpuProfile":{"nodes":[${nodes.join(',')}],"samples":[${ids.join(',')}]},"timeDeltas":[${deltas.join(',')}]}}}`,
      );
      for (let k = 0; k < 30; k++) {
        const at = ts + k * 2000;
        await out.write(
          `,\n{"pid":${pid},"tid":1,"ts":${at},"ph":"X","cat":"toplevel","name":"ThreadControllerImpl::RunTask","dur":${1500 + rng.int(400)},"tdur":1400,"tts":${at - 49_000_000},"args":{"src_file":"../../base/task/sequence_manager.cc","src_func":"PostTask"}}`,
        );
      }
      ts = chunkTs;
    }
    await out.write('\n]}\n');
  });
  return { bytes, samples };
}

// A minimal protobuf writer: pprof's profile.proto, field by field.
function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}
function field(out: number[], id: number, body: number[]): void {
  varint(out, (id << 3) | 2);
  varint(out, body.length);
  for (const b of body) out.push(b);
}
function intField(out: number[], id: number, v: number): void {
  varint(out, id << 3);
  varint(out, v);
}

/** A pprof CPU profile of about `mb` MB (uncompressed): 3000 functions, deep stacks, two values. */
async function generatePprof(path: string, mb: number): Promise<{ bytes: number; samples: number }> {
  const rng = new Rng(11);
  const tree = callTree(rng, 3000);
  let samples = 0;
  const bytes = await writeFileBounded(path, async (out) => {
    const head: number[] = [];
    const strings = ['', 'samples', 'count', 'cpu', 'nanoseconds'];
    for (let id = 1; id < tree.parent.length; id++) strings.push(`fn${id}`, `/srv/app/src/module${id % 40}.go`);
    for (const s of strings) field(head, 6, [...Buffer.from(s)]);
    for (const [type, unit] of [[1, 2], [3, 4]]) {
      const vt: number[] = [];
      intField(vt, 1, type);
      intField(vt, 2, unit);
      field(head, 1, vt);
    }
    for (let id = 1; id < tree.parent.length; id++) {
      const fn: number[] = [];
      intField(fn, 1, id);
      intField(fn, 2, 3 + 2 * id);
      intField(fn, 4, 4 + 2 * id);
      intField(fn, 5, 1 + rng.int(900));
      field(head, 5, fn);
      const line: number[] = [];
      intField(line, 1, id);
      intField(line, 2, 1 + rng.int(900));
      const loc: number[] = [];
      intField(loc, 1, id);
      field(loc, 4, line);
      field(head, 4, loc);
    }
    await out.writeBytes(Uint8Array.from(head));
    let node = 5;
    while (out.bytes + out.pending < mb * 1e6) {
      const block: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        if (rng.float() < 0.3) node = 5 + rng.int(tree.parent.length - 5);
        const locations: number[] = [];
        for (let id = node; id > 1; id = tree.parent[id]) varint(locations, id);
        const values: number[] = [];
        varint(values, 1);
        varint(values, 10_000_000);
        const sample: number[] = [];
        field(sample, 1, locations);
        field(sample, 2, values);
        field(block, 2, sample);
        samples++;
      }
      await out.writeBytes(Uint8Array.from(block));
    }
  });
  return { bytes, samples };
}

interface Input {
  kind: 'trace' | 'pprof';
  path: string;
  bytes: number;
  samples: number;
}

async function ensure(kind: Input['kind'], mb: number): Promise<Input> {
  const path = join(DATA, kind === 'trace' ? `devtools-${mb}mb.trace.json` : `cpu-${mb}mb.pprof`);
  const metaPath = `${path}.meta.json`;
  try {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Input & { version: number };
    if (meta.version === GENERATOR_VERSION && statSync(path).size === meta.bytes) return { kind, path, bytes: meta.bytes, samples: meta.samples };
  } catch {
    /* missing or stale */
  }
  mkdirSync(DATA, { recursive: true });
  process.stderr.write(`generating ${relative(ROOT, path)}...\n`);
  const made = kind === 'trace' ? await generateTrace(path, mb) : await generatePprof(path, mb);
  writeFileSync(metaPath, JSON.stringify({ version: GENERATOR_VERSION, ...made }));
  return { kind, path, ...made };
}

// ---------------------------------------------------------------------------------------------
// Baselines: the whole file in memory, decoded in one call

async function baseline(kind: string, path: string): Promise<void> {
  const self = new Map<number, number>();
  if (kind === 'trace') {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: { name?: string; args: { data: { cpuProfile?: { samples?: number[] }; timeDeltas?: number[] } } }[] };
    for (const e of parsed.traceEvents) {
      if (e.name !== 'ProfileChunk') continue;
      const ids = e.args.data.cpuProfile?.samples ?? [];
      const deltas = e.args.data.timeDeltas ?? [];
      for (let i = 0; i < ids.length; i++) self.set(ids[i], (self.get(ids[i]) ?? 0) + deltas[i]);
    }
  } else {
    const { ProfileType } = await import('../../src/importers/pprof.js');
    const decoded = ProfileType.decode(readFileSync(path)) as unknown as { sample: { locationId: number[]; value: number[] }[] };
    for (const s of decoded.sample) self.set(s.locationId[0], (self.get(s.locationId[0]) ?? 0) + s.value[1]);
  }
  process.stdout.write(`${self.size} leaves\n`);
}

// ---------------------------------------------------------------------------------------------

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const formats = (process.env.BENCH_FORMATS ?? 'trace,pprof').split(',');
  const inputs: Input[] = [];
  if (formats.includes('trace')) inputs.push(await ensure('trace', Number(process.env.BENCH_TRACE_MB ?? 500)));
  if (formats.includes('pprof')) {
    for (const mb of (process.env.BENCH_PPROF_MB ?? '200,400').split(',')) inputs.push(await ensure('pprof', Number(mb)));
  }
  const lines = [
    '| file | size MB | samples | tool | wall s (median) | MB/s | peak RSS MB | throughput vs baseline |',
    '|---|--:|--:|---|--:|--:|--:|--:|',
  ];
  for (const input of inputs) {
    const results: Record<string, Run[]> = {};
    // The baseline gets the heap it needs: the point is its time and memory, not a crash.
    const tools: [string, string[]][] = [
      ['loopscope analyze --json', [CLI, 'analyze', '--json', input.path]],
      ['baseline', ['--max-old-space-size=16384', fileURLToPath(import.meta.url), '--baseline', input.kind, input.path]],
    ];
    for (const [tool, args] of tools) {
      results[tool] = [];
      for (let i = 0; i < RUNS; i++) {
        process.stderr.write(`  ${tool} ${relative(ROOT, input.path)} run ${i + 1}/${RUNS}\n`);
        const r = await measure(args);
        results[tool].push(r);
        if (r.code !== 0) break;
      }
    }
    const mbps = (runs: Run[]) => input.bytes / 1e6 / median(runs.map((r) => r.wallS));
    const base = results.baseline;
    const baseOk = base.every((r) => r.code === 0);
    for (const [tool] of tools) {
      const runs = results[tool];
      const head = `| ${relative(ROOT, input.path)} | ${fmt(input.bytes / 1e6)} | ${input.samples.toLocaleString('en-US')} | ${tool} |`;
      const failed = runs.find((r) => r.code !== 0);
      if (failed) {
        lines.push(`${head} exit ${failed.code}: ${failed.err.replaceAll('|', '\\|') || '(no stderr)'} | | | |`);
        continue;
      }
      const ratio = baseOk ? `${fmt(mbps(runs) / mbps(base), 2)}x` : 'n/a';
      lines.push(`${head} ${fmt(median(runs.map((r) => r.wallS)), 2)} | ${fmt(mbps(runs))} | ${fmt(Math.max(...runs.map((r) => r.rssMB)))} | ${ratio} |`);
    }
  }
  console.log(lines.join('\n'));
}

if (process.argv[2] === '--baseline') await baseline(process.argv[3], process.argv[4]);
else await main();
