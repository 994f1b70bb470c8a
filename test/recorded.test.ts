// Real profiles recorded with `node --cpu-prof` from tiny programs: the time must land on the
// right line and in the right share.

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JsonReport } from '../src/reports/json.js';
import { markedLine, programPath, record, runCli, tempDir } from './support.js';

function analyze(profile: string): JsonReport {
  const r = runCli(['analyze', '--json', profile]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JsonReport;
}

const total = (l: { userMs: number; systemMs: number; idleMs: number }) => l.userMs + l.systemMs + l.idleMs;

test('a busy loop is user time on the loop line', () => {
  const report = analyze(record('busy-loop.mjs', ['400']));
  const program = programPath('busy-loop.mjs');
  const top = report.lines[0];
  assert.equal(top.file, program);
  assert.equal(top.line, markedLine('busy-loop.mjs'));
  assert.equal(top.function, 'spin');
  // 400 ms of spinning; a loaded machine takes some of it from the process (then it is not user time).
  assert.ok(top.userMs > 240, `user ${top.userMs} ms`);
  assert.ok(top.userMs > 0.9 * total(top));
  assert.ok(report.totals.userMs > 0.7 * report.totals.wallMs);
});

test('Atomics.wait lands on its line; a bare profile shows it as the calling JS frame', () => {
  const report = analyze(record('atomics-wait.mjs', ['400']));
  const line = report.lines.find((l) => l.file === programPath('atomics-wait.mjs') && l.line === markedLine('atomics-wait.mjs'));
  assert.ok(line, JSON.stringify(report.lines.slice(0, 3)));
  assert.equal(line.function, 'waiter');
  assert.ok(total(line) > 350, `${total(line)} ms`);
  // V8 samples a thread blocked in Atomics.wait at the JavaScript frame that called it, so without
  // the collector's off-CPU data this is indistinguishable from JavaScript running.
  assert.ok(line.userMs > 0.9 * total(line));
  assert.equal(report.lines[0], line);
});

test('execSync is system time charged to the function that calls it', () => {
  const report = analyze(record('exec-sync.mjs', ['0.4']));
  const mine = report.lines.filter((l) => l.file === programPath('exec-sync.mjs') && l.function === 'sleeper');
  const system = mine.reduce((s, l) => s + l.systemMs, 0);
  const all = mine.reduce((s, l) => s + total(l), 0);
  assert.ok(system > 350, `system ${system} ms`);
  assert.ok(system > 0.9 * all);
  assert.equal(report.lines[0].function, 'sleeper');
  assert.ok(report.totals.systemMs > 0.6 * report.totals.wallMs);
});

test('a timer wait is idle time', () => {
  const report = analyze(record('timer-wait.mjs', ['400']));
  const idle = report.lines.find((l) => l.function === '(idle)');
  assert.ok(idle);
  assert.ok(idle.idleMs > 350, `idle ${idle.idleMs} ms`);
  assert.equal(idle.userMs + idle.systemMs, 0);
  assert.equal(report.lines[0], idle);
  assert.equal(report.totals.idleMs, idle.idleMs);
});

test('synchronous scrypt is system time of the user function that calls it', () => {
  const report = analyze(record('scrypt-sync.mjs', ['6']));
  const top = report.lines[0];
  assert.equal(top.file, programPath('scrypt-sync.mjs'));
  assert.equal(top.function, 'handleLogin');
  assert.ok(top.systemMs > 0.9 * total(top));
  assert.ok(report.totals.systemMs > 0.5 * report.totals.wallMs);
});

test('totals add up and every sample is counted once', () => {
  const report = analyze(record('busy-loop.mjs', ['150'], 250));
  const { totals, lines } = report;
  const sum = (f: (l: (typeof lines)[number]) => number) => lines.reduce((s, l) => s + f(l), 0);
  assert.ok(Math.abs(totals.userMs + totals.systemMs + totals.idleMs - totals.wallMs) < 0.01);
  assert.ok(Math.abs(sum((l) => l.samples) - totals.samples) < 0.01);
  assert.ok(Math.abs(sum(total) - totals.wallMs) < 0.05);
});

test('a recording that moved with its program still finds the line of a call in the source', () => {
  // Recorded in one folder, analysed after the folder moved (a clone elsewhere): the recorded paths
  // no longer exist, the program's source is found beside the recording instead.
  const name = 'moved-recording.mjs';
  const base = tempDir();
  const first = join(base, 'first');
  mkdirSync(join(first, 'app'), { recursive: true });
  copyFileSync(programPath(name), join(first, 'app', name));
  const r = runCli(['collect', '--out', 'app/recording', '--', process.execPath, join('app', name)], { cwd: first });
  assert.equal(r.code, 0, r.stderr);
  const moved = join(base, 'moved');
  renameSync(first, moved);
  const report = analyze(join(moved, 'app', 'recording'));
  const finding = report.findings.find((f) => f.kind === 'blocking');
  assert.ok(finding, JSON.stringify(report.findings));
  assert.equal(finding.location.file, join(first, 'app', name), 'the file as recorded');
  assert.equal(finding.location.line, markedLine(name), 'the call line, read from the moved source');
});
