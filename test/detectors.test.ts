// The diagnosis on bare CPU profiles recorded from real programs (the right kind at the right place,
// and no alarm on healthy programs), and the recording's readers and detectors on synthetic traces.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeProfile } from '../src/analyze.js';
import type { ByteSource } from '../src/core/source.js';
import { InputError, type Profile } from '../src/model.js';
import type { RecordingEvidence } from '../src/recording/model.js';
import { readTrace } from '../src/recording/trace.js';
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

// ---- The recording's async trace, read in tiny chunks, and detectors on synthetic recordings ----


/** A trace in the collector's layout (one event per line), built event by event; times in ms. */
class TraceText {
  private readonly events: string[] = [];
  init(id: number, ms: number, type: string, site?: string, extra: { trigger?: number; pool?: boolean; weight?: number; fn?: string } = {}) {
    const args: Record<string, unknown> = { asyncId: id, triggerAsyncId: extra.trigger ?? 1 };
    if (site) args.site = site;
    if (site) args.function = extra.fn ?? 'main';
    if (extra.pool) args.threadpool = true;
    if (extra.weight) args.weight = extra.weight;
    this.events.push(JSON.stringify({ ph: 'b', cat: 'async', name: type, id, pid: 1, tid: 1, ts: ms * 1000, args }));
    return this;
  }
  resolve(id: number, ms: number) {
    this.events.push(JSON.stringify({ ph: 'n', cat: 'async', name: 'promiseResolve', id, pid: 1, tid: 1, ts: ms * 1000 }));
    return this;
  }
  callback(id: number, ms: number, durMs: number) {
    this.events.push(JSON.stringify({ ph: 'X', cat: 'async.callback', name: 'X', pid: 1, tid: 1, ts: ms * 1000, dur: durMs * 1000, args: { asyncId: id } }));
    return this;
  }
  counter(name: string, ms: number, args: Record<string, number>) {
    this.events.push(JSON.stringify({ ph: 'C', cat: 'loop', name, pid: 1, tid: 1, ts: ms * 1000, args }));
    return this;
  }
  raw(line: string) {
    this.events.push(line);
    return this;
  }
  text(metadata: Record<string, unknown> = { threadpool: { size: 4 }, async: { callbacks: 0, types: {} } }): string {
    return `{"traceEvents":[\n${this.events.join(',\n')}\n],\n"displayTimeUnit":"ms",\n"metadata":${JSON.stringify(metadata)}}\n`;
  }
}

/** Bytes as a source that hands out at most `chunk` bytes per read, so lines fall across reads. */
function bytesSource(text: string, chunk = 7): ByteSource {
  const bytes = new TextEncoder().encode(text);
  return {
    name: 'trace.json',
    size: bytes.length,
    async read(offset, into) {
      const n = Math.max(0, Math.min(into.length, chunk, bytes.length - offset));
      into.set(bytes.subarray(offset, offset + n));
      return n;
    },
    close: async () => {},
  };
}

/** A profile of a loop that sat idle from startMs to endMs. */
function idleProfile(startMs: number, endMs: number): Profile {
  const d = endMs - startMs;
  return {
    source: 'synthetic',
    format: 'test',
    frames: [
      { name: '(root)', file: '', line: 0, column: 0, kind: 'root' },
      { name: '(idle)', file: '', line: 0, column: 0, kind: 'idle' },
    ],
    nodeParent: Int32Array.from([-1, 0]),
    nodeFrame: Int32Array.from([0, 1]),
    nodeSelfMs: Float64Array.from([0, d]),
    nodeSamples: Float64Array.from([0, d]),
    nodeLineTicks: [undefined, undefined],
    timeline: {
      count: 1,
      start: Float64Array.from([startMs]),
      duration: Float64Array.from([d]),
      idle: Float64Array.from([d]),
      node: Int32Array.from([1]),
      resolutionMs: 0,
    },
    startMs,
    endMs,
    clampedSamples: 0,
  };
}

async function recordingOf(trace: TraceText, metadata?: Record<string, unknown>): Promise<RecordingEvidence> {
  return { dir: 'synthetic', pid: 1, trace: await readTrace(bytesSource(trace.text(metadata), 4096)), heap: null };
}

test('the trace reader: events split across 7-byte reads, weights, nested callbacks, series and metadata', async () => {
  const t = new TraceText()
    .init(10, 100, 'PROMISE', '/app/main.mjs:12:5', { fn: 'run' })
    .init(11, 101, 'Immediate', '/app/main.mjs:20:3', { trigger: 10, weight: 64 })
    .init(12, 102, 'FSREQCALLBACK', undefined, { pool: true })
    .resolve(10, 130)
    .resolve(10, 140) // only the first resolution counts
    .callback(11, 150, 1) // nested in 10's callback, stands for 64
    .callback(10, 149, 100)
    .callback(12, 300, 2)
    .raw('{"ph":"X","cat":"async.callback",broken')
    .counter('timerDrift', 160, { lateMs: 55 })
    .counter('memory', 160, { heapUsed: 5, heapTotal: 6, external: 7, arrayBuffers: 1, rss: 9 })
    .counter('schedstat', 160, { onCpuNs: 2e6, runQueueNs: 1e6 });
  const trace = await readTrace(
    bytesSource(t.text({ threadpool: { size: 8 }, eventLoopDelay: { count: 3, max: 70, p99: 60, mean: 20 }, async: { callbacks: 99, types: { PROMISE: { created: 5, traced: 1 } } } })),
  );
  const r = trace.resources;
  assert.equal(r.count, 3);
  assert.deepEqual([...r.id], [10, 11, 12]);
  assert.deepEqual(r.sites[r.site[0]], { file: '/app/main.mjs', line: 12, column: 5, function: 'run', dependency: false });
  assert.equal(r.site[2], -1);
  assert.equal(r.weight[1], 64);
  assert.ok(Math.abs(r.resolveAfter[0] - 30) < 1e-3);
  assert.ok(Math.abs(r.callbackAfter[0] - 49) < 1e-3);
  assert.ok(Number.isNaN(r.resolveAfter[2]));
  assert.equal(r.threadpool[r.type[2]], true);
  assert.equal(trace.callbacks.count, 3);
  // 10's callback held 11's (100 ms less 64 x 1 ms of nested callbacks).
  assert.ok(Math.abs(trace.callbacks.self[1] - 36) < 1e-3, String(trace.callbacks.self[1]));
  assert.equal(trace.skippedLines, 1);
  assert.deepEqual([...trace.series.drift], [160, 55]);
  assert.deepEqual([...trace.series.memory], [160, 5, 6, 7, 1, 9]);
  assert.deepEqual([...trace.series.schedstat], [160, 2, 1]);
  assert.equal(trace.metadata.threadpoolSize, 8);
  assert.equal(trace.metadata.callbacksRun, 99);
  assert.deepEqual(trace.metadata.loopDelay, { max: 70, p99: 60, mean: 20, count: 3 });
  assert.deepEqual(trace.metadata.typeCounts.get('PROMISE'), { created: 5, traced: 1 });
});

test('the trace reader: a file that is not a collector trace, or is cut short, says so', async () => {
  await assert.rejects(readTrace(bytesSource('{"nodes":[]}\n')), (e: Error) => e instanceof InputError && /not a trace written by/.test(e.message));
  const cut = new TraceText().init(10, 1, 'PROMISE').text().split('\n').slice(0, 2).join('\n');
  await assert.rejects(readTrace(bytesSource(cut)), (e: Error) => e instanceof InputError && /truncated/.test(e.message));
});

test('sequential from a trace: non-overlapping waits at one line, a promise spanning them all left out', async () => {
  const t = new TraceText().init(5, 0, 'PROMISE', '/app/loop.mjs:3:1', { fn: 'main' }).resolve(5, 1000); // the loop's own promise
  // Five requests awaited one after another at line 7, 150 ms each, 10 ms apart.
  for (let k = 0; k < 5; k++) {
    const at = 10 + k * 160;
    t.init(100 + 2 * k, at, 'PROMISE', '/app/loop.mjs:7:28', { fn: 'fetchAll' }).resolve(100 + 2 * k, at + 150);
    t.init(101 + 2 * k, at, 'TCPWRAP', '/app/loop.mjs:7:28', { fn: 'fetchAll' }).callback(101 + 2 * k, at + 150, 0.2);
  }
  t.init(200, 5, 'PROMISE', '/app/loop.mjs:7:28', { fn: 'fetchAll' }).resolve(200, 900); // lives across them all
  const analysis = analyzeProfile(idleProfile(0, 1000), await recordingOf(t));
  const f = analysis.findings.find((x) => x.kind === 'sequential');
  assert.ok(f, JSON.stringify(analysis.findings));
  assert.equal(f.location.line, 7);
  assert.equal(f.location.function, 'fetchAll');
  assert.equal(f.evidence.waits, 5);
  assert.equal(f.severity, 'critical');
  assert.ok(Math.abs(f.impactMs! - 600) < 1, String(f.impactMs));
});

test('sequential from a trace: the same requests started together are not sequential', async () => {
  const t = new TraceText();
  for (let k = 0; k < 5; k++) t.init(100 + k, 10 + k * 0.1, 'PROMISE', '/app/all.mjs:7:28', { fn: 'fetchAll' }).resolve(100 + k, 160 + k * 5);
  const analysis = analyzeProfile(idleProfile(0, 300), await recordingOf(t));
  assert.deepEqual(analysis.findings.filter((f) => f.kind === 'sequential'), []);
});

test('thread-pool starvation: long jobs from one line keep a quick read queued', async () => {
  const t = new TraceText();
  // Eight 100 ms hashes on a 4-thread pool, then a quick read submitted 1 ms later.
  for (let k = 0; k < 8; k++) {
    t.init(100 + k, 0, 'PBKDF2REQUEST', '/app/pool.mjs:9:20', { pool: true, fn: 'hashAll' });
    t.callback(100 + k, k < 4 ? 100 : 200, 0.1);
  }
  t.init(200, 1, 'FSREQCALLBACK', '/app/pool.mjs:14:1', { pool: true }).callback(200, 200.5, 0.1);
  const analysis = analyzeProfile(idleProfile(0, 250), await recordingOf(t));
  const [f] = analysis.findings;
  assert.equal(f?.kind, 'starvation', JSON.stringify(analysis.findings));
  assert.equal(f.location.line, 9);
  assert.equal(f.evidence.starvedJobs, 1);
  assert.equal(f.evidence.maxInFlight, 9);
  assert.ok(Math.abs(Number(f.evidence.maxQueuedMs) - 199) < 1, JSON.stringify(f.evidence));
  assert.equal(f.severity, 'warning');
});

test('a healthy pool: jobs that never wait long are not starvation', async () => {
  const t = new TraceText();
  for (let k = 0; k < 12; k++) t.init(100 + k, k * 10, 'FSREQCALLBACK', '/app/ok.mjs:5:3', { pool: true }).callback(100 + k, k * 10 + 2, 0.1);
  const analysis = analyzeProfile(idleProfile(0, 150), await recordingOf(t));
  assert.deepEqual(analysis.findings, []);
});
