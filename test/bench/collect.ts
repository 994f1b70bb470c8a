// `npm run bench:collect`: what recording costs. Each program runs plainly and under
// `loopscope collect`; the table shows median wall times and their ratio next to the targets.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/test/bench
const CLI = join(ROOT, 'dist/src/cli.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Program {
  name: string;
  path: string;
  /** Largest acceptable recorded/plain ratio, where the project sets one. */
  target?: number;
}

const programs: Program[] = [
  { name: 'I/O-bound (1000 HTTP requests, 2000 reads)', path: join(ROOT, 'test/bench/programs/io-bound.mjs'), target: 1.3 },
  { name: '3 M sequential awaits', path: join(ROOT, 'test/bench/programs/sequential-awaits.mjs'), target: 5 },
  ...readdirSync(join(ROOT, 'traces'))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => ({ name: `traces/${f}`, path: join(ROOT, 'traces', f) })),
];

function wall(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
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
      recorded.push(wall([CLI, 'collect', '--out', join(out, 'rec'), '--', process.execPath, program.path]));
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
