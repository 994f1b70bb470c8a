// With a recording, idle time is charged to the program's pending awaits (SPEC.md, per-line ratios).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JsonReport } from '../src/reports/json.js';
import { markedLine, programPath, runCli, tempDir } from './support.js';

test('idle time of sequential timer waits lands on the awaiting line', () => {
  const out = join(tempDir(), 'rec');
  const program = 'diag-seq-timers.mjs';
  const rec = runCli(['collect', '--out', out, '--', process.execPath, programPath(program)]);
  assert.equal(rec.code, 0, rec.stderr);
  const r = runCli(['analyze', '--json', out]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  const idle = report.totals.idleMs;
  assert.ok(idle > 300, `8 waits of 50 ms: ${idle} ms idle`);
  // Every wait is the loop's await (the marked line), the first one too, though the top-level
  // `await main()` is created after it; whether or not the profile's idle entries split between waits.
  const awaiting = report.lines.find((l) => l.file === programPath(program) && l.line === markedLine(program));
  assert.ok(awaiting, JSON.stringify(report.lines.slice(0, 4)));
  const onProgram = report.lines.filter((l) => l.file === programPath(program)).reduce((s, l) => s + l.idleMs, 0);
  const shown = JSON.stringify(report.lines.filter((l) => l.idleMs > 1));
  assert.ok(awaiting.idleMs > 300, `8 waits of 50 ms on the marked line: ${shown}`);
  assert.ok(awaiting.idleMs > 0.95 * onProgram, `${awaiting.idleMs} of the program's ${onProgram} ms: ${shown}`);
  const unattributed = report.lines.find((l) => l.function === '(idle)')?.idleMs ?? 0;
  assert.ok(unattributed < 0.3 * idle);
  // Charging moves time between lines; the sums stay exact.
  const sum = report.lines.reduce((s, l) => s + l.idleMs, 0);
  assert.ok(Math.abs(sum - idle) < 0.01, `${sum} vs ${idle}`);
  assert.ok(Math.abs(report.lines.reduce((s, l) => s + l.samples, 0) - report.totals.samples) < 0.05);
});

test('the bare CPU profile of the same recording keeps its idle time as "(idle)"', () => {
  const out = join(tempDir(), 'rec');
  const program = 'diag-seq-timers.mjs';
  assert.equal(runCli(['collect', '--out', out, '--', process.execPath, programPath(program)]).code, 0);
  const manifest = JSON.parse(readFileSync(join(out, 'recording.json'), 'utf8')) as { main: number };
  const r = runCli(['analyze', '--json', join(out, `${manifest.main}.cpuprofile`)]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  const idleLine = report.lines.find((l) => l.function === '(idle)');
  assert.ok(idleLine);
  assert.equal(idleLine.idleMs, report.totals.idleMs);
});
