// Profiles without a time order (pprof, folded stacks): a real @datadog/pprof wall profile of a
// program whose hot function runs in ~30 ms bursts gets no claim about how long one call ran; a
// folded-stack file still gets a blocking sleep by its share of the profile, but no train of waits
// made up from the order of its lines. V8 profiles are covered, unchanged, by detectors.test.ts
// and diagnosis.test.ts.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeFile, analyzeProfile } from '../src/analyze.js';
import type { Finding } from '../src/model.js';
import type { JsonReport } from '../src/reports/json.js';
import { corpus, markedLine, programPath, record, runCli, tempDir } from './support.js';

const tmp = tempDir();

/** Words that state the length of one stretch of work. */
const DURATION_CLAIM = /without yielding|for up to \d+ ms|holds? the loop for up to/;

const claimsDuration = (f: Finding) => DURATION_CLAIM.test(`${f.title} ${f.suggestion}`) || 'longestStretchMs' in f.evidence;

test('@datadog/pprof wall profile of 30 ms bursts: no "runs for N ms without yielding"', async () => {
  const path = join(tmp, 'bursts.pb.gz');
  const r = spawnSync(process.execPath, [programPath('untimed-bursts.cjs'), path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { calls } = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { calls: number[] };
  // A loaded machine stretches a call now and then (up to 154 ms seen); the typical one is 30 ms.
  const typicalCall = [...calls].sort((a, b) => a - b)[calls.length >> 1];

  const analysis = await analyzeFile(path);
  assert.equal(analysis.profile.timeOrder, 'none');
  const hot = analysis.lines[0];
  assert.deepEqual([hot.file, hot.line, hot.function], [programPath('untimed-bursts.cjs'), markedLine('untimed-bursts.cjs'), 'hot']);
  // The profile holds several calls' worth of hot(): one stretch of it all would be a false claim.
  const hotMs = hot.userMs + hot.systemMs;
  assert.ok(hotMs > 3 * typicalCall, `hot ${hotMs} ms in the profile, typical call ${typicalCall} ms`);
  assert.deepEqual(analysis.findings.filter(claimsDuration), []);
  assert.deepEqual(analysis.findings.filter((f) => f.location.function === 'hot'), []);

  // The same tables read as if in time order make the claim this rule prevents: one stretch of
  // all of hot()'s samples, several calls long.
  const asIfTimed = analyzeProfile({ ...analysis.profile, timeOrder: 'real' });
  const claim = asIfTimed.findings.find((f) => f.kind === 'blocking' && f.location.function === 'hot');
  assert.ok(claim && claimsDuration(claim), JSON.stringify(asIfTimed.findings));
  assert.ok((claim.evidence.longestStretchMs as number) >= 0.9 * hotMs, JSON.stringify(claim.evidence));

  const terminal = runCli(['analyze', path]);
  assert.equal(terminal.code, 0, terminal.stderr);
  assert.match(terminal.stdout.split('\n').slice(0, 5).join('\n'), /^no time order: /m);
  const json = runCli(['analyze', '--json', path]);
  assert.equal((JSON.parse(json.stdout) as JsonReport).timeOrder, 'none');
});

test('folded stacks: a blocking time.sleep is found by its share, without a length of one call', () => {
  const path = join(tmp, 'sleep.folded');
  writeFileSync(
    path,
    [
      '<module> (/srv/app.py:20);main (/srv/app.py:10);handler (/srv/app.py:5);time.sleep 600',
      '<module> (/srv/app.py:20);main (/srv/app.py:10);compute (/srv/app.py:14) 100',
      '<module> (/srv/app.py:20);main (/srv/app.py:10);_run_once (/usr/lib/python3.11/asyncio/base_events.py:1900);select 300',
      '',
    ].join('\n'),
  );
  const r = runCli(['analyze', '--json', path]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  assert.equal(report.timeOrder, 'none');
  assert.equal(report.findings.length, 1, JSON.stringify(report.findings));
  const [f] = report.findings;
  assert.equal(f.kind, 'blocking');
  assert.equal(f.severity, 'warning');
  assert.deepEqual([f.location.file, f.location.line], ['/srv/app.py', 5]);
  assert.equal(f.title, 'time.sleep sleeps synchronously for 60% of the profile');
  assert.equal(f.evidence.wallShare, 0.6);
  assert.equal(f.impactMs, 600);
  assert.equal(claimsDuration(f), false);
  assert.match(f.suggestion, /asyncio\.sleep/);
});

test('folded stacks: idle lines alternating with short bursts make no train of sequential awaits', async () => {
  const path = join(tmp, 'train.folded');
  const lines: string[] = [];
  for (let i = 0; i < 6; i++) {
    lines.push('<module> (/srv/app.py:30);main (/srv/app.py:20);_run_once (/usr/lib/python3.11/asyncio/base_events.py:1900);select 100');
    lines.push('<module> (/srv/app.py:30);main (/srv/app.py:20);fetch_all (/srv/app.py:10) 2');
  }
  writeFileSync(path, lines.join('\n') + '\n');
  const analysis = await analyzeFile(path);
  assert.deepEqual(analysis.findings, []);
  // In time order the same samples are such a train: the rule, not the data, keeps it out.
  const asIfTimed = analyzeProfile({ ...analysis.profile, timeOrder: 'real' });
  assert.deepEqual(asIfTimed.findings.map((f) => f.kind), ['sequential']);
});

test('V8 CPU profiles and speedscope sampled profiles keep their time order', () => {
  const v8 = runCli(['analyze', '--json', record('busy-loop.mjs', ['300'], 1000)]);
  assert.ok(v8.code === 0 || v8.code === 1, v8.stderr);
  const report = JSON.parse(v8.stdout) as JsonReport;
  assert.equal(report.timeOrder, 'real');
  // The busy loop is one stretch in time order: the blocking detector still measures it.
  assert.ok(report.findings.some((f) => f.kind === 'blocking' && (f.evidence.longestStretchMs as number) >= 200), JSON.stringify(report.findings));
  // speedscope's sampled profiles list their samples in the order taken.
  const sampled = runCli(['analyze', '--json', join(corpus, 'speedscope', 'speedscope', '0.1.2', 'simple-sampled.speedscope.json')]);
  assert.equal((JSON.parse(sampled.stdout) as JsonReport).timeOrder, 'real');
});
