// `npm run bench:collect`: what recording costs. Each program runs plainly and under
// `loopscope collect`, one after the other in each round (BENCH_RUNS rounds, 5 by default); the table
// shows median wall times, the ratio of the medians next to the target, and the spread of the
// per-round ratios (the machine may be shared); and, on Linux, the median CPU time (user + system,
// the whole process tree) and its ratio, which a loaded machine disturbs less than wall time, and
// the plain run's CPU time over its wall time: the 1.3x target is for I/O-bound programs, whose
// process mostly waits (below 0.5); a program whose loop is busy pays the per-callback costs on
// its critical path. The I/O-bound program calls a backend (test/bench/programs/backend.mjs) that
// this benchmark starts once per delay, in a process of its own, as a service would be: 50 ms a
// request (it waits), and 20 ms (its client is busy about half the time, the edge). For
// the programs with a target, two floors measured
// the same way: the program under `node --cpu-prof` alone, and with empty async hooks alone (what
// Node's own async_hooks machinery costs before anything is recorded).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childrenCpuMs } from './measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/test/bench
const CLI = join(ROOT, 'dist/src/cli.cjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const HOOKS_ONLY = pathToFileURL(join(ROOT, 'test/bench/programs/empty-hooks.mjs')).href;

interface Program {
  name: string;
  path: string;
  /** Largest acceptable recorded/plain ratio, where the project sets one. */
  target?: number;
  /** The program calls the benchmark's backend, which answers after this many ms. */
  backendMs?: number;
}

/** BENCH_ONLY=io-bound,awaits: only the programs whose name or path contains one of these. */
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);

const programs: Program[] = [
  { name: 'I/O-bound (1000 requests to a 50 ms backend, 20 in flight; 2000 reads)', path: join(ROOT, 'test/bench/programs/io-bound.mjs'), target: 1.3, backendMs: 50 },
  // At 20 ms a request the client is busy about half the time: the edge of I/O-bound.
  { name: 'I/O-bound (1000 requests to a 20 ms backend, 20 in flight; 2000 reads)', path: join(ROOT, 'test/bench/programs/io-bound.mjs'), target: 1.3, backendMs: 20 },
  // A client like the one above with its server in the same process (2 ms a request, 50 in flight):
  // the loop is busy, and the process uses more CPU than wall time.
  { name: 'fetch stress (1000 requests to a server in the same process; 2000 reads)', path: join(ROOT, 'test/bench/programs/fetch-stress.mjs') },
  { name: '3 M sequential awaits', path: join(ROOT, 'test/bench/programs/sequential-awaits.mjs'), target: 5 },
  // Does nothing: the recorded run's CPU minus the plain run's is the fixed cost every recording pays.
  { name: 'empty program (fixed cost)', path: join(ROOT, 'test/bench/programs/empty.mjs') },
  ...readdirSync(join(ROOT, 'traces'))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => ({ name: `traces/${f}`, path: join(ROOT, 'traces', f) })),
].filter((p) => only.length === 0 || only.some((o) => p.name.includes(o) || p.path.includes(o)));

/** CPU time of the last run (ms). */
let lastCpu = NaN;

function wall(args: string[]): number {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  lastCpu = childrenCpuMs() - cpu0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.split('\n')[0]}`);
  return ms;
}

/** Runs `args` with a fresh temporary directory for its output. */
function inTemp(args: (dir: string) => string[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'loopscope-bench-'));
  try {
    return wall(args(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Variant {
  label: string;
  run: (path: string) => number;
}

const recorded: Variant = { label: 'recorded', run: (path) => inTemp((dir) => [CLI, 'collect', '--out', join(dir, 'rec'), '--', process.execPath, path]) };
const floors: Variant[] = [
  { label: 'floor: node --cpu-prof', run: (path) => inTemp((dir) => ['--cpu-prof', '--cpu-prof-dir', dir, path]) },
  { label: 'floor: empty async hooks', run: (path) => wall(['--import', HOOKS_ONLY, path]) },
];

/** One backend per delay, started when a program first needs it; its URL goes to the program in BACKEND_URL. */
const backends = new Map<number, { process: ChildProcess; url: string }>();
async function backendUrl(delayMs: number): Promise<string> {
  let backend = backends.get(delayMs);
  if (!backend) {
    const child = spawn(process.execPath, [join(ROOT, 'test/bench/programs/backend.mjs'), String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [port] = await once(child.stdout!, 'data');
    backends.set(delayMs, (backend = { process: child, url: `http://127.0.0.1:${String(port).trim()}` }));
  }
  return backend.url;
}

console.log(`${RUNS} rounds, each: plain, then each variant\n`);
console.log('| program | run | plain ms | run ms | ratio | per-round ratios | target | CPU plain ms | CPU run ms | CPU ratio | plain CPU / wall |');
console.log('|---|---|--:|--:|--:|---|---|--:|--:|--:|--:|');
for (const program of programs) {
  if (program.backendMs) process.env.BACKEND_URL = await backendUrl(program.backendMs);
  const variants = program.target ? [recorded, ...floors] : [recorded];
  const plain: number[] = [];
  const plainCpu: number[] = [];
  const times = variants.map((): number[] => []);
  const cpus = variants.map((): number[] => []);
  for (let i = 0; i < RUNS; i++) {
    plain.push(wall([program.path]));
    plainCpu.push(lastCpu);
    variants.forEach((v, k) => {
      times[k].push(v.run(program.path));
      cpus[k].push(lastCpu);
    });
  }
  const p = median(plain);
  const pc = median(plainCpu);
  variants.forEach((v, k) => {
    const r = median(times[k]);
    const ratio = r / p;
    const rounds = times[k].map((t, i) => t / plain[i]).sort((a, b) => a - b);
    const spread = `${rounds[0].toFixed(2)}-${rounds[rounds.length - 1].toFixed(2)}x`;
    const verdict = program.target && v === recorded ? `≤ ${program.target}x: ${ratio <= program.target ? 'met' : 'NOT met'}` : '';
    const c = median(cpus[k]);
    const cpu = Number.isFinite(pc) ? `${pc.toFixed(0)} | ${c.toFixed(0)} | ${(c / pc).toFixed(2)}x | ${(pc / p).toFixed(2)}` : '| | |';
    console.log(`| ${program.name} | ${v.label} | ${p.toFixed(0)} | ${r.toFixed(0)} | ${ratio.toFixed(2)}x | ${spread} | ${verdict} | ${cpu} |`);
  });
}
for (const backend of backends.values()) backend.process.kill();
