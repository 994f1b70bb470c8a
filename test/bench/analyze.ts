// `npm run bench`: loopscope's throughput and peak memory on large V8 CPU profiles, each figure next
// to the naive baseline (readFileSync + JSON.parse) measured in the same run on the same file.
// Env: BENCH_QUICK=1 skips the big file; BENCH_BIG_SAMPLES sets its sample count.
import { existsSync, mkdirSync, readFileSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATOR_VERSION, generateProfile } from './generate.js';
import { measure, type Run } from './measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/test/bench
const CLI = join(ROOT, 'dist/src/cli.cjs');
const DATA = join(ROOT, 'bench-data');
const SEED = 1;
const RUNS = 3;
const MIN_FREE = 6e9; // the big file plus headroom for everything else on the disk

interface Input { path: string; bytes: number; samples: number }
interface Row { input: Input; tool: string; runs: Run[]; note?: string }

/** RUNS runs, stopping at the first failure. */
async function bench(input: Input, tool: string, args: string[]): Promise<Row> {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    process.stderr.write(`  ${tool} ${relative(ROOT, input.path)} run ${i + 1}/${RUNS}\n`);
    const r = await measure(args);
    runs.push(r);
    if (r.code !== 0) break;
  }
  return { input, tool, runs };
}

/** The profile for `samples`, regenerated only when missing or made by another generator version. */
async function ensure(samples: number, big: boolean): Promise<Input | string> {
  const path = join(DATA, `synthetic-${samples}.cpuprofile`);
  const metaPath = `${path}.meta.json`;
  const want = { version: GENERATOR_VERSION, seed: SEED, samples };
  try {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as typeof want & { bytes: number };
    if (meta.version === want.version && meta.seed === SEED && meta.samples === samples
      && statSync(path).size === meta.bytes) return { path, bytes: meta.bytes, samples };
  } catch { /* missing or stale: generate */ }
  mkdirSync(DATA, { recursive: true });
  if (big) {
    const fs = statfsSync(DATA);
    const free = fs.bavail * fs.bsize;
    if (free < MIN_FREE) return `skipped: ${(free / 1e9).toFixed(1)} GB free on disk, need ${MIN_FREE / 1e9} GB`;
  }
  process.stderr.write(`generating ${relative(ROOT, path)} (${samples} samples)...\n`);
  const t0 = performance.now();
  const { bytes } = await generateProfile(path, { samples, seed: SEED });
  const s = (performance.now() - t0) / 1000;
  process.stderr.write(`  ${(bytes / 1e6).toFixed(0)} MB in ${s.toFixed(1)} s (${(bytes / 1e6 / s).toFixed(0)} MB/s)\n`);
  writeFileSync(metaPath, JSON.stringify({ ...want, bytes }));
  return { path, bytes, samples };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ok = (row: Row): boolean => row.runs.length > 0 && row.runs.every((r) => r.code === 0);
const mbps = (row: Row): number => row.input.bytes / 1e6 / median(row.runs.map((r) => r.wallS));
const peak = (row: Row): number => Math.max(...row.runs.map((r) => r.rssMB));
const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(rows: Row[]): string {
  const out = [
    '| file | size MB | samples | tool | wall s (median of 3) | 1st run s | CPU s (median) | MB/s | samples/s | peak RSS MB | throughput vs baseline |',
    '|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const row of rows) {
    const { input } = row;
    const head = `| ${relative(ROOT, input.path)} | ${fmt(input.bytes / 1e6)} | ${input.samples.toLocaleString('en-US')} | ${row.tool} |`;
    if (row.note || !ok(row)) {
      const last = row.runs.at(-1);
      const why = row.note ?? `exit ${last?.code}: ${last?.err || '(no stderr)'}`;
      out.push(`${head} ${why.replaceAll('|', '\\|')} | | | | | | |`);
      continue;
    }
    const wall = median(row.runs.map((r) => r.wallS));
    const base = rows.find((r) => r.input === input && r.tool === 'baseline' && ok(r));
    const ratio = base ? `${fmt(mbps(row) / mbps(base))}x` : 'n/a';
    out.push(`${head} ${fmt(wall, 2)} | ${fmt(row.runs[0].wallS, 2)} | ${fmt(median(row.runs.map((r) => r.cpuS)), 2)} | ${fmt(mbps(row))} | `
      + `${fmt(input.samples / wall, 0)} | ${fmt(peak(row))} | ${ratio} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const quick = process.env.BENCH_QUICK === '1';
  const bigSamples = Number(process.env.BENCH_BIG_SAMPLES ?? 190_000_000);
  const inputs = [await ensure(10_000_000, false), quick ? 'skipped: BENCH_QUICK=1' : await ensure(bigSamples, true)];
  const haveCli = existsSync(CLI);
  const rows: Row[] = [];
  for (const [i, input] of inputs.entries()) {
    if (typeof input === 'string') continue;
    rows.push(haveCli
      ? await bench(input, 'loopscope', [CLI, 'analyze', '--json', input.path])
      : { input, tool: 'loopscope', runs: [], note: 'not built (dist/src/cli.cjs missing)' });
    // JSON.parse needs the whole file as one string, and V8 strings stop near 512 MB.
    rows.push(i === 0
      ? await bench(input, 'baseline', [fileURLToPath(import.meta.url), '--baseline', input.path])
      : { input, tool: 'baseline', runs: [], note: 'n/a (string limit)' });
  }

  // The floor under any command line: starting Node and doing nothing, in the same run.
  const floor = await bench({ path: 'node -e 0', bytes: 0, samples: 0 }, 'startup', ['-e', '0']);
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');

  console.log(table(rows));
  console.log(`\nLoad average at the end (1, 5, 15 min): ${load} on ${availableParallelism()} cores.`);
  const find = (input: Input | string, tool: string): Row | undefined => rows.find((r) => r.input === input && r.tool === tool);
  const [small, smallBase, big] = [find(inputs[0], 'loopscope'), find(inputs[0], 'baseline'), find(inputs[1], 'loopscope')];
  const measured = rows.filter((r) => r.tool === 'loopscope' && ok(r));
  const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');
  const lines = ['', 'Targets:'];
  if (small && ok(small) && smallBase && ok(smallBase)) {
    const x = mbps(small) / mbps(smallBase);
    lines.push(`- throughput >= 10x baseline on the 90 MB file: ${fmt(x)}x ${verdict(x >= 10)}`);
    const cpu = (row: Row) => median(row.runs.map((r) => r.cpuS));
    if (!Number.isNaN(cpu(small))) lines.push(`  (in CPU time, which a loaded machine distorts less: ${fmt(cpu(smallBase) / cpu(small))}x)`);
    if (ok(floor)) {
      const baseWall = median(smallBase.runs.map((r) => r.wallS));
      const startup = median(floor.runs.map((r) => r.wallS));
      lines.push(`  (10x means ${fmt(baseWall / 10, 3)} s for the whole process; \`node -e 0\` alone takes ${fmt(startup, 3)} s here,`
        + ` leaving ${fmt(baseWall / 10 - startup, 3)} s for reading, parsing and analysing ${fmt(small.input.bytes / 1e6)} MB)`);
    }
  } else lines.push('- throughput >= 10x baseline on the 90 MB file: not measured');
  if (measured.length) {
    const rss = Math.max(...measured.map(peak));
    lines.push(`- peak RSS <= 150 MB at any size: ${fmt(rss)} MB ${verdict(rss <= 150)}`);
  } else lines.push('- peak RSS <= 150 MB at any size: not measured');
  const bigIn = inputs[1];
  if (typeof bigIn === 'string') lines.push(`- big file analysed without error: ${bigIn}`);
  else if (!big || big.note) lines.push(`- big file analysed without error: not measured (${big?.note ?? 'no run'})`);
  else {
    const last = big.runs.at(-1)!;
    lines.push(`- ${fmt(bigIn.bytes / 1e9, 2)} GB file analysed without error: exit ${last.code}`
      + `${last.code === 0 ? '' : `, stderr: ${last.err || '(empty)'}`} ${verdict(ok(big))}`);
  }
  console.log(lines.join('\n'));
}

if (process.argv[2] === '--baseline') {
  // What a script without a streaming parser does: the whole file as one string, then JSON.parse.
  const p = JSON.parse(readFileSync(process.argv[3], 'utf8')) as { samples: number[]; timeDeltas: number[] };
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + p.timeDeltas[i]);
  process.stdout.write(`${self.size} nodes\n`);
} else {
  await main();
}
