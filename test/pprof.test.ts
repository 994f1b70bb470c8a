// pprof: profiles written by a real producer (@datadog/pprof profiling a program inside the test),
// sample types and their units in every report, binaries without symbols, and the `--pprof` export
// read back by our own importer (`go tool pprof -top` reads it too: README, checked by hand).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { fileOf } from '../src/importers/frames.js';
import { ProfileType } from '../src/importers/pprof.js';
import type { JsonReport } from '../src/reports/json.js';
import { corpus, markedLine, programPath, record, recordHeap, runCli, tempDir } from './support.js';

const tmp = tempDir();

function analyze(path: string, extra: string[] = []): JsonReport {
  const r = runCli(['analyze', '--json', path, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JsonReport;
}

const total = (l: { userMs: number; systemMs: number; idleMs: number }) => l.userMs + l.systemMs + l.idleMs;
const near = (a: number, b: number, tolerance: number) => Math.abs(a - b) <= tolerance;

// ---------------------------------------------------------------------------------------------
// @datadog/pprof: a wall profile with cpu time and labels, as dd-trace records Node programs.

const datadog = (() => {
  let recorded: { path: string; sums: Record<string, number>; labelled: number } | undefined;
  return () => {
    if (recorded) return recorded;
    const path = join(tmp, 'datadog.pb.gz');
    const r = spawnSync(process.execPath, [programPath('pprof-datadog.cjs'), path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const side = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { sums: Record<string, number>; labelled: number };
    return (recorded = { path, ...side });
  };
})();

test('@datadog/pprof: cpu is the default type; totals are its samples\' sum; the busy loop tops it', () => {
  const { path, sums, labelled } = datadog();
  assert.deepEqual(Object.keys(sums), ['sample', 'wall', 'cpu']);
  assert.ok(labelled > 0, 'the profile has labelled samples');
  const report = analyze(path);
  assert.equal(report.unit, 'ms');
  assert.ok(near(report.totals.wallMs, sums.cpu / 1e6, 1e-3), `${report.totals.wallMs} ms, samples sum to ${sums.cpu} ns`);
  // A record that carries cpu time but no sample count counts as one.
  assert.ok(report.totals.samples >= sums.sample && report.totals.samples < sums.sample + 10, `${report.totals.samples} vs ${sums.sample}`);
  const [top, second] = report.lines;
  const program = programPath('pprof-datadog.cjs');
  // @datadog/pprof records a function's line, not the line inside it.
  assert.deepEqual([top.file, top.line, top.function], [program, markedLine('pprof-datadog.cjs'), 'hot']);
  assert.equal(second.function, 'warm');
  assert.ok(top.userMs > 2 * second.userMs, `hot ${top.userMs} ms, warm ${second.userMs} ms`);
  assert.ok(top.userMs > 0.9 * total(top));
});

test('@datadog/pprof: --sample-type wall and sample; an unknown type lists the profile\'s', () => {
  const { path, sums } = datadog();
  const wall = analyze(path, ['--sample-type', 'wall']);
  assert.ok(near(wall.totals.wallMs, sums.wall / 1e6, 1e-3), `${wall.totals.wallMs} ms vs ${sums.wall} ns`);
  assert.equal(wall.lines[0].function, 'hot');
  assert.deepEqual(analyze(path, ['--sample-type', 'wall/nanoseconds']).totals, wall.totals);
  const counts = analyze(path, ['--sample-type', 'sample']);
  assert.equal(counts.unit, 'count');
  assert.equal(counts.totals.self, sums.sample);
  assert.equal(counts.totals.wallMs, 0);
  assert.deepEqual(counts.findings, []);
  assert.equal(counts.lines[0].function, 'hot');
  // Counts are no time: the ...Ms fields say 0, `self` holds the count.
  assert.equal(total(counts.lines[0]), 0);
  assert.equal(counts.lines.reduce((sum, l) => sum + (l.self ?? 0), 0), sums.sample);
  const bad = runCli(['analyze', path, '--sample-type', 'alloc_space']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no sample type "alloc_space"; the profile has sample \(count\), wall \(nanoseconds\), cpu \(nanoseconds\)/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('@datadog/pprof: labels are read; --thread keeps the samples of the thread its labels name', () => {
  const { path, sums } = datadog();
  const main = analyze(path, ['--thread', 'Main Event Loop']);
  // Every sample is labelled with the one thread the program ran on.
  assert.ok(near(main.totals.wallMs, sums.cpu / 1e6, 1e-3));
  const other = runCli(['analyze', path, '--thread', 'worker-1']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /no samples on thread "worker-1"; the thread labels name Main Event Loop/);
});

test('@datadog/pprof heap profile: inuse_space in bytes by default, inuse_objects as counts', () => {
  const path = join(tmp, 'datadog-heap.pb.gz');
  const r = spawnSync(process.execPath, [programPath('pprof-datadog-heap.cjs'), path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { sums } = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { sums: Record<string, number> };
  assert.deepEqual(Object.keys(sums), ['inuse_objects/count', 'inuse_space/bytes']);
  const space = analyze(path);
  assert.equal(space.unit, 'bytes');
  assert.equal(space.totals.self, sums['inuse_space/bytes']);
  assert.deepEqual(space.findings, []);
  const [top] = space.lines;
  assert.deepEqual([top.file, top.line, top.function], [programPath('pprof-datadog-heap.cjs'), markedLine('pprof-datadog-heap.cjs'), 'keep']);
  const spare = space.lines.find((l) => l.function === 'spare')!;
  assert.ok(top.self! > 5 * spare.self!, `keep ${top.self} B, spare ${spare.self} B`);
  const objects = analyze(path, ['--sample-type', 'inuse_objects']);
  assert.equal(objects.unit, 'count');
  assert.equal(objects.totals.self, sums['inuse_objects/count']);
});

// ---------------------------------------------------------------------------------------------
// Go's runtime/pprof (the corpus's simple.prof): samples/count and cpu/nanoseconds

test('Go runtime/pprof: cpu by default, samples counted by its samples type, --sample-type samples', () => {
  const path = join(corpus, 'speedscope', 'pprof', 'simple.prof');
  const raw = ProfileType.toObject(ProfileType.decode(gunzipSync(readFileSync(path))), { defaults: true, arrays: true }) as {
    sample: { value: number[] }[];
  };
  const sum = (k: number) => raw.sample.reduce((s, x) => s + x.value[k], 0);
  const cpu = analyze(path);
  assert.ok(near(cpu.totals.wallMs, sum(1) / 1e6, 1e-6));
  assert.equal(cpu.totals.samples, sum(0));
  const samples = analyze(path, ['--sample-type', 'samples']);
  assert.equal(samples.unit, 'count');
  assert.equal(samples.totals.self, sum(0));
  // Go samples every 10 ms: both types rank the lines alike.
  assert.deepEqual(
    samples.lines.map((l) => `${l.function}:${l.line}`),
    cpu.lines.map((l) => `${l.function}:${l.line}`),
  );
});

// ---------------------------------------------------------------------------------------------
// Units in every report

test('a count type is reported as counts: terminal, JSON contract and speedscope export', () => {
  const { path, sums } = datadog();
  const out = join(tmp, 'counts.speedscope.json');
  const r = runCli(['analyze', path, '--sample-type', 'sample', '--speedscope', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`total ${sums.sample.toLocaleString('en-US')} \\(counts, not time`));
  assert.match(r.stdout, /Top \d+ of \d+ lines by count/);
  assert.doesNotMatch(r.stdout, / ms /);
  const file = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(file.profiles.length, 1);
  assert.equal(file.profiles[0].unit, 'none');
  assert.equal(file.profiles[0].endValue, sums.sample);
});

// ---------------------------------------------------------------------------------------------
// Binaries without symbols: addresses and the file their mapping maps

test('a C++ profile without symbols: each location is its address and mapped file', () => {
  const strings = ['', 'samples', 'count', 'cpu', 'nanoseconds', '/usr/lib/libfoo.so', '/opt/app/server'];
  const message = ProfileType.fromObject({
    sampleType: [
      { type: 1, unit: 2 },
      { type: 3, unit: 4 },
    ],
    mapping: [
      { id: 1, memoryStart: 0x400000, memoryLimit: 0x500000, filename: 6 },
      { id: 2, memoryStart: 0x7f0000000000, memoryLimit: 0x7f0000100000, filename: 5 },
    ],
    location: [
      { id: 1, mappingId: 1, address: 0x4005d0 },
      { id: 2, mappingId: 1, address: 0x401234 },
      { id: 3, mappingId: 2, address: 0x7f0000000a10 },
    ],
    sample: [
      { locationId: [3, 2, 1], value: [30, 30_000_000] },
      { locationId: [2, 1], value: [10, 10_000_000] },
      { locationId: [3, 1], value: [5, 5_000_000] },
    ],
    period: 1_000_000,
    periodType: { type: 3, unit: 4 },
    stringTable: strings,
  });
  const path = join(tmp, 'stripped.pb');
  writeFileSync(path, ProfileType.encode(message).finish());
  const report = analyze(path);
  const byName = Object.fromEntries(report.lines.map((l) => [l.function, [total(l), l.samples]]));
  assert.deepEqual(byName, { '0x7f0000000a10 (libfoo.so)': [35, 35], '0x401234 (server)': [10, 10] });
  assert.equal(report.totals.wallMs, 45);
  assert.equal(report.totals.systemMs, 45);
  const text = runCli(['analyze', path]).stdout;
  assert.match(text, /0x7f0000000a10 \(libfoo\.so\)/);
});

// ---------------------------------------------------------------------------------------------
// The --pprof export, read back

/**
 * The export read back gives the original's totals and lines. `moved`: lines whose time may land
 * elsewhere after the round trip (JavaScript without a script URL: pprof has no way to say that a
 * function without a file is JavaScript, so it reads back as native code and what it called is no
 * longer charged to it).
 */
interface HeapNode {
  callFrame: { functionName: string; url: string; scriptId: string | number };
  children: HeapNode[];
}

function sameTable(back: JsonReport, original: JsonReport, what: string, moved = (_: JsonReport['lines'][number]) => false): void {
  assert.equal(back.unit, original.unit, what);
  for (const key of ['wallMs', 'userMs', 'systemMs', 'idleMs'] as const) {
    assert.ok(near(back.totals[key], original.totals[key], 0.002), `${what}: ${key} ${back.totals[key]} vs ${original.totals[key]}`);
  }
  assert.ok(near(back.totals.self ?? 0, original.totals.self ?? 0, 1), what);
  assert.ok(near(back.totals.samples, original.totals.samples, original.lines.length), `${what}: samples`);
  const key = (l: JsonReport['lines'][number]) => `${l.file}:${l.line} ${l.function}`;
  const lines = new Map(back.lines.map((l) => [key(l), l]));
  for (const line of original.lines) {
    if (moved(line)) continue;
    const got = lines.get(key(line));
    assert.ok(got, `${what}: ${key(line)} missing from the export`);
    for (const share of ['userMs', 'systemMs', 'idleMs'] as const) {
      assert.ok(near(got[share], line[share], 0.002), `${what}: ${key(line)} ${share} ${got[share]} vs ${line[share]}`);
    }
    assert.ok(near(got.self ?? 0, line.self ?? 0, 1), `${what}: ${key(line)} self`);
    assert.ok(near(got.samples, line.samples, 1), `${what}: ${key(line)} samples ${got.samples} vs ${line.samples}`);
  }
  if (!original.lines.some(moved)) assert.equal(back.lines.length, original.lines.length, what);
}

test('--pprof of a recorded V8 profile reads back to the same totals and per-line values', () => {
  const profile = record('diag-block-scrypt.mjs');
  const out = join(tmp, 'scrypt.pb.gz');
  const original = analyze(profile, ['--pprof', out]);
  const bytes = readFileSync(out);
  assert.deepEqual([bytes[0], bytes[1]], [0x1f, 0x8b]);
  const decoded = ProfileType.toObject(ProfileType.decode(gunzipSync(bytes)), { defaults: true }) as {
    stringTable: string[];
    sampleType: { type: number; unit: number }[];
    durationNanos: number;
  };
  const types = decoded.sampleType.map((t) => `${decoded.stringTable[t.type]}/${decoded.stringTable[t.unit]}`);
  assert.deepEqual(types, ['samples/count', 'cpu/nanoseconds']);
  assert.ok(decoded.durationNanos > 0);
  const back = analyze(out);
  sameTable(back, original, 'scrypt');
  // The blocking call's line keeps its system time.
  const hash = back.lines.find((l) => l.line === markedLine('diag-block-scrypt.mjs'))!;
  assert.ok(hash.systemMs > 0.8 * total(hash), JSON.stringify(hash));
});

test('--pprof of a pprof and of a heap profile keeps the unit and the values', () => {
  const { path } = datadog();
  const again = join(tmp, 'datadog-again.pb.gz');
  const first = analyze(path, ['--pprof', again]);
  sameTable(analyze(again), first, 'datadog');

  const heap = recordHeap('heap-alloc.mjs', [], 512 * 1024);
  const out = join(tmp, 'heap.pb.gz');
  const original = analyze(heap, ['--pprof', out]);
  assert.equal(original.unit, 'bytes');
  // V8 gives some functions (a module's wrapper, eval'd code) a script id but no URL: JavaScript that
  // pprof cannot mark as such. Read back it is native code, so the bytes it and the frames of Node's
  // own code below it allocated go to other lines: its caller's, or its own.
  const moved = new Set<string>();
  const key = (url: string, name: string) => `${fileOf(url)}|${name || '(anonymous)'}`;
  const nodes: { node: HeapNode; parent?: HeapNode; below: boolean }[] = [{ node: JSON.parse(readFileSync(heap, 'utf8')).head, below: false }];
  while (nodes.length) {
    const { node, parent, below } = nodes.pop()!;
    const { url, functionName, scriptId } = node.callFrame;
    const urlless = url === '' && String(scriptId) !== '0';
    if (urlless) moved.add(key(url, functionName));
    if (urlless && parent) moved.add(key(parent.callFrame.url, parent.callFrame.functionName));
    const internal = url.startsWith('node:');
    if (below && internal) moved.add(key(url, functionName));
    nodes.push(...node.children.map((child) => ({ node: child, parent: node, below: urlless || (below && internal) })));
  }
  sameTable(analyze(out), original, 'heap', (l) => moved.has(`${l.file}|${l.function}`));
});

test('a failed --pprof leaves no file behind', () => {
  const out = join(tmp, 'no-such-dir', 'out.pb.gz');
  const r = runCli(['analyze', record('busy-loop.mjs', ['50']), '--pprof', out]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(!existsSync(out));
});
