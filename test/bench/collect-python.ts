// `npm run bench:collect-python`: what recording a Python program costs. Each program runs plainly
// and under `loopscope collect -- python3`; the table shows median wall times and their ratio next to
// the targets (I/O-bound: at most 1.3x; the 100,000-task program: bounded, see README).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/test/bench
const CLI = join(ROOT, 'dist/src/cli.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PYTHON = process.env.PYTHON ?? 'python3';

interface Program {
  name: string;
  path: string;
  /** Largest acceptable recorded/plain ratio, where the project sets one. */
  target?: number;
}

const examples = join(ROOT, 'traces/python');
const programs: Program[] = [
  { name: 'I/O-bound (1,000 HTTP requests, 20 at a time, file round trips)', path: join(ROOT, 'test/programs/python/io_bound.py'), target: 1.3 },
  { name: 'traces/python/context_switching.py (100,000 tasks)', path: join(examples, 'context_switching.py'), target: 4 },
  ...readdirSync(examples)
    .filter((f) => f.endsWith('.py') && !f.startsWith('_') && f !== 'context_switching.py' && f !== 'local_server.py')
    .map((f) => ({ name: `traces/python/${f}`, path: join(examples, f) })),
];

function wall(args: string[], command = PYTHON): number {
  const t0 = performance.now();
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.split('\n')[0]}`);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

console.log('| program | plain ms | recorded ms | ratio | target |');
console.log('|---|--:|--:|--:|---|');
for (const program of programs) {
  const plain: number[] = [];
  const recorded: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    plain.push(wall([program.path]));
    const out = mkdtempSync(join(tmpdir(), 'loopscope-bench-'));
    try {
      recorded.push(wall([CLI, 'collect', '--out', join(out, 'rec'), '--', PYTHON, program.path], process.execPath));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  const p = median(plain);
  const r = median(recorded);
  const ratio = r / p;
  const verdict = program.target ? `≤ ${program.target}x: ${ratio <= program.target ? 'met' : 'NOT met'}` : '';
  console.log(`| ${program.name} | ${p.toFixed(0)} | ${r.toFixed(0)} | ${ratio.toFixed(2)}x | ${verdict} |`);
}
