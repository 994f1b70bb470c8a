// `loopscope batch`: many inputs in parallel workers, one row each in a stable order, broken inputs
// reported in their row; the content-hash cache; shards that merge into the full run byte for byte.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { programPath, record, root, runCli, tempDir } from './support.js';

let dir: string;
let good: string[];
let broken: string[];

before(() => {
  dir = tempDir();
  cpSync(record('busy-loop.mjs'), join(dir, 'busy.cpuprofile'));
  cpSync(record('timer-wait.mjs', ['100']), join(dir, 'timer.cpuprofile'));
  cpSync(join(root, 'traces', 'login-server.cpuprofile'), join(dir, 'login-server.cpuprofile'));
  mkdirSync(join(dir, 'more'));
  cpSync(join(root, 'traces', 'sequential-fetch.cpuprofile'), join(dir, 'more', 'sequential-fetch.cpuprofile'));
  cpSync(join(root, 'traces', 'blocking-sleep'), join(dir, 'recordings', 'blocking-sleep'), { recursive: true });
  const whole = readFileSync(join(root, 'traces', 'sequential-fetch.cpuprofile'));
  writeFileSync(join(dir, 'more', 'truncated.cpuprofile'), whole.subarray(0, whole.length >> 1));
  writeFileSync(join(dir, 'notes.txt'), 'not a profile at all\n');
  writeFileSync(join(dir, 'README.md'), 'not an input: the walk skips it\n');
  good = ['busy.cpuprofile', 'login-server.cpuprofile', 'more/sequential-fetch.cpuprofile', 'recordings/blocking-sleep', 'timer.cpuprofile'].map(
    (p) => join(dir, p),
  );
  broken = [join(dir, 'more', 'truncated.cpuprofile'), join(dir, 'notes.txt')];
});

const batch = (args: string[], cache = join(dir, '.cache-default')) => runCli(['batch', dir, '--cache', cache, ...args]);
const ndjsonRows = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

test('every input gets a row in path order; broken ones carry their error and the exit code is 2', () => {
  const r = batch(['--format', 'ndjson', '--jobs', '2'], join(tempDir(), 'cache'));
  assert.equal(r.code, 2, r.stderr);
  const rows = ndjsonRows(r.stdout);
  assert.deepEqual(
    rows.map((row) => row.trace),
    [...good, ...broken].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  for (const row of rows) {
    if (broken.includes(row.trace)) assert.match(row.error, /truncated|not a profile/, row.trace);
    else assert.equal(row.error, undefined, `${row.trace}: ${row.error}`);
  }
  assert.match(rows.find((row) => row.trace.endsWith('truncated.cpuprofile')).error, /truncated/);
  assert.equal(rows.find((row) => row.trace.endsWith('login-server.cpuprofile')).top.kind, 'blocking');

  const table = batch([]);
  assert.equal(table.code, 2);
  const lines = table.stdout.split('\n');
  assert.ok(lines.every((l) => [...l].length <= 80), table.stdout);
  assert.match(table.stdout, /truncated\.cpuprofile +failed\n {2}error: truncated/);
  assert.match(table.stdout, /7 inputs, 2 failed/);
});

test('csv, ndjson and json parse and agree with analyze --json', () => {
  const csv = batch(['--format', 'csv']);
  const ndjson = batch(['--format', 'ndjson']);
  const json = batch(['--format', 'json']);
  for (const r of [csv, ndjson, json]) assert.equal(r.code, 2, r.stderr);
  const [header, ...records] = csv.stdout.trim().split('\n');
  const columns = header.split(',');
  const csvRows = records.map((l) => Object.fromEntries(l.split(',').map((v, i) => [columns[i], v])));
  const fromNdjson = ndjsonRows(ndjson.stdout);
  const doc = JSON.parse(json.stdout);
  assert.deepEqual(doc.rows, fromNdjson);
  assert.deepEqual(doc.totals, { inputs: 7, failed: 2, findings: doc.totals.findings });
  assert.equal(csvRows.length, 7);

  for (const path of good) {
    const report = runCli(['analyze', path, '--json']);
    assert.equal(report.code, 0, report.stderr);
    const { totals, findings } = JSON.parse(report.stdout);
    const row = fromNdjson.find((r) => r.trace === path);
    const line = csvRows.find((r) => r.trace === path)!;
    for (const [key, column] of [['wallMs', 'wall_ms'], ['userMs', 'user_ms'], ['systemMs', 'system_ms'], ['idleMs', 'idle_ms'], ['samples', 'samples']]) {
      assert.equal(row[key], totals[key], `${path} ${key}`);
      assert.equal(Number(line[column]), totals[key], `${path} ${column}`);
    }
    assert.equal(row.userShare, Math.round((totals.userMs / totals.wallMs) * 10000) / 10000);
    assert.equal(row.findings, findings.length);
    assert.equal(Number(line.findings), findings.length);
    if (findings.length) {
      assert.equal(row.top.kind, findings[0].kind);
      assert.equal(row.top.severity, findings[0].severity);
      assert.equal(line.culprit, `${findings[0].location.file}:${findings[0].location.line}`);
    } else assert.equal(row.top, null);
    for (const kind of ['blocking', 'sequential', 'context-switching', 'starvation', 'memory']) {
      assert.equal(row.byKind[kind], findings.filter((f: { kind: string }) => f.kind === kind).length);
    }
  }
});

test('a second run reads the cache, says so, prints the same; --no-cache analyses again', () => {
  const cache = join(tempDir(), 'cache');
  const first = batch(['--format', 'ndjson'], cache);
  assert.match(first.stderr, /0 of 7 inputs from the cache/);
  const second = batch(['--format', 'ndjson'], cache);
  assert.match(second.stderr, /5 of 7 inputs from the cache/);
  assert.equal(second.stdout, first.stdout);
  assert.equal(second.code, 2);

  // Proof the cache is what the second run read: a doctored entry shows, --no-cache does not.
  const entries = readdirSync(cache).filter((f) => f.endsWith('.json'));
  assert.equal(entries.length, 5);
  for (const name of entries) {
    const entry = JSON.parse(readFileSync(join(cache, name), 'utf8'));
    entry.summary.wallMs = 123456;
    writeFileSync(join(cache, name), JSON.stringify(entry));
  }
  const doctored = ndjsonRows(batch(['--format', 'ndjson'], cache).stdout);
  assert.ok(doctored.filter((r) => !r.error).every((r) => r.wallMs === 123456));
  const forced = batch(['--format', 'ndjson', '--no-cache'], cache);
  assert.doesNotMatch(forced.stderr, /from the cache/);
  assert.equal(forced.stdout, first.stdout);
  // ... and left the cache alone.
  assert.deepEqual(ndjsonRows(batch(['--format', 'ndjson'], cache).stdout), doctored);
});

test('shards: each input in exactly one of N, and merged shards equal the full run byte for byte', () => {
  const out = tempDir();
  for (const format of ['ndjson', 'json']) {
    const full = batch(['--format', format]);
    const shards: string[] = [];
    const seen: string[] = [];
    for (let k = 1; k <= 3; k++) {
      const file = join(out, `shard-${k}.${format}`);
      const r = batch(['--format', format, '--shard', `${k}/3`, '--out', file]);
      assert.equal(r.stdout, '');
      shards.push(file);
      const text = readFileSync(file, 'utf8');
      seen.push(...(format === 'json' ? JSON.parse(text).rows : ndjsonRows(text)).map((row: { trace: string }) => row.trace));
    }
    assert.deepEqual(seen.sort(), [...good, ...broken].sort(), format);
    const merged = runCli(['merge', ...shards.reverse()]);
    assert.equal(merged.code, 2, merged.stderr); // the broken inputs are still failures
    assert.equal(merged.stdout, full.stdout, format);
    const file = join(out, `merged.${format}`);
    assert.equal(runCli(['merge', ...shards, '--out', file]).code, 2);
    assert.equal(readFileSync(file, 'utf8'), full.stdout);
    if (format === 'json') {
      const missing = runCli(['merge', shards[0], shards[1]]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /shard \d\/3 missing/);
    }
  }
});

test('a shard is chosen by a hash of the path, not by position: adding an input moves no other', () => {
  const small = tempDir();
  for (const name of ['busy.cpuprofile', 'login-server.cpuprofile', 'timer.cpuprofile']) cpSync(join(dir, name), join(small, name));
  const cache = join(dir, '.cache-default');
  const shardOf = () => {
    const owner = new Map<string, number>();
    for (let k = 1; k <= 3; k++) {
      const r = runCli(['batch', small, '--cache', cache, '--format', 'ndjson', '--shard', `${k}/3`]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      for (const row of ndjsonRows(r.stdout)) owner.set(row.trace, k);
    }
    return owner;
  };
  const before = shardOf();
  cpSync(join(dir, 'busy.cpuprofile'), join(small, 'a-first.cpuprofile'));
  const after = shardOf();
  assert.equal(after.size, 4);
  for (const [trace, k] of before) assert.equal(after.get(trace), k, trace);
});

test('glob patterns select files and directories', () => {
  const r = runCli(['batch', join(dir, '**', '*.cpuprofile'), '--cache', join(dir, '.cache-default'), '--format', 'ndjson']);
  assert.equal(r.code, 2, r.stderr); // the truncated profile
  const traces = ndjsonRows(r.stdout).map((row) => row.trace);
  assert.ok(traces.includes(join(dir, 'more', 'sequential-fetch.cpuprofile')));
  assert.ok(traces.includes(join(dir, 'busy.cpuprofile')));
  assert.ok(!traces.includes(join(dir, 'notes.txt')));
  const none = runCli(['batch', join(dir, '*.nothing'), '--cache', join(dir, '.cache-default')]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /matches nothing/);
});

test('--fail-on: exit 1 when a finding reaches the severity and no input failed', () => {
  const cache = join(dir, '.cache-default');
  const clean = runCli(['batch', join(dir, 'login-server.cpuprofile'), join(dir, 'timer.cpuprofile'), '--cache', cache]);
  assert.equal(clean.code, 0, clean.stderr);
  const failing = runCli(['batch', join(dir, 'login-server.cpuprofile'), join(dir, 'timer.cpuprofile'), '--cache', cache, '--fail-on', 'critical']);
  assert.equal(failing.code, 1);
  const usage = runCli(['batch', dir, '--jobs', '0']);
  assert.equal(usage.code, 2);
  assert.equal(usage.stderr.trim().split('\n').length, 1);
});

/** `node --heap-prof` of test/programs/heap-scale.mjs keeping `count` objects: a real profile of bytes. */
function recordHeap(count: number): string {
  const out = tempDir();
  const r = spawnSync(process.execPath, ['--heap-prof', '--heap-prof-dir', out, '--heap-prof-interval', '4096', programPath('heap-scale.mjs'), String(count)], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return join(out, readdirSync(out).find((f) => f.endsWith('.heapprofile'))!);
}

test('units: a heap profile\'s row is in bytes, a folded file\'s says it has no time order; merge keeps both', () => {
  const mixed = tempDir();
  const heap = join(mixed, 'alloc.heapprofile');
  cpSync(recordHeap(100_000), heap);
  const cpu = join(mixed, 'busy.cpuprofile');
  cpSync(join(dir, 'busy.cpuprofile'), cpu);
  const folded = join(mixed, 'sleep.folded');
  writeFileSync(folded, 'main (/srv/app.py:10);handler (/srv/app.py:5);time.sleep 600\nmain (/srv/app.py:10);compute (/srv/app.py:14) 400\n');
  const run = (args: string[]) => runCli(['batch', mixed, '--no-cache', ...args]);

  const ndjson = run(['--format', 'ndjson']);
  assert.equal(ndjson.code, 0, ndjson.stderr);
  const rows = ndjsonRows(ndjson.stdout);
  assert.deepEqual(rows.map((r) => r.trace), [heap, cpu, folded]);
  const report = (path: string) => JSON.parse(runCli(['analyze', '--json', path]).stdout);
  const heapReport = report(heap);
  const [heapRow, cpuRow, foldedRow] = rows;
  assert.deepEqual([heapRow.unit, heapRow.total, heapRow.wallMs, heapRow.timeOrder], ['bytes', heapReport.totals.self, 0, 'none']);
  assert.ok(heapRow.total > 4 << 20, `${heapRow.total} bytes`);
  assert.deepEqual([cpuRow.unit, cpuRow.total, cpuRow.timeOrder], ['ms', report(cpu).totals.wallMs, 'real']);
  assert.deepEqual([foldedRow.unit, foldedRow.total, foldedRow.timeOrder, foldedRow.top.kind], ['ms', 1000, 'none', 'blocking']);

  const csv = run(['--format', 'csv']).stdout.trim().split('\n');
  const columns = csv[0].split(',');
  const heapLine = Object.fromEntries(csv[1].split(',').map((v, i) => [columns[i], v]));
  assert.deepEqual([heapLine.unit, Number(heapLine.total), heapLine.time_order, heapLine.wall_ms], ['bytes', heapRow.total, 'none', '0']);
  assert.equal(columns[columns.length - 1], 'error');

  const table = run([]).stdout;
  const mb = (heapRow.total / (1 << 20)).toFixed(1);
  assert.match(table, new RegExp(`alloc\\.heapprofile +${mb.replace('.', '\\.')} MB +- +- +-  none\\n`));
  assert.match(table, /sleep\.folded +1000\.0 ms +\d+% +\d+% +\d+%  1 blocking \(untimed\)\n/);

  // Shards merged: the same rows, units and all.
  const out = tempDir();
  const shards = [1, 2].map((k) => {
    const file = join(out, `shard-${k}.ndjson`);
    assert.equal(run(['--format', 'ndjson', '--shard', `${k}/2`, '--out', file]).code, 0);
    return file;
  });
  const merged = runCli(['merge', ...shards]);
  assert.equal(merged.code, 0, merged.stderr);
  assert.equal(merged.stdout, ndjson.stdout);
  // A cache entry written before rows had units is analysed again, not read as time.
  const cache = join(out, 'cache');
  assert.match(runCli(['batch', mixed, '--cache', cache, '--format', 'ndjson']).stderr, /0 of 3 inputs from the cache/);
  for (const name of readdirSync(cache).filter((f) => f.endsWith('.json'))) {
    const entry = JSON.parse(readFileSync(join(cache, name), 'utf8'));
    delete entry.summary.unit;
    delete entry.summary.total;
    delete entry.summary.timeOrder;
    writeFileSync(join(cache, name), JSON.stringify(entry));
  }
  const again = runCli(['batch', mixed, '--cache', cache, '--format', 'ndjson']);
  assert.match(again.stderr, /0 of 3 inputs from the cache/);
  assert.equal(again.stdout, ndjson.stdout);
  // An output written before rows had units merges as time, in time order.
  const old = join(out, 'old.ndjson');
  writeFileSync(old, JSON.stringify({ ...cpuRow, unit: undefined, total: undefined, timeOrder: undefined }) + '\n');
  const fromOld = ndjsonRows(runCli(['merge', old]).stdout);
  assert.deepEqual(fromOld, [cpuRow]);
});
