// `loopscope collect -- python3 ...`: real Python programs recorded with the built CLI and the
// Python recorder (src/collector/python/); the files are checked for what the diagnosis needs (the
// right line with the right share, (idle) while the loop waits, a sleep read as system time) and for
// being complete however the program ends.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Manifest, ManifestProcess } from '../src/collector/format.js';
import { frameKind } from '../src/importers/frames.js';
import type { JsonReport } from '../src/reports/json.js';
import { cli, collectInBackground, root, runCli, tempDir } from './support.js';

const PYTHON = 'python3';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; scriptId: string }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const pythonProgram = (name: string) => join(root, 'test', 'programs', 'python', name);
const example = (name: string) => join(root, 'traces', 'python', name);

/** The 1-based line of the `@mark` comment in a Python program. */
function markedPythonLine(path: string): number {
  const i = readFileSync(path, 'utf8').split('\n').findIndex((l) => l.includes('@mark'));
  if (i < 0) throw new Error(`${path} has no @mark`);
  return i + 1;
}

function collect(command: string[]) {
  const out = join(tempDir(), 'rec');
  return { ...runCli(['collect', '--out', out, '--', ...command]), out };
}

function only(out: string): { manifest: Manifest; p: ManifestProcess; profile: CpuProfile; trace: any } {
  const manifest = JSON.parse(readFileSync(join(out, 'recording.json'), 'utf8')) as Manifest;
  assert.equal(manifest.processes.length, 1, JSON.stringify(manifest.processes.map((p) => p.argv)));
  const [p] = manifest.processes;
  assert.equal(manifest.main, p.pid);
  assert.equal(p.complete, true, `process ${p.pid} is not complete`);
  const profile = JSON.parse(readFileSync(join(out, p.files!.cpuprofile), 'utf8')) as CpuProfile;
  const trace = JSON.parse(readFileSync(join(out, p.files!.trace), 'utf8'));
  return { manifest, p, profile, trace };
}

function analyze(out: string): JsonReport {
  const a = runCli(['analyze', out, '--json']);
  assert.equal(a.code, 0, a.stderr);
  return JSON.parse(a.stdout) as JsonReport;
}

/** Time per node id (µs), the V8 way: each sample lasts until the next one. */
function timePerNode(profile: CpuProfile): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i + 1 < profile.samples.length; i++) {
    out.set(profile.samples[i], (out.get(profile.samples[i]) ?? 0) + profile.timeDeltas[i + 1]);
  }
  return out;
}

test('a blocking time.sleep recorded by collect: V8-shaped profile, (idle) samples, the sleep as system time of its line', () => {
  const program = example('blocking_sleep.py');
  const r = collect([PYTHON, program]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /recorded 1 process in .* \(main: pid \d+, python .*blocking_sleep\.py\)/);
  assert.match(r.stderr, /loopscope analyze /);
  const { p, profile, trace } = only(r.out);
  assert.match(p.runtime ?? '', /^python 3\./);
  assert.equal(p.exitCode, 0);

  // V8's shape: one node per (parent, frame), ids referenced by samples, times on the monotonic clock.
  const ids = new Set(profile.nodes.map((n) => n.id));
  assert.ok(profile.samples.length > 300, `${profile.samples.length} samples`);
  assert.ok(profile.samples.every((s) => ids.has(s)));
  assert.equal(profile.samples.length, profile.timeDeltas.length);
  assert.ok(profile.timeDeltas.slice(1).every((d) => d >= 0));
  assert.ok(profile.endTime >= profile.startTime && Math.abs(profile.startTime - p.startUs) < 5e6);

  const time = timePerNode(profile);
  const byName = (name: string) => profile.nodes.filter((n) => n.callFrame.functionName === name);
  // The loop waiting in its selector is (idle), a child of the root.
  const idle = byName('(idle)');
  assert.equal(idle.length, 1);
  assert.ok((time.get(idle[0].id) ?? 0) > 20_000, 'under 20 ms of (idle)');
  // time.sleep is a native leaf (no URL) under the line that calls it: 4 sleeps of 200 ms.
  const line = markedPythonLine(program);
  const sleeps = byName('time.sleep');
  assert.ok(sleeps.length >= 1, 'no time.sleep leaf');
  for (const s of sleeps) {
    assert.equal(s.callFrame.url, '');
    assert.equal(s.callFrame.scriptId, '0');
    const parent = profile.nodes.find((n) => n.children?.includes(s.id))!;
    assert.equal(parent.callFrame.url, program);
    assert.equal(parent.callFrame.lineNumber + 1, line);
  }
  const slept = sleeps.reduce((a, s) => a + (time.get(s.id) ?? 0), 0);
  assert.ok(slept > 600_000, `${slept} µs in time.sleep`);
  // The recorder's frames are the recorder's, never the program's.
  for (const n of profile.nodes) {
    if (n.callFrame.url.includes('_loopscope_recorder')) assert.equal(frameKind(n.callFrame.functionName, n.callFrame.url, n.callFrame.scriptId), 'recorder');
  }
  // The trace: tasks and awaits with the program's sites, schedstat and heartbeat series.
  const events: any[] = trace.traceEvents;
  assert.ok(events.some((e) => e.ph === 'b' && e.name === 'Task' && e.args.site?.startsWith(`${program}:`)));
  assert.ok(events.some((e) => e.ph === 'b' && e.name === 'await' && e.args.site === `${program}:${line - 1}:0`));
  assert.ok(trace.metadata.schedstat.samples > 300 && events.some((e) => e.ph === 'C' && e.name === 'schedstat'));
  assert.ok(events.some((e) => e.ph === 'C' && e.name === 'timerDrift' && e.args.lateMs > 150));
  assert.equal(trace.metadata.format, 'loopscope-recording');

  // analyze: the line is system time (the thread slept), at least 600 ms of it.
  const report = analyze(r.out);
  const row = report.lines.find((l) => l.file === program && l.line === line);
  assert.ok(row, JSON.stringify(report.lines.slice(0, 5)));
  assert.ok(row.systemMs > 600 && row.systemMs > 0.9 * (row.systemMs + row.userMs), JSON.stringify(row));
  assert.ok(!report.lines.some((l) => l.file.includes('_loopscope_recorder')));
  // The idle time went to the heartbeat task's await (the program's pending await).
  assert.ok(report.lines.some((l) => l.file === program && l.idleMs > 10));
});

test('a CPU loop: its line has most of the user time', () => {
  const program = example('blocking_cpu.py');
  const r = collect([PYTHON, program]);
  assert.equal(r.code, 0, r.stderr);
  const report = analyze(r.out);
  const line = markedPythonLine(program);
  const row = report.lines.find((l) => l.file === program && l.line === line);
  assert.ok(row, JSON.stringify(report.lines.slice(0, 5)));
  assert.ok(row.userMs > 0.6 * report.totals.userMs, `${row.userMs} of ${report.totals.userMs} ms user`);
  assert.ok(row.userMs > row.systemMs);
});

test('sys.exit(3): exit code 3 passes through, the recording is complete', () => {
  const r = collect([PYTHON, pythonProgram('exit3.py')]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /exiting with 3/);
  const { p, manifest } = only(r.out);
  assert.equal(p.exitCode, 3);
  assert.equal(manifest.exitCode, 3);
});

test('an uncaught exception: exit code 1, the traceback on stderr, the recording complete', () => {
  const r = collect([PYTHON, pythonProgram('throw.py')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /RuntimeError: python-throw: the program failed/);
  assert.match(r.stderr, /throw\.py", line 6/);
  const { p } = only(r.out);
  assert.equal(p.exitCode, 1);
});

test('SIGTERM sent to the Python program: the recording is complete and the exit code is 143', async () => {
  const run = await collectInBackground([PYTHON, pythonProgram('signal_wait.py')]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  process.kill(run.pid, 'SIGTERM');
  assert.equal(await run.ended, 143, run.stderr());
  const { p, manifest } = only(run.out);
  assert.equal(p.signal, 'SIGTERM');
  assert.equal(p.exitCode, null);
  assert.equal(manifest.signal, 'SIGTERM');
});

test('SIGINT: asyncio.run cancels the program, the recording is complete, the exit code is 130', async () => {
  const run = await collectInBackground([PYTHON, pythonProgram('signal_wait.py')]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  process.kill(run.pid, 'SIGINT');
  assert.equal(await run.ended, 130, run.stderr());
  const { p } = only(run.out);
  assert.equal(p.signal, 'SIGINT');
});

test('python3.11 by path, and a script with a python shebang, are recorded', () => {
  for (const command of [['/usr/bin/python3.11', pythonProgram('exit3.py')], [pythonProgram('shebang.py')]]) {
    const r = collect(command);
    const { p } = only(r.out);
    assert.match(p.runtime ?? '', /^python 3\./);
  }
  const r = collect([pythonProgram('shebang.py')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /shebang 3/);
  const report = analyze(r.out);
  const line = markedPythonLine(pythonProgram('shebang.py'));
  const row = report.lines.find((l) => l.line === line && l.file === pythonProgram('shebang.py'));
  assert.ok(row && row.systemMs > 80, JSON.stringify(report.lines.slice(0, 3)));
});

test("the program's own sitecustomize still runs, after the recorder's", () => {
  const dir = join(tempDir(), 'site');
  mkdirSync(dir);
  const marker = join(dir, 'ran');
  writeFileSync(join(dir, 'sitecustomize.py'), `open(${JSON.stringify(marker)}, 'w').write('yes')\n`);
  const out = join(tempDir(), 'rec');
  const r = spawnSync(process.execPath, [cli, 'collect', '--out', out, '--', PYTHON, '-c', 'print("hi")'], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: dir },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  assert.equal(readFileSync(marker, 'utf8'), 'yes');
  only(out);
});

test('Python frame kinds: the standard library is internal, installed packages dependencies, the recorder its own', () => {
  assert.equal(frameKind('sleep', '/usr/lib/python3.11/asyncio/tasks.py'), 'internal');
  assert.equal(frameKind('run', '/root/.pyenv/versions/3.11.7/lib/python3.11/asyncio/runners.py'), 'internal');
  assert.equal(frameKind('get', '/usr/lib/python3/dist-packages/requests/api.py'), 'dependency');
  assert.equal(frameKind('get', '/srv/venv/lib/python3.11/site-packages/aiohttp/client.py'), 'dependency');
  assert.equal(frameKind('main', '/srv/app/main.py'), 'user');
  assert.equal(frameKind('_run', '/x/node_modules/loopscope/dist/src/collector/python/_loopscope_recorder.py'), 'recorder');
  assert.equal(frameKind('_find_and_load', '<frozen importlib._bootstrap>'), 'internal');
});

test('python -I ignores PYTHONPATH: nothing is recorded, and collect says why', () => {
  const r = collect([PYTHON, '-I', '-c', 'print("isolated")']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'isolated\n');
  assert.match(r.stderr, /nothing was recorded in .*started no Python process that kept PYTHONPATH \(python -I and -E ignore it/);
});

test('--interval sets the sampler period', () => {
  const out = join(tempDir(), 'rec');
  const run = runCli(['collect', '--out', out, '--interval', '5', '--', PYTHON, example('blocking_sleep.py')]);
  assert.equal(run.code, 0, run.stderr);
  const { profile, trace } = only(out);
  assert.equal(trace.metadata.cpuProfile.samplingIntervalUs, 5000);
  const deltas = profile.timeDeltas.slice(1).sort((a, b) => a - b);
  const median = deltas[deltas.length >> 1];
  assert.ok(median >= 4500 && median < 20_000, `median interval ${median} µs`);
});

test("a program's own task factory makes its tasks, and they are still traced", () => {
  const program = pythonProgram('task_factory.py');
  const r = collect([PYTHON, program]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /factory made 2/);
  const events: any[] = only(r.out).trace.traceEvents;
  const site = `${program}:${markedPythonLine(program)}:0`;
  assert.equal(events.filter((e) => e.ph === 'b' && e.name === 'await' && e.args.site === site).length, 2);
  assert.equal(events.filter((e) => e.ph === 'b' && e.name === 'Task' && e.args.function === 'main').length, 2);
});

test('series: GC pauses, RSS, the default executor queue, loop delay in the metadata', () => {
  const r = collect([PYTHON, pythonProgram('series.py')]);
  assert.equal(r.code, 0, r.stderr);
  const { trace } = only(r.out);
  const events: any[] = trace.traceEvents;
  const gc = events.filter((e) => e.ph === 'X' && e.cat === 'gc');
  assert.ok(gc.length >= 3 && gc.some((e) => e.args.generation === 2 && e.dur > 0), JSON.stringify(gc.slice(0, 3)));
  const memory = events.filter((e) => e.ph === 'C' && e.name === 'memory');
  assert.ok(memory.length >= 5 && memory.every((e) => e.args.rss > 1 << 20));
  const executor = events.filter((e) => e.ph === 'C' && e.name === 'defaultExecutor');
  const workers = trace.metadata.threadpool.size;
  assert.ok(workers >= 1 && workers < 12);
  assert.ok(executor.some((e) => e.args.queued > 0), 'no job ever queued');
  assert.ok(executor.some((e) => e.args.busy === workers), 'the workers were never all busy');
  const jobs = events.filter((e) => e.ph === 'b' && e.name === 'executor');
  assert.equal(jobs.length, 12);
  const submitLine = readFileSync(pythonProgram('series.py'), 'utf8').split('\n').findIndex((l) => l.includes('run_in_executor')) + 1;
  assert.ok(jobs.every((e) => e.args.threadpool === true && e.args.site === `${pythonProgram('series.py')}:${submitLine}:0`));
  assert.ok(trace.metadata.eventLoopDelay.count > 10);
});

/** The 1-based line of a `@<tag>` comment in a Python program. */
function taggedPythonLine(path: string, tag: string): number {
  const i = readFileSync(path, 'utf8').split('\n').findIndex((l) => l.includes(tag));
  if (i < 0) throw new Error(`${path} has no ${tag}`);
  return i + 1;
}

test('allocation sites: the heap profile names the allocating line, within its tracing budget, and the memory finding uses it', () => {
  const program = pythonProgram('alloc_helper.py');
  const r = collect([PYTHON, program]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /could not/);
  const { p, trace } = only(r.out);
  assert.equal(p.files?.heapprofile, `${p.pid}.heapprofile`);
  const heapPath = join(r.out, p.files!.heapprofile!);

  // V8's shape: a tree of call frames with selfSize, ids unique, the program's frames per line.
  const heap = JSON.parse(readFileSync(heapPath, 'utf8'));
  assert.equal(heap.head.callFrame.functionName, '(root)');
  assert.deepEqual(heap.samples, []);
  const ids = new Set<number>();
  const stack = [heap.head];
  while (stack.length) {
    const node = stack.pop();
    assert.ok(!ids.has(node.id), `node id ${node.id} twice`);
    ids.add(node.id);
    assert.ok(Number.isInteger(node.selfSize) && node.selfSize >= 0);
    assert.doesNotMatch(node.callFrame.url, /_loopscope_recorder[\/.]/);
    stack.push(...node.children);
  }

  // The tasks' allocations made RSS grow fast: windows opened for it (what they cost is the
  // benchmark's business, not a test's).
  const meta = trace.metadata.heapProfile;
  assert.equal(meta.file, p.files!.heapprofile);
  assert.ok(meta.windows.growth >= 1 && meta.blocksTraced > 0, JSON.stringify(meta));

  // The heap profile read on its own: the allocating line on top.
  const a = runCli(['analyze', heapPath, '--json']);
  assert.equal(a.code, 0, a.stderr);
  const lines = (JSON.parse(a.stdout) as JsonReport & { lines: { file: string; line: number; function: string }[] }).lines;
  const mark = markedPythonLine(program);
  assert.deepEqual([lines[0].file, lines[0].line, lines[0].function], [program, mark, 'make_payload.<locals>.<listcomp>']);

  // The recording: the memory finding at that line, from the heap profile.
  const memory = analyze(r.out).findings.find((f) => f.kind === 'memory');
  assert.ok(memory, 'no memory finding');
  assert.deepEqual([memory.location.file, memory.location.line], [program, mark]);
  assert.match(String(memory.evidence.allocationFrom), /^heap-profile/);

  // Without the heap profile the finding falls back to the trace: the source shows no allocation
  // before the await, so it names the await the tasks held their payload across.
  rmSync(heapPath);
  const fallback = analyze(r.out).findings.find((f) => f.kind === 'memory');
  assert.ok(fallback, 'no memory finding without the heap profile');
  assert.equal(fallback.location.line, taggedPythonLine(program, '@await'));
  assert.match(String(fallback.evidence.allocationFrom), /^async-trace/);
});

test('a program that traces its own allocations (-X tracemalloc) keeps tracemalloc to itself: no heap profile', () => {
  const program = pythonProgram('alloc_helper.py');
  const r = collect([PYTHON, '-X', 'tracemalloc=1', program]);
  assert.equal(r.code, 0, r.stderr);
  const { p, trace } = only(r.out);
  assert.equal(p.files?.heapprofile, undefined);
  assert.equal(trace.metadata.heapProfile.file, null);
  // The source-based line still names something: the memory finding is still made.
  assert.ok(analyze(r.out).findings.some((f) => f.kind === 'memory'));
});
