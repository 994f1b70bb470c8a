// scalene's JSON profiles: the article's five programs as scalene recorded them (committed beside
// them in traces/python/article/), and a program recorded live when scalene is installed. Every
// number is checked against the file read whole with JSON.parse: each line gets scalene's Python
// share as user time, its native and system shares as system time (idle when the line is the
// event loop's entry or an await, where off-CPU time is the loop waiting), all times the run's
// elapsed time.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeFile } from '../src/analyze.js';
import type { Analysis, LineStat } from '../src/model.js';
import { root, runCli, tempDir } from './support.js';

const article = join(root, 'traces', 'python', 'article');

interface ScaleneLine {
  lineno: number;
  line: string;
  n_cpu_percent_python: number;
  n_cpu_percent_c: number;
  n_sys_percent: number;
  n_malloc_mb: number;
  n_peak_mb: number;
}
interface ScaleneFile {
  elapsed_time_sec: number;
  max_footprint_mb: number;
  files: Record<string, { lines: ScaleneLine[] }>;
}

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as ScaleneFile;
const lineOf = (a: Analysis, file: string, line: number): LineStat | undefined => a.lines.find((l) => l.file === file && l.line === line);
const close = (actual: number, expected: number, what: string, tolerance = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual}, expected ${expected}`);

/** Checks every line scalene reports against the analysis; returns the analysis. */
async function checkAgainstScalene(path: string): Promise<Analysis> {
  const s = read(path);
  const a = await analyzeFile(path);
  const wall = s.elapsed_time_sec * 1000;
  close(a.totals.wallMs, wall, `${path}: wall time`);
  let charged = 0;
  for (const [file, { lines }] of Object.entries(s.files)) {
    for (const l of lines) {
      const ms = (pct: number) => (pct / 100) * wall;
      const busy = ms(l.n_cpu_percent_python) + ms(l.n_cpu_percent_c) + ms(l.n_sys_percent);
      charged += busy;
      const stat = lineOf(a, file, l.lineno);
      if (busy === 0) {
        assert.equal(stat, undefined, `${file}:${l.lineno} has no time in scalene's profile`);
        continue;
      }
      assert.ok(stat, `${file}:${l.lineno} is missing from the line table`);
      const waits = /asyncio\.run\(|\bawait\b|\basync (with|for)\b/.test(l.line);
      close(stat.userMs, ms(l.n_cpu_percent_python), `${file}:${l.lineno} user`);
      close(stat.systemMs, ms(l.n_cpu_percent_c) + (waits ? 0 : ms(l.n_sys_percent)), `${file}:${l.lineno} system`);
      close(stat.idleMs, waits ? ms(l.n_sys_percent) : 0, `${file}:${l.lineno} idle`);
    }
  }
  // Totals add up to the lines, and what scalene charged to no line is idle.
  const sum = (key: 'userMs' | 'systemMs' | 'idleMs') => a.lines.reduce((t, l) => t + l[key], 0);
  close(sum('userMs'), a.totals.userMs, `${path}: user total`);
  close(sum('systemMs'), a.totals.systemMs, `${path}: system total`);
  close(sum('idleMs'), a.totals.idleMs, `${path}: idle total`);
  close(a.totals.userMs + a.totals.systemMs + a.totals.idleMs, Math.max(wall, charged), `${path}: shares add up to the wall time`);
  return a;
}

test('scalene: the five article programs as scalene recorded them, line by line', async () => {
  const files = readdirSync(article).filter((f) => f.endsWith('.scalene.json'));
  assert.equal(files.length, 5);
  for (const f of files) await checkAgainstScalene(join(article, f));
});

test('scalene: the blocking example: time.sleep holds the loop, its line is system time', async () => {
  const path = join(article, '01_blocking.scalene.json');
  const s = read(path);
  const a = await checkAgainstScalene(path);
  const sleep = s.files['01_blocking.py'].lines.find((l) => l.line.includes('time.sleep'))!;
  const stat = lineOf(a, '01_blocking.py', sleep.lineno)!;
  close(stat.systemMs, ((sleep.n_sys_percent + sleep.n_cpu_percent_c) / 100) * s.elapsed_time_sec * 1000, 'time.sleep system time');
  assert.ok(stat.systemMs > 0.9 * a.totals.wallMs, `time.sleep holds ${stat.systemMs} of ${a.totals.wallMs} ms`);
  assert.equal(a.lines[0], stat, 'the sleep is the heaviest line');
  const blocking = a.findings.find((f) => f.kind === 'blocking');
  assert.ok(blocking, 'a blocking finding');
  assert.equal(blocking.severity, 'critical');
  assert.deepEqual([blocking.location.file, blocking.location.line, blocking.location.function], ['01_blocking.py', sleep.lineno, 'main']);
  assert.match(blocking.title, /time\.sleep/);
});

test('scalene: sequential awaits and starvation: the time is the loop waiting at asyncio.run, no finding', async () => {
  for (const [name, program] of [
    ['02_sequential.scalene.json', '02_sequential.py'],
    ['04_starvation.scalene.json', '04_starvation.py'],
  ]) {
    const path = join(article, name);
    const a = await checkAgainstScalene(path);
    const run = read(path).files[program].lines.find((l) => l.line.startsWith('asyncio.run('))!;
    const stat = lineOf(a, program, run.lineno)!;
    assert.equal(a.lines[0], stat, `${name}: asyncio.run is the heaviest line`);
    assert.ok(stat.idleMs > 0.9 * a.totals.wallMs, `${name}: ${stat.idleMs} of ${a.totals.wallMs} ms idle at asyncio.run`);
    // Without a timeline scalene's data cannot tell these two apart, and loopscope claims nothing.
    assert.deepEqual(
      a.findings.map((f) => f.kind),
      [],
      `${name}: ${a.findings.map((f) => f.title).join('; ')}`,
    );
  }
});

test('scalene: the memory example: the allocating line is a memory finding with scalene\'s figures', async () => {
  const path = join(article, '05_memory.scalene.json');
  const s = read(path);
  const a = await checkAgainstScalene(path);
  const top = s.files['05_memory.py'].lines.reduce((b, l) => (l.n_malloc_mb > b.n_malloc_mb ? l : b));
  assert.match(top.line, /lorep ipsum/);
  const memory = a.findings.find((f) => f.kind === 'memory');
  assert.ok(memory, 'a memory finding');
  assert.equal(memory.severity, 'warning');
  assert.deepEqual([memory.location.file, memory.location.line, memory.location.function], ['05_memory.py', top.lineno, 'large_data_task']);
  close(memory.evidence.lineMallocMb as number, top.n_malloc_mb, 'allocated MB', 1e-3);
  close(memory.evidence.maxFootprintMb as number, s.max_footprint_mb, 'peak footprint', 1e-3);
  assert.equal(memory.evidence.source, 'scalene');
  // The blocking example allocates nothing: no memory finding.
  assert.equal((await analyzeFile(join(article, '01_blocking.scalene.json'))).findings.filter((f) => f.kind === 'memory').length, 0);
});

test('scalene: the command line reads a scalene file by its content', () => {
  const dir = tempDir();
  const copy = join(dir, 'profile.data');
  copyFileSync(join(article, '01_blocking.scalene.json'), copy);
  const r = runCli(['analyze', '--json', copy]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { lines: LineStat[] };
  assert.equal(report.lines[0].file, '01_blocking.py');
  assert.equal(report.lines[0].line, 9);
});

test('scalene: malformed files get one line saying what is wrong, exit code 2', () => {
  const dir = tempDir();
  const good = readFileSync(join(article, '05_memory.scalene.json'), 'utf8');
  const doc = JSON.parse(good) as Record<string, unknown>;
  const file = (doc.files as Record<string, { lines: Record<string, unknown>[] }>)['05_memory.py'];
  const cases: [string, string, RegExp][] = [
    ['truncated', good.slice(0, Math.floor(good.length / 2)), /truncated|end of (the )?(file|input)/i],
    ['files', JSON.stringify({ ...doc, files: [1, 2] }), /"files" is not an object/],
    ['elapsed', JSON.stringify({ ...doc, elapsed_time_sec: 'soon' }), /"elapsed_time_sec" is "soon"/],
    [
      'lineno',
      JSON.stringify({ ...doc, files: { '05_memory.py': { ...file, lines: [{ ...file.lines[0], lineno: -3 }] } } }),
      /files\["05_memory.py"\]\.lines\[0\]\.lineno is -3/,
    ],
    [
      'percent',
      JSON.stringify({ ...doc, files: { '05_memory.py': { ...file, lines: [{ ...file.lines[1], n_sys_percent: 'lots' }] } } }),
      /files\["05_memory.py"\]\.lines\[0\]\.n_sys_percent is "lots", not a number/,
    ],
  ];
  for (const [name, text, message] of cases) {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, text);
    const r = runCli(['analyze', path]);
    assert.equal(r.code, 2, `${name}: exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${name}: one line: ${r.stderr}`);
    assert.match(lines[0], message, name);
    assert.equal(r.stdout, '', `${name}: no output`);
  }
});

// `scalene --version` prints its version and exits with 255.
test('scalene: a profile without a line of the program is all idle, and says why it may be empty', async () => {
  const dir = tempDir();
  const doc = JSON.parse(readFileSync(join(article, '04_starvation.scalene.json'), 'utf8')) as ScaleneFile;
  const path = join(dir, 'empty.json');
  writeFileSync(path, JSON.stringify({ ...doc, files: {} }));
  const a = await analyzeFile(path);
  close(a.totals.idleMs, doc.elapsed_time_sec * 1000, 'idle');
  assert.equal(a.totals.userMs + a.totals.systemMs, 0);
  assert.match(a.profile.format, /no line of the program \(scalene leaves out any path containing "scalene"\)/);
});

const scalene = /Scalene version/.test(spawnSync('scalene', ['--version'], { encoding: 'utf8' }).stdout ?? '');

test('scalene: a program recorded live: the hot line, the sleeping line and the loop waiting', { skip: !scalene && !process.env.CI && 'scalene is not installed' }, async () => {
  // scalene leaves out files whose path contains "scalene" (its own): record a copy elsewhere.
  const dir = tempDir();
  const source = readFileSync(join(root, 'test', 'programs', 'scalene-hot-line.py'), 'utf8');
  writeFileSync(join(dir, 'hot.py'), source);
  const r = spawnSync('scalene', ['--cpu', '--memory', '--json', '--outfile', 'hot.json', 'hot.py'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const path = join(dir, 'hot.json');
  const a = await checkAgainstScalene(path);
  const table = a.lines.map((l) => `${l.line}: ${l.userMs.toFixed(0)}/${l.systemMs.toFixed(0)}/${l.idleMs.toFixed(0)}`).join(', ');
  const marked = (mark: string) => source.split('\n').findIndex((l) => l.endsWith(`# ${mark}`)) + 1;
  const byUser = [...a.lines].sort((x, y) => y.userMs - x.userMs);
  assert.deepEqual([byUser[0].file, byUser[0].line, byUser[0].function], ['hot.py', marked('@hot'), 'main'], table);
  const sleep = lineOf(a, 'hot.py', marked('@sleep'));
  assert.ok(sleep, `the sleeping line is in the table: ${table}`);
  // time.sleep(0.4): 400 ms off the CPU, which scalene estimates from the line's mean CPU
  // utilisation (measured 300-420 ms on a loaded machine), nearly all of the line's time.
  assert.ok(sleep.systemMs >= 200 && sleep.systemMs <= 1500, `time.sleep(0.4) line: ${sleep.systemMs} ms system; ${table}`);
  assert.ok(sleep.userMs < 0.2 * sleep.systemMs, `time.sleep(0.4) line: ${sleep.userMs} ms user; ${table}`);
  // The await of asyncio.sleep(0.3): the loop waits, charged to asyncio.run or the await (idle),
  // though scalene now and then charges most of it to the line before (once: 14 ms idle, and the
  // sleeping line 508 ms): the two waits are off the CPU either way.
  assert.ok(a.totals.idleMs >= 200 || sleep.systemMs + a.totals.idleMs >= 500, `idle ${a.totals.idleMs} ms; ${table}`);
});
