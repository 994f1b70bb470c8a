// The diagnosis of Python asyncio programs recorded with `loopscope collect -- python3` (the
// examples in traces/python/): the top finding has the right kind at the `@mark` line, its
// suggestion names the asyncio remedy, and healthy programs get no warning or critical finding.
// Timings on a loaded machine decide severities only, never kinds or lines.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Kind } from '../src/model.js';
import type { JsonReport } from '../src/reports/json.js';
import { readFileSync } from 'node:fs';
import { root, runCli, tempDir } from './support.js';

const PYTHON = 'python3';

function markedPythonLine(path: string): number {
  const i = readFileSync(path, 'utf8').split('\n').findIndex((l) => l.includes('@mark'));
  if (i < 0) throw new Error(`${path} has no @mark`);
  return i + 1;
}

interface Case {
  program: string;
  expect: Kind | 'healthy';
  /** Words the suggestion must hold: the asyncio remedy. */
  remedy?: RegExp;
  /** Where the finding's line came from (evidence.allocationFrom). */
  from?: RegExp;
  /** The call that gathered each batch (evidence.gatheredBy). */
  gatheredBy?: string;
}

const CASES: Case[] = [
  { program: 'blocking_sleep.py', expect: 'blocking', remedy: /await asyncio\.sleep|asyncio\.to_thread/ },
  { program: 'blocking_hash.py', expect: 'blocking', remedy: /asyncio\.to_thread\(hashlib\.pbkdf2_hmac/ },
  { program: 'blocking_cpu.py', expect: 'blocking', remedy: /ProcessPoolExecutor/ },
  // asyncio runs the timers that fell due at every yield: a task that yields too rarely shows as
  // the stretches between its yields, each one blocking call to blame.
  { program: 'starvation_hog.py', expect: 'blocking', remedy: /ProcessPoolExecutor|asyncio\.sleep\(0\)/ },
  { program: 'sequential_requests.py', expect: 'sequential', remedy: /asyncio\.gather|TaskGroup/ },
  { program: 'sequential_batches.py', expect: 'sequential', remedy: /asyncio\.Semaphore.*asyncio\.Queue/, gatheredBy: 'asyncio.gather' },
  { program: 'sequential_taskgroups.py', expect: 'sequential', remedy: /asyncio\.Semaphore.*asyncio\.Queue/, gatheredBy: 'asyncio.TaskGroup' },
  { program: 'context_switching.py', expect: 'context-switching', remedy: /asyncio\.Semaphore|asyncio\.Queue/ },
  { program: 'starvation_executor.py', expect: 'starvation', remedy: /executor/ },
  { program: 'memory_tasks.py', expect: 'memory', remedy: /asyncio\.Semaphore/, from: /^heap-profile/ },
  { program: 'healthy_gather.py', expect: 'healthy' },
  { program: 'healthy_sleep.py', expect: 'healthy' },
  { program: 'healthy_stream.py', expect: 'healthy' },
];

for (const c of CASES) {
  test(`${c.program}: ${c.expect === 'healthy' ? 'no warning or critical finding' : `top finding is ${c.expect} at its @mark line`}`, () => {
    const program = join(root, 'traces', 'python', c.program);
    const out = join(tempDir(), 'rec');
    const r = runCli(['collect', '--out', out, '--', PYTHON, program]);
    assert.equal(r.code, 0, r.stderr);
    const a = runCli(['analyze', out, '--json']);
    assert.equal(a.code, 0, a.stderr);
    const { findings } = JSON.parse(a.stdout) as JsonReport;
    const shown = JSON.stringify(findings.map((f) => [f.severity, f.kind, f.location.line, f.title]));
    if (c.expect === 'healthy') {
      assert.deepEqual(findings.filter((f) => f.severity !== 'info').map((f) => f.title), [], shown);
      return;
    }
    const top = findings[0];
    assert.ok(top, 'no finding');
    assert.equal(top.kind, c.expect, shown);
    assert.equal(top.location.file, program, shown);
    assert.equal(top.location.line, markedPythonLine(program), shown);
    assert.notEqual(top.severity, 'info', shown);
    if (c.remedy) assert.match(top.suggestion, c.remedy);
    if (c.from) assert.match(String(top.evidence.allocationFrom), c.from);
    assert.equal(top.evidence.gatheredBy, c.gatheredBy, shown);
    assert.doesNotMatch(top.suggestion, /Promise\.all|worker thread|setImmediate|UV_THREADPOOL_SIZE/);
  });
}

// The committed recordings of the memory programs hold a heap profile; the finding takes its line.
/** The 1-based line holding `text` in a Python program. */
function lineOf(path: string, text: string): number {
  const i = readFileSync(path, 'utf8').split('\n').findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`${path} has no ${text}`);
  return i + 1;
}

// The article's program is kept as published: its allocation is the line it marks "Large memory usage".
for (const [dir, program, mark] of [
  ['memory_tasks', 'memory_tasks.py', '@mark'],
  ['article-recorded/05_memory', 'article/05_memory.py', '# Large memory usage'],
]) {
  test(`committed recording traces/python/${dir}: memory at the allocation line, from its heap profile`, () => {
    const a = runCli(['analyze', join(root, 'traces', 'python', dir), '--json']);
    assert.equal(a.code, 0, a.stderr);
    const { findings } = JSON.parse(a.stdout) as JsonReport;
    const memory = findings.find((f) => f.kind === 'memory');
    assert.ok(memory, JSON.stringify(findings.map((f) => f.title)));
    assert.ok(memory.location.file.endsWith(`traces/python/${program}`), memory.location.file);
    assert.equal(memory.location.line, lineOf(join(root, 'traces', 'python', program), mark));
    assert.match(String(memory.evidence.allocationFrom), /^heap-profile/);
  });
}
