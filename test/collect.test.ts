// `loopscope collect`: real programs recorded with the built CLI; the recorded files are checked for
// what the diagnosis needs (the right line, the right span, off-CPU time, GC, memory) and for being
// complete however the program ends.

import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Manifest, ManifestProcess } from '../src/collector/format.js';
import { COLLECTOR_SCRIPTS, isCollectorUrl } from '../src/collector/paths.js';
import type { JsonReport } from '../src/reports/json.js';
import { collectInBackground, markedLine, programPath, root, runCli, tempDir } from './support.js';

interface TraceEvent {
  ph: string;
  cat?: string;
  name: string;
  id?: number;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: Record<string, any>;
}
interface Trace {
  traceEvents: TraceEvent[];
  metadata: Record<string, any>;
}
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface Recorded {
  process: ManifestProcess;
  profile: CpuProfile;
  trace: Trace;
  heap: { head: unknown; samples: unknown[] };
}

/** Runs `loopscope collect --out DIR -- node PROGRAM ARGS`. */
function collect(program: string, args: string[] = []) {
  const out = join(tempDir(), 'rec');
  const r = runCli(['collect', '--out', out, '--', process.execPath, programPath(program), ...args]);
  return { ...r, out };
}

/** Reads the manifest and every process's files; each must parse as JSON. */
function load(out: string): { manifest: Manifest; processes: Recorded[] } {
  const manifest = JSON.parse(readFileSync(join(out, 'recording.json'), 'utf8')) as Manifest;
  const json = (name: string | undefined) => {
    assert.ok(name, 'file missing from the manifest');
    return JSON.parse(readFileSync(join(out, name), 'utf8'));
  };
  const processes = manifest.processes.map((p) => ({
    process: p,
    profile: json(p.files?.cpuprofile) as CpuProfile,
    trace: json(p.files?.trace) as Trace,
    heap: json(p.files?.heapprofile) as Recorded['heap'],
  }));
  return { manifest, processes };
}

function only(out: string): Recorded {
  const { manifest, processes } = load(out);
  assert.equal(processes.length, 1, JSON.stringify(manifest.processes.map((p) => p.argv)));
  assert.equal(manifest.main, processes[0].process.pid);
  return processes[0];
}

/** Writes `source` as a program in `dir`, records it (it must exit 0) and returns its path and its one process's files. */
function collectScript(dir: string, name: string, source: string): Recorded & { program: string } {
  const program = join(dir, name);
  writeFileSync(program, source);
  const out = join(dir, 'rec');
  const r = runCli(['collect', '--out', out, '--', process.execPath, program]);
  assert.equal(r.code, 0, r.stderr);
  return { ...only(out), program };
}

function assertComplete(p: ManifestProcess) {
  assert.equal(p.complete, true, `process ${p.pid} is not complete`);
  assert.ok(p.endTime && p.files?.cpuprofile && p.files.trace && p.files.heapprofile, JSON.stringify(p));
}

const counters = (trace: Trace, name: string) => trace.traceEvents.filter((e) => e.ph === 'C' && e.name === name);

test('a busy loop recorded by collect: its line has user time in `analyze DIR`', () => {
  const r = collect('busy-loop.mjs', ['300']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /loopscope analyze /);
  const a = runCli(['analyze', '--json', r.out]);
  assert.equal(a.code, 0, a.stderr);
  const report = JSON.parse(a.stdout) as JsonReport;
  const line = report.lines.find((l) => l.file === programPath('busy-loop.mjs') && l.line === markedLine('busy-loop.mjs'));
  assert.ok(line, JSON.stringify(report.lines.slice(0, 5)));
  assert.equal(line.function, 'spin');
  assert.ok(line.userMs > 200, `user ${line.userMs} ms`);
  assert.equal(report.lines[0], line);
});

test('a 200 ms timer is an async span from its setTimeout line to its callback; the wait is idle', () => {
  const r = collect('collect-timer.mjs', ['200']);
  assert.equal(r.code, 0, r.stderr);
  const { trace, profile, process: p } = only(r.out);
  assertComplete(p);
  assert.equal(p.exitCode, 0);
  const site = `${programPath('collect-timer.mjs')}:${markedLine('collect-timer.mjs')}:`;
  const inits = trace.traceEvents.filter((e) => e.ph === 'b' && e.name === 'Timeout' && String(e.args?.site).startsWith(site));
  assert.equal(inits.length, 1, JSON.stringify(trace.traceEvents.filter((e) => e.name === 'Timeout')));
  const init = inits[0];
  assert.equal(init.id, init.args!.asyncId);
  assert.equal(typeof init.args!.triggerAsyncId, 'number');
  const callback = trace.traceEvents.find((e) => e.ph === 'X' && e.cat === 'async.callback' && e.args?.asyncId === init.id);
  assert.ok(callback, 'the timer callback is missing');
  const waitMs = (callback.ts - init.ts) / 1000;
  assert.ok(waitMs > 150 && waitMs < 250, `init -> callback ${waitMs} ms`);
  // The same clock as the CPU profile: the span lies inside the profile.
  assert.ok(init.ts > profile.startTime && callback.ts < profile.endTime, `${init.ts} ${callback.ts} ${profile.startTime}..${profile.endTime}`);
  const [before, after] = trace.metadata.clock.profilerStartBracketUs;
  assert.ok(profile.startTime >= before - 1 && profile.startTime <= after + 1, `${profile.startTime} not in [${before}, ${after}]`);
  // While the loop waits, V8 samples (idle).
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let idleUs = 0;
  profile.samples.forEach((s, i) => {
    if (idle.has(s)) idleUs += profile.timeDeltas[i + 1] ?? 0;
  });
  assert.ok(idleUs > 150_000, `idle ${idleUs / 1000} ms`);
});

test('process.exit(3) passes through, and the recording is complete', () => {
  const r = collect('collect-exit.mjs', ['3']);
  assert.equal(r.code, 3, r.stderr);
  const { process: p, profile } = only(r.out);
  assertComplete(p);
  assert.equal(p.exitCode, 3);
  assert.ok(profile.samples.length > 0);
});

test('an uncaught exception still prints and exits 1, and the recording is complete', () => {
  const r = collect('collect-throw.mjs');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error: collect-throw: the program failed/);
  assert.match(r.stderr, /collect-throw\.mjs:3/);
  const { process: p, manifest } = { ...only(r.out), manifest: load(r.out).manifest };
  assertComplete(p);
  assert.equal(p.exitCode, 1);
  assert.equal(manifest.exitCode, 1);
});

test('SIGTERM sent to the program: the recording is complete and the exit code is 143', async () => {
  const run = await collectInBackground([process.execPath, programPath('collect-signal.mjs')]);
  process.kill(run.pid, 'SIGTERM');
  assert.equal(await run.ended, 143, run.stderr());
  const { process: p, manifest } = { ...only(run.out), manifest: load(run.out).manifest };
  assertComplete(p);
  assert.equal(p.signal, 'SIGTERM');
  assert.equal(p.exitCode, null);
  assert.equal(manifest.signal, 'SIGTERM');
});

test('SIGTERM sent to collect reaches the program; a second one stops a busy program at once', async () => {
  let run = await collectInBackground([process.execPath, programPath('collect-signal.mjs')]);
  run.collector.kill('SIGTERM');
  assert.equal(await run.ended, 143, run.stderr());
  assertComplete(only(run.out).process);

  run = await collectInBackground([process.execPath, programPath('collect-stuck.mjs')]);
  const started = performance.now();
  run.collector.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 200));
  run.collector.kill('SIGTERM');
  assert.equal(await run.ended, 137, run.stderr());
  assert.ok(performance.now() - started < 2500, 'the busy program was not stopped at once');
  assert.match(run.stderr(), /SIGTERM again: stopping the program without waiting for its recording/);
  const manifest = JSON.parse(readFileSync(join(run.out, 'recording.json'), 'utf8')) as Manifest;
  assert.equal(manifest.processes[0].complete, false);
});

test('SIGKILL: the exit code is 137, the manifest says the process is incomplete, analyze says why', () => {
  const r = collect('collect-kill.mjs');
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, /1 of them ended before writing its files/);
  const manifest = JSON.parse(readFileSync(join(r.out, 'recording.json'), 'utf8')) as Manifest;
  assert.equal(manifest.processes.length, 1);
  const [p] = manifest.processes;
  assert.equal(p.complete, false);
  assert.equal(p.signal, 'SIGKILL');
  const a = runCli(['analyze', r.out]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, new RegExp(`process ${p.pid} ended before it wrote its CPU profile`));
});

test('a program that starts a child node process: two processes, each with complete files', () => {
  const r = collect('collect-spawn.mjs');
  assert.equal(r.code, 0, r.stderr);
  const m = /parent (\d+) child (\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const { manifest, processes } = load(r.out);
  assert.equal(processes.length, 2);
  const parent = processes.find((p) => p.process.pid === Number(m[1]));
  const child = processes.find((p) => p.process.pid === Number(m[2]));
  assert.ok(parent && child);
  assert.equal(manifest.main, parent.process.pid);
  assert.equal(parent.process.recordedParent, null);
  assert.equal(child.process.recordedParent, parent.process.pid);
  assert.equal(child.process.ppid, parent.process.pid);
  assert.deepEqual(child.process.argv.slice(1), [programPath('collect-spawn.mjs'), 'child']);
  for (const p of processes) {
    assertComplete(p.process);
    assert.equal(p.process.exitCode, 0);
    assert.equal(p.trace.metadata.pid, p.process.pid);
    assert.ok(p.profile.samples.length > 0);
  }
  const files = readdirSync(r.out).sort();
  const expected = processes.flatMap((p) => [`${p.process.pid}.cpuprofile`, `${p.process.pid}.heapprofile`, `${p.process.pid}.trace.json`]);
  assert.deepEqual(files, [...expected, 'recording.json'].sort());
});

test("execSync('sleep 0.3') shows as about 300 ms off the CPU in the schedstat series", () => {
  const r = collect('collect-sleep.mjs', ['0.3']);
  assert.equal(r.code, 0, r.stderr);
  const { trace } = only(r.out);
  assert.equal(trace.metadata.schedstat.available, true, JSON.stringify(trace.metadata.schedstat));
  const samples = counters(trace, 'schedstat');
  assert.ok(samples.length > 100, `${samples.length} samples`);
  // Off the CPU and not waiting for one either (the run queue: a loaded machine) is sleeping.
  const ts = samples.map((e) => e.ts);
  const cpu = samples.map((e) => e.args!.onCpuNs / 1000);
  const queue = samples.map((e) => e.args!.runQueueNs / 1000);
  const last = samples.length - 1;
  const sleeping = ts[last] - ts[0] - (cpu[last] - cpu[0]) - (queue[last] - queue[0]);
  assert.ok(sleeping > 260_000 && sleeping < 450_000, `sleeping ${sleeping / 1000} ms`);
  // The longest stretch in which the main thread ran less than a tenth of the time. Starting the
  // shell and `sleep` is part of execSync's wait, and takes longer on a loaded machine.
  let longest = 0;
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      const wall = ts[j] - ts[i];
      if (cpu[j] - cpu[i] < 0.1 * wall) longest = Math.max(longest, wall);
    }
  }
  assert.ok(longest > 250_000 && longest < 550_000, `longest off-CPU stretch ${longest / 1000} ms`);
});

test('GC events, memory, loop and activity series are recorded', () => {
  const r = collect('collect-alloc.mjs', ['400']); // long enough for several memory samples on a loaded machine
  assert.equal(r.code, 0, r.stderr);
  const { trace, heap } = only(r.out);
  const gc = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'gc');
  assert.ok(gc.length > 0, 'no GC events');
  for (const e of gc) {
    assert.ok(['minor', 'major', 'incremental', 'weakcb'].includes(e.args!.kind), e.args!.kind);
    assert.ok(e.dur! >= 0);
  }
  const memory = counters(trace, 'memory');
  assert.ok(memory.length >= 5, `${memory.length} memory samples`);
  for (const e of memory) {
    for (const k of ['heapUsed', 'heapTotal', 'external', 'arrayBuffers', 'rss']) assert.equal(typeof e.args![k], 'number', k);
  }
  assert.ok(new Set(memory.map((e) => e.args!.heapUsed)).size > 1, 'the heap never moved');
  assert.ok(counters(trace, 'timerDrift').length > 0);
  assert.ok(counters(trace, 'eventLoopUtilization').length > 0);
  const activity = counters(trace, 'asyncActivity');
  assert.ok(activity.reduce((s, e) => s + e.args!.callbacks, 0) > 10);
  const delay = trace.metadata.eventLoopDelay;
  for (const k of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) assert.equal(typeof delay[k], 'number', k);
  assert.equal(trace.metadata.threadpool.size, 4);
  assert.equal(trace.metadata.heapProfile.includeObjectsCollectedByMinorGC, true);
  assert.ok(heap.samples.length > 0);
  // Every event is on the profile's clock and names this process.
  const pid = trace.metadata.pid;
  for (const e of trace.traceEvents) assert.equal(e.pid, pid);
});

test('thread-pool work is marked and gets its creation line', () => {
  const { trace, program } = collectScript(
    tempDir(),
    'collect-pool.mjs',
    "import { pbkdf2 } from 'node:crypto';\npbkdf2('secret', 'salt', 1000, 32, 'sha256', () => {});\n",
  );
  const job = trace.traceEvents.find((e) => e.ph === 'b' && e.name === 'PBKDF2REQUEST');
  assert.ok(job);
  assert.equal(job.args!.threadpool, true);
  assert.equal(job.args!.site, `${program}:2:1`);
  assert.equal(trace.metadata.async.types.PBKDF2REQUEST.threadpool, true);
});

test('a creation site below many library frames is the program`s line; with none in reach, the library`s', () => {
  // A package that recurses before it starts a timer: the program's call lies 18 frames down, past
  // the recorder's first, shorter stack capture; at 40 frames down it is out of reach.
  const dir = tempDir();
  mkdirSync(join(dir, 'node_modules', 'deep'), { recursive: true });
  writeFileSync(
    join(dir, 'node_modules', 'deep', 'index.mjs'),
    'export function later(depth) {\n  if (depth > 0) return later(depth - 1) + 0;\n  setTimeout(() => {}, 1);\n  return 0;\n}\n',
  );
  const { trace, program } = collectScript(dir, 'deep-site.mjs', "import { later } from './node_modules/deep/index.mjs';\nlater(16);\nlater(40);\n");
  const timers = trace.traceEvents.filter((e) => e.ph === 'b' && e.name === 'Timeout');
  assert.equal(timers.length, 2);
  assert.equal(timers[0].args!.site, `${program}:2:1`);
  assert.match(String(timers[1].args!.site), /node_modules\/deep\/index\.mjs:[23]:/);
});

test('fetch: creation sites are the program`s lines, with fetch as the function called, never the frames of Node`s WebAssembly HTTP parser', () => {
  const { trace, program } = collectScript(
    tempDir(),
    'fetch-sites.mjs',
    [
      "import { createServer } from 'node:http';",
      "const server = createServer((request, response) => response.end('ok'));",
      "await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));",
      'for (let i = 0; i < 20; i++) await (await fetch(`http://127.0.0.1:${server.address().port}/`)).text();',
      'server.close();',
      '',
    ].join('\n'),
  );
  const sites = trace.traceEvents.filter((e) => e.ph === 'b' && e.args?.site).map((e) => String(e.args!.site));
  assert.ok(sites.some((s) => s.startsWith(`${program}:4:`)), 'the fetch line is a creation site');
  assert.deepEqual(sites.filter((s) => s.startsWith('wasm://')), []);
  // Resources fetch creates for itself name it as the function the program's line was calling.
  const inside = trace.traceEvents.filter((e) => e.ph === 'b' && String(e.args?.site).startsWith(`${program}:4:`));
  assert.ok(inside.some((e) => e.args!.callee === 'fetch'), JSON.stringify(inside.slice(0, 3)));
});

test('the recorder itself never appears as the creation site of the program`s resources', () => {
  const r = collect('collect-timer.mjs', ['20']);
  const { trace } = only(r.out);
  const sites = trace.traceEvents.filter((e) => e.ph === 'b' && e.args?.site).map((e) => e.args!.site as string);
  assert.ok(sites.length > 0);
  for (const site of sites) assert.ok(!site.includes(join('dist', 'src', 'collector')), site);
});

test('every script of the recorder is recognised as its own, and nothing else is', () => {
  const dir = join(root, 'dist', 'src', 'collector');
  const scripts = readdirSync(dir).filter((f) => f.endsWith('.js'));
  assert.deepEqual(scripts.map((f) => f.slice(0, -3)).sort(), [...COLLECTOR_SCRIPTS].sort());
  for (const f of scripts) {
    assert.ok(isCollectorUrl(`file://${join(dir, f)}`), f);
    assert.ok(isCollectorUrl(`file://${join(dir, f)}?out=%2Ftmp%2Fx&interval=1000`), f);
    assert.ok(isCollectorUrl(join(dir, f)), f);
  }
  for (const url of ['file:///app/src/collector/preload.js', 'file:///app/dist/collector.js', '/app/dist/src/collector/app.js', 'node:fs']) {
    assert.equal(isCollectorUrl(url), false, url);
  }
});

test('analyze: a directory that is not a recording, and a recording without a process', () => {
  const dir = tempDir();
  let r = runCli(['analyze', dir]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `loopscope: ${dir}: is a directory, not a recording made by \`loopscope collect\`\n`);
  const empty = join(dir, 'empty');
  r = runCli(['collect', '--out', empty, '--', 'true']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /nothing was recorded/);
  r = runCli(['analyze', empty]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /holds no Node process/);
});

test('analyze: a damaged trace or a missing profile is one line and exit code 2; a damaged heap profile a warning', () => {
  const damaged = (change: (dir: string, pid: number) => void) => {
    const dir = join(tempDir(), 'memory');
    cpSync(join(root, 'traces', 'memory'), dir, { recursive: true });
    const main = Number((JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as Manifest).main);
    change(dir, main);
    return { ...runCli(['analyze', '--json', dir]), dir, main };
  };
  let r = damaged((dir, pid) => truncateSync(join(dir, `${pid}.trace.json`), 5000));
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `loopscope: ${join(r.dir, `${r.main}.trace.json`)}: truncated: the trace ends at byte 5000 before its metadata\n`);
  r = damaged((dir, pid) => rmSync(join(dir, `${pid}.cpuprofile`)));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^loopscope: .*\.cpuprofile, the CPU profile of process \d+, is missing from the recording\n$/);
  // The heap profile only places the memory finding's allocation: the rest is analysed, and said so.
  r = damaged((dir, pid) => truncateSync(join(dir, `${pid}.heapprofile`), 300));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^loopscope: warning: .*\.heapprofile: .*; analysed without it \(memory findings get no allocation line\)\n$/);
  const [top] = (JSON.parse(r.stdout) as JsonReport).findings;
  assert.equal(top.kind, 'memory');
  assert.doesNotMatch(String(top.evidence.allocationFrom), /heap-profile/);
});

test('collect: bad usage is exit code 2 with one line, and the exit code of a non-Node command passes through', () => {
  const dir = tempDir();
  let r = runCli(['collect', '--out', join(dir, 'a'), '--', 'loopscope-no-such-command']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'loopscope: loopscope-no-such-command: command not found\n');
  assert.throws(() => readdirSync(join(dir, 'a')), /ENOENT/);
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'b', 'notes.txt'), 'mine');
  r = runCli(['collect', '--out', join(dir, 'b'), '--', 'true']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exists and is not empty/);
  assert.deepEqual(readdirSync(join(dir, 'b')), ['notes.txt']);
  r = runCli(['collect', '--interval', 'fast', '--', 'true']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--interval must be/);
  r = runCli(['collect', '--out', join(dir, 'c'), '--', 'sh', '-c', 'exit 5']);
  assert.equal(r.code, 5);
});
