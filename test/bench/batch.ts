// `npm run bench:batch`: `loopscope batch` over 1,000 generated stored profiles of mixed sizes, with
// 1 and 2 worker threads, without the cache and then with it cold and warm.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateProfile } from './generate.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/test/bench
const CLI = join(ROOT, 'dist/src/cli.cjs');
const DIR = join(ROOT, 'bench-data', 'batch');
const COUNT = Number(process.env.BENCH_BATCH_COUNT ?? 1000);

/** Sizes from 1,000 to 100,000 samples, spread evenly on a log scale: mostly small, some large. */
async function prepare(): Promise<{ bytes: number }> {
  mkdirSync(DIR, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < COUNT; i++) {
    const path = join(DIR, `trace-${String(i).padStart(4, '0')}.cpuprofile`);
    if (!existsSync(path)) {
      const samples = Math.round(1000 * 100 ** (i / Math.max(1, COUNT - 1)));
      await generateProfile(path, { samples, seed: i + 1, nodes: 200 + (i % 7) * 100 });
    }
    bytes += statSync(path).size;
  }
  return { bytes };
}

function run(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'batch', DIR, '--format', 'ndjson', ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`batch exited ${r.status}: ${r.stderr.split('\n')[0]}`);
  return (performance.now() - t0) / 1000;
}

const { bytes } = await prepare();
const files = readdirSync(DIR).length;
console.log(`${files} profiles, ${(bytes / 1e6).toFixed(0)} MB in ${DIR}\n`);
console.log('| workers | cache | total s | traces/s | MB/s |');
console.log('|--:|---|--:|--:|--:|');
const row = (jobs: number, cache: string, seconds: number) =>
  console.log(`| ${jobs} | ${cache} | ${seconds.toFixed(2)} | ${(files / seconds).toFixed(0)} | ${(bytes / 1e6 / seconds).toFixed(0)} |`);
for (const jobs of [1, 2]) row(jobs, 'off', run(['--jobs', String(jobs), '--no-cache']));
for (const jobs of [1, 2]) {
  const cache = mkdtempSync(join(tmpdir(), 'loopscope-cache-'));
  try {
    row(jobs, 'cold', run(['--jobs', String(jobs), '--cache', cache]));
    row(jobs, 'warm', run(['--jobs', String(jobs), '--cache', cache]));
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
