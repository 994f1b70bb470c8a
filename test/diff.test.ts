// `loopscope diff`: lines that changed beyond sampling noise, findings that appeared or vanished.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { diffReports, zScore } from '../src/batch/diff.js';
import type { Finding } from '../src/model.js';
import type { JsonReport } from '../src/reports/json.js';
import { markedLine, programPath, record, runCli, tempDir } from './support.js';

function report(samples: Record<string, number>, findings: Finding[] = []): JsonReport {
  const lines = Object.entries(samples).map(([key, n]) => {
    const [file, line] = key.split(':');
    return { file, line: Number(line), function: 'f', userMs: n, systemMs: 0, idleMs: 0, samples: n };
  });
  const total = lines.reduce((s, l) => s + l.samples, 0);
  return { findings, lines, totals: { wallMs: total, userMs: total, systemMs: 0, idleMs: 0, samples: total } };
}

const finding = (kind: Finding['kind'], line: number, severity: Finding['severity'] = 'critical'): Finding => ({
  kind,
  severity,
  title: `${kind} at ${line}`,
  location: { file: 'a.js', line, column: 1, function: 'f' },
  evidence: {},
  suggestion: '',
});

test('z: Poisson counts scaled to equal totals', () => {
  assert.equal(zScore(100, 100, 1000, 1000), 0);
  // 100 vs 200 samples of equal totals: z = 100 / sqrt(300).
  assert.ok(Math.abs(zScore(100, 200, 1000, 1000) - 100 / Math.sqrt(300)) < 1e-9);
  // Twice the samples in all, twice on the line: no change.
  assert.equal(zScore(100, 200, 1000, 2000), 0);
  assert.ok(zScore(200, 100, 1000, 1000) < -5);
});

test('only changes beyond noise are reported; findings appear and vanish by kind and location', () => {
  const before = report({ 'a.js:1': 400, 'a.js:2': 100, 'a.js:3': 500 }, [finding('blocking', 1), finding('sequential', 9, 'info')]);
  const after = report({ 'a.js:1': 410, 'a.js:2': 300, 'a.js:3': 290 }, [finding('blocking', 1), finding('memory', 4, 'warning')]);
  const diff = diffReports(before, after);
  assert.deepEqual(
    diff.lines.map((l) => l.line),
    [3, 2],
  );
  assert.ok(diff.lines[1].z > 3 && diff.lines[0].z < -3);
  assert.deepEqual(diff.appeared.map((f) => f.kind), ['memory']);
  assert.deepEqual(diff.vanished.map((f) => f.kind), ['sequential']);
});

test('diff of two recorded programs: the busy loop is new, with its finding; --json; --fail-on', () => {
  const idle = record('timer-wait.mjs', ['300']);
  const busy = record('busy-loop.mjs', ['300']);
  const text = runCli(['diff', idle, busy]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /New findings\n {2}\[critical\] blocking/);
  assert.match(text.stdout, /Lines that changed beyond sampling noise/);

  const json = runCli(['diff', idle, busy, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const diff = JSON.parse(json.stdout);
  const loop = diff.lines.find((l: { file: string; line: number }) => l.file === programPath('busy-loop.mjs') && l.line === markedLine('busy-loop.mjs'));
  assert.ok(loop, json.stdout);
  assert.ok(loop.deltaMs > 100 && loop.z >= 3);
  assert.ok(diff.lines.some((l: { function: string; deltaMs: number }) => l.function === '(idle)' && l.deltaMs < 0));
  assert.deepEqual(diff.appeared.map((f: Finding) => f.kind), ['blocking']);
  assert.deepEqual(diff.vanished, []);

  assert.equal(runCli(['diff', idle, busy, '--fail-on', 'critical']).code, 1);
  assert.equal(runCli(['diff', busy, idle, '--fail-on', 'info']).code, 0); // the finding vanished
  const same = runCli(['diff', busy, busy, '--json', '--fail-on', 'info']);
  assert.equal(same.code, 0);
  assert.deepEqual(JSON.parse(same.stdout).lines, []);
  const missing = runCli(['diff', busy, busy + '.missing']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
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

test('diff of two heap profiles in bytes; a heap profile against a CPU profile is refused', () => {
  const small = recordHeap(20_000);
  const large = recordHeap(100_000);
  const json = runCli(['diff', small, large, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const diff = JSON.parse(json.stdout);
  const selfOf = (path: string) => JSON.parse(runCli(['analyze', '--json', path]).stdout).totals.self;
  assert.equal(diff.unit, 'bytes');
  assert.deepEqual(diff.before, { wallMs: 0, samples: diff.before.samples, self: selfOf(small) });
  assert.equal(diff.after.self, selfOf(large));
  const keep = diff.lines.find((l: { file: string; line: number }) => l.file === programPath('heap-scale.mjs') && l.line === markedLine('heap-scale.mjs'));
  assert.ok(keep, json.stdout);
  // Five times the objects: several MB more, far beyond sampling noise; no time fields.
  assert.ok(keep.deltaSelf > 4 << 20 && keep.deltaSelf === keep.afterSelf - keep.beforeSelf && keep.z >= 3, JSON.stringify(keep));
  assert.deepEqual([keep.beforeMs, keep.afterMs, keep.deltaMs], [0, 0, 0]);
  assert.equal(diff.lines[0], keep);

  const text = runCli(['diff', small, large]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^before .* {2}total bytes [\d.]+ MB, \d+ samples$/m);
  assert.match(text.stdout, /^total bytes \+[\d.]+ MB \(\+\d+\.\d%\)$/m);
  assert.match(text.stdout, /^ +\+[\d.]+ MB +[\d.]+ MB +[\d.]+ MB +\+\d/m);
  assert.doesNotMatch(text.stdout, / ms\b/);

  const cpu = record('busy-loop.mjs', ['100']);
  for (const [a, b] of [[large, cpu], [cpu, large]]) {
    const refused = runCli(['diff', a, b]);
    assert.equal(refused.code, 2);
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    assert.match(refused.stderr, /cannot compare .* \((bytes|ms)\) with .* \((ms|bytes)\): a diff needs two profiles of one unit/);
  }
});
