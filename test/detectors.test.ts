// The diagnosis on bare CPU profiles recorded from real programs: the right kind at the right place,
// and no alarm on healthy programs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonReport } from '../src/reports/json.js';
import { markedLine, programPath, record, runCli } from './support.js';

function analyze(profile: string, extra: string[] = []): { report: JsonReport; code: number } {
  const r = runCli(['analyze', '--json', profile, ...extra]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return { report: JSON.parse(r.stdout) as JsonReport, code: r.code };
}

const alarms = (report: JsonReport) => report.findings.filter((f) => f.severity !== 'info');

test('synchronous scrypt in a handler is a critical blocking finding at the handler', () => {
  const { report } = analyze(record('scrypt-sync.mjs', ['8'], 1000));
  const [top] = report.findings;
  assert.equal(top.kind, 'blocking');
  assert.equal(top.severity, 'critical');
  assert.equal(top.title, 'scryptSync blocks the event loop');
  assert.equal(top.location.file, programPath('scrypt-sync.mjs'));
  assert.equal(top.location.function, 'handleLogin');
  assert.ok(top.impactMs! > 0.5 * report.totals.wallMs);
  assert.match(top.suggestion, /use scrypt \(callback or promise form\)/);
});

test('execSync is blocking, and --fail-on critical turns it into exit code 1', () => {
  const profile = record('exec-sync.mjs', ['0.3'], 1000);
  const { report, code } = analyze(profile, ['--fail-on', 'critical']);
  assert.equal(code, 1);
  assert.equal(report.findings[0].kind, 'blocking');
  assert.equal(report.findings[0].title, 'execSync blocks the event loop');
  assert.equal(report.findings[0].location.function, 'sleeper');
  assert.ok(Number(report.findings[0].evidence.longestStretchMs) >= 280);
});

test('a busy loop is blocking at the loop line', () => {
  const { report } = analyze(record('busy-loop.mjs', ['300'], 1000));
  const [top] = report.findings;
  assert.equal(top.kind, 'blocking');
  assert.equal(top.location.line, markedLine('busy-loop.mjs'));
  assert.equal(top.location.function, 'spin');
});

test('awaits in a loop show as a possible sequential pattern in a bare profile', () => {
  const { report } = analyze(record('sequential-awaits.mjs', [], 250));
  const finding = report.findings.find((f) => f.kind === 'sequential');
  assert.ok(finding, JSON.stringify(report.findings));
  assert.equal(finding.severity, 'info');
  assert.equal(finding.location.function, 'fetchAll');
  assert.ok(Number(finding.evidence.waits) >= 4);
  assert.ok(finding.impactMs! > 150, `impact ${finding.impactMs}`);
  assert.deepEqual(alarms(report), []);
});

test('healthy programs get no warning or critical finding, and --fail-on warning exits 0', () => {
  for (const [program, args] of [['sequential-awaits.mjs', ['parallel']], ['timer-wait.mjs', ['300']]] as const) {
    const { report, code } = analyze(record(program, [...args], 1000), ['--fail-on', 'warning']);
    assert.deepEqual(alarms(report), [], program);
    assert.equal(code, 0);
    assert.equal(report.findings.filter((f) => f.kind === 'sequential').length, 0, program);
  }
});

test('200,000 tiny tasks are context switching, located at the line that spawns them', () => {
  const { report } = analyze(record('tiny-tasks.mjs', ['200000'], 1000));
  const [top] = report.findings;
  assert.equal(top.kind, 'context-switching');
  assert.equal(top.location.file, programPath('tiny-tasks.mjs'));
  assert.equal(top.location.line, markedLine('tiny-tasks.mjs'));
  assert.match(top.title, /^tinyTask runs as many tiny async tasks/);
  assert.ok(Number(top.evidence.machineryShare) + Number(top.evidence.gcShare) > 0.5);
  assert.equal(report.findings.filter((f) => f.kind === 'blocking' && f.severity !== 'info').length, 0);
});

test('a CPU-bound loop is not mistaken for context switching', () => {
  const { report } = analyze(record('busy-loop.mjs', ['300'], 1000));
  assert.equal(report.findings.filter((f) => f.kind === 'context-switching').length, 0);
});
