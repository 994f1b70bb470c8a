// `npm run bench:collect-python`: what recording a Python program costs. Each program runs plainly
// and under `loopscope collect -- python3`, one after the other in each round (BENCH_RUNS rounds, 5 by
// default); the table shows median wall times, the ratio of the medians, the spread of the per-round
// ratios (the machine may be shared), and, on Linux, the plain run's CPU time (user + system of the
// whole process tree) and its CPU / wall.
//
// Which programs are I/O-bound is measured, not asserted: the 1.3x target applies to the rows whose
// plain run used less than half a core (CPU / wall < 0.5), which mostly wait. io_wait.py makes 1,000
// HTTP requests, 20 at a time, to a backend in another process that the benchmark starts once per
// row (test/programs/python/http_backend.py: not timed, its CPU not counted), plus file round trips
// through the default executor; it runs against a 50 ms backend and a 5 ms one (at 5 ms the client
// is busy about 4,000 requests a second, more than half a core here). io_bound.py does the 5 ms work
// with the server on threads of the recorded process itself: that process burns about as much CPU
// as wall time. The 100,000-task program has a bound of its own (4x, see README).
//
// BENCH_ONLY=io_wait,io_bound: only the programs whose name contains one of these. BENCH_BEFORE=path
// of another build's dist/src/cli.cjs (cli.js before it was bundled as CommonJS): its recorder runs too, in the same rounds ("recorded, before").

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { childrenCpuMs } from './measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/test/bench
const CLI = join(ROOT, 'dist/src/cli.cjs');
const BEFORE = process.env.BENCH_BEFORE;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PYTHON = process.env.PYTHON ?? 'python3';
/** A plain run below this CPU / wall mostly waits: the I/O-bound target applies to it. */
const IO_BOUND_CPU_SHARE = 0.5;
const IO_BOUND_TARGET = 1.3;

interface Program {
  name: string;
  path: string;
  /** Needs the HTTP backend, with this delay a request (s): its port is the program's argument. */
  backend?: number;
  /** Largest acceptable recorded/plain ratio, where the project sets one besides the I/O-bound one. */
  target?: number;
}

const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const examples = join(ROOT, 'traces/python');
const ownPrograms = join(ROOT, 'test/programs/python');
const programs: Program[] = [
  { name: 'io_wait.py: 1,000 HTTP requests to a backend process (50 ms each), 20 at a time, file round trips', path: join(ownPrograms, 'io_wait.py'), backend: 0.05 },
  { name: 'io_wait.py, the backend at 5 ms a request', path: join(ownPrograms, 'io_wait.py'), backend: 0.005 },
  { name: 'io_bound.py: io_wait.py at 5 ms with the server on threads of the same process', path: join(ownPrograms, 'io_bound.py') },
  { name: 'traces/python/context_switching.py (100,000 tasks)', path: join(examples, 'context_switching.py'), target: 4 },
  ...readdirSync(examples)
    .filter((f) => f.endsWith('.py') && !f.startsWith('_') && f !== 'context_switching.py' && f !== 'local_server.py')
    .map((f) => ({ name: `traces/python/${f}`, path: join(examples, f) })),
].filter((p) => only.length === 0 || only.some((o) => p.name.includes(o)));

interface Run { ms: number; cpu: number }

function run(command: string, args: string[]): Run {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  const cpu = childrenCpuMs() - cpu0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.split('\n')[0]}`);
  return { ms, cpu };
}

function recorded(cli: string, args: string[]): Run {
  const out = mkdtempSync(join(tmpdir(), 'loopscope-bench-'));
  try {
    return run(process.execPath, [cli, 'collect', '--out', join(out, 'rec'), '--', PYTHON, ...args]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Starts the HTTP backend once per program (not timed, its CPU not counted); returns its port and how to stop it. */
async function startBackend(delay: number): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(PYTHON, ['-I', join(ownPrograms, 'http_backend.py'), String(delay)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  const port = Number(first.value);
  if (first.done || !(port > 0)) throw new Error('the HTTP backend did not print its port');
  const stop = () => new Promise<void>((done) => {
    child.once('exit', () => done());
    child.stdin.end();
  });
  return { port, stop };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const variants: { label: string; cli: string }[] = [{ label: 'recorded', cli: CLI }];
if (BEFORE) variants.unshift({ label: 'recorded, before', cli: resolve(BEFORE) });

console.log(`${RUNS} rounds, each: plain, then ${variants.map((v) => v.label).join(', then ')}`);
console.log(`target: ≤ ${IO_BOUND_TARGET}x where the plain run's CPU / wall < ${IO_BOUND_CPU_SHARE} (I/O-bound)\n`);
console.log('| program | run | plain ms | run ms | ratio | per-round ratios | plain CPU ms | plain CPU/wall | run CPU ms | target |');
console.log('|---|---|--:|--:|--:|---|--:|--:|--:|---|');
for (const program of programs) {
  const backend = program.backend ? await startBackend(program.backend) : undefined;
  const args = backend ? [program.path, String(backend.port)] : [program.path];
  const plain: Run[] = [];
  const runs = variants.map((): Run[] => []);
  try {
    for (let i = 0; i < RUNS; i++) {
      plain.push(run(PYTHON, args));
      variants.forEach((v, k) => runs[k].push(recorded(v.cli, args)));
    }
  } finally {
    await backend?.stop();
  }
  const p = median(plain.map((r) => r.ms));
  const pc = median(plain.map((r) => r.cpu));
  const share = pc / p;
  const target = share < IO_BOUND_CPU_SHARE ? IO_BOUND_TARGET : program.target;
  variants.forEach((v, k) => {
    const r = median(runs[k].map((x) => x.ms));
    const ratio = r / p;
    const rounds = runs[k].map((x, i) => x.ms / plain[i].ms).sort((a, b) => a - b);
    const spread = `${rounds[0].toFixed(2)}-${rounds[rounds.length - 1].toFixed(2)}x`;
    const verdict = target ? `≤ ${target}x: ${ratio <= target ? 'met' : 'NOT met'}` : '';
    const rc = median(runs[k].map((x) => x.cpu));
    const cpu = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '');
    const shareText = Number.isFinite(share) ? share.toFixed(2) : '';
    console.log(`| ${program.name} | ${v.label} | ${p.toFixed(0)} | ${r.toFixed(0)} | ${ratio.toFixed(2)}x | ${spread} | ${cpu(pc)} | ${shareText} | ${cpu(rc)} | ${verdict} |`);
  });
}
