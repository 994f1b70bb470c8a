// The streaming pprof reader: a generated profile written as Go writes them (samples first, the
// string table last), with many repeated stacks, inlined frames, symbol-less locations, labels and
// both encodings of repeated fields, read through windows of a few bytes up to the default, plain
// and gzipped; the answers are those of a protobufjs decode of the whole file done here. Then broken
// inputs: each is one line naming the field and its byte offset, exit code 2.

import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { analyzeFile } from '../src/analyze.js';
import { ProfileType } from '../src/importers/pprof.js';
import type { Analysis } from '../src/model.js';
import { runCli, tempDir } from './support.js';

const tmp = tempDir();

// ---------------------------------------------------------------------------------------------
// A protobuf writer, field by field

function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}
function bytesField(out: number[], id: number, body: ArrayLike<number>): void {
  varint(out, (id << 3) | 2);
  varint(out, body.length);
  for (let i = 0; i < body.length; i++) out.push(body[i]);
}
function intField(out: number[], id: number, v: number): void {
  varint(out, id << 3);
  varint(out, v);
}
function packed(id: number, values: number[]): number[] {
  const body: number[] = [];
  for (const v of values) varint(body, v);
  const out: number[] = [];
  bytesField(out, id, body);
  return out;
}

class Rng {
  constructor(private s: number) {}
  int(n: number): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  }
}

interface Written {
  path: string;
  /** Where each top-level sample field starts, and where the samples end. */
  sampleAt: number[];
  samplesEnd: number;
}

/**
 * A CPU profile of about `bytes` bytes in Go's field order: sample_type, the samples, mappings,
 * locations, functions, the string table. 300 functions, 500 locations (some with an inlined frame,
 * some without lines), 3000 stacks drawn with a skew (many repeats); values samples/count and
 * cpu/nanoseconds (some 0); a thread label (`main` or `worker`) and an `endpoint` label.
 */
function writeProfile(name: string, bytes: number, seed: number): Written {
  const rng = new Rng(seed);
  const strings = [''];
  const index = new Map<string, number>([['', 0]]);
  const str = (s: string) => index.get(s) ?? (index.set(s, strings.length), strings.push(s) - 1);
  const path = join(tmp, name);
  const fd = openSync(path, 'w');
  let written = 0;
  const flush = (out: number[]) => {
    writeSync(fd, Uint8Array.from(out));
    written += out.length;
    out.length = 0;
  };
  const out: number[] = [];
  for (const [type, unit] of [['samples', 'count'], ['cpu', 'nanoseconds']]) {
    const vt: number[] = [];
    intField(vt, 1, str(type));
    intField(vt, 2, str(unit));
    bytesField(out, 1, vt);
  }
  const threadKey = str('thread name');
  const threads = [str('main'), str('worker')];
  const endpointKey = str('endpoint');
  const endpoints = [0, 1, 2, 3, 4].map((i) => str(`/api/${i}`));

  const stacks: number[][] = [];
  for (let s = 0; s < 3000; s++) {
    const depth = 3 + rng.int(23);
    stacks.push(Array.from({ length: depth }, () => 1 + rng.int(500)));
  }
  const sampleAt: number[] = [];
  while (written + out.length < bytes) {
    // Skewed: a few stacks take most samples.
    const stack = stacks[Math.min(rng.int(3000), rng.int(3000), rng.int(3000))];
    const count = 1 + rng.int(3);
    const values = [count, rng.int(30) === 0 ? 0 : count * 10_000_000];
    const labels: number[][] = [];
    const thread: number[] = [];
    intField(thread, 1, threadKey);
    intField(thread, 2, threads[rng.int(5) === 0 ? 1 : 0]);
    labels.push(thread);
    if (rng.int(2)) {
      const endpoint: number[] = [];
      intField(endpoint, 1, endpointKey);
      intField(endpoint, 2, endpoints[rng.int(5)]);
      labels.push(endpoint);
    }
    const parts: number[][] = [];
    const form = rng.int(20);
    // Mostly packed; else the location ids one field each, or the values first.
    if (form === 0) {
      const ids: number[] = [];
      for (const id of stack) intField(ids, 1, id);
      parts.push(ids, packed(2, values));
    } else if (form === 1) parts.push(packed(2, values), packed(1, stack));
    else if (form === 2) {
      const vs: number[] = [];
      for (const v of values) intField(vs, 2, v);
      parts.push(packed(1, stack), vs);
    } else parts.push(packed(1, stack), packed(2, values));
    for (const l of labels) {
      const field: number[] = [];
      bytesField(field, 3, l);
      parts.splice(rng.int(parts.length + 1), 0, field);
    }
    sampleAt.push(written + out.length);
    bytesField(out, 2, parts.flat());
    if (out.length > 1 << 20) flush(out);
  }
  const samplesEnd = written + out.length;

  const mapping: number[] = [];
  intField(mapping, 1, 1);
  intField(mapping, 2, 0x400000);
  intField(mapping, 3, 0x500000);
  intField(mapping, 5, str('/usr/lib/libnative.so'));
  bytesField(out, 3, mapping);
  for (let id = 1; id <= 500; id++) {
    const loc: number[] = [];
    intField(loc, 1, id);
    const kind = id % 10;
    if (kind === 0) {
      intField(loc, 2, 1);
      intField(loc, 3, 0x400000 + id * 16);
    } else {
      const fns = kind === 1 ? [1 + ((id * 7) % 300), 1 + (id % 300)] : [1 + (id % 300)];
      for (const fn of fns) {
        const line: number[] = [];
        intField(line, 1, fn);
        intField(line, 2, 10 + ((id * 13) % 400));
        bytesField(loc, 4, line);
      }
    }
    bytesField(out, 4, loc);
  }
  for (let id = 1; id <= 300; id++) {
    const fn: number[] = [];
    intField(fn, 1, id);
    intField(fn, 2, str(`fn${id}`));
    intField(fn, 4, str(`/src/pkg${id % 12}/file.go`));
    intField(fn, 5, 1 + id);
    bytesField(out, 5, fn);
  }
  for (const s of strings) bytesField(out, 6, [...Buffer.from(s)]);
  const period: number[] = [];
  intField(period, 1, str('cpu'));
  intField(period, 2, str('nanoseconds'));
  // The two strings are known by now: period_type names them after the table.
  bytesField(out, 11, period);
  intField(out, 12, 10_000_000);
  flush(out);
  closeSync(fd);
  return { path, sampleAt, samplesEnd };
}

// ---------------------------------------------------------------------------------------------
// The answer of a protobufjs decode of the whole file

interface Raw {
  sampleType: { type: number; unit: number }[];
  sample: { locationId: number[]; value: number[]; label: { key: number; str: number }[] }[];
  mapping: { id: number; filename: number }[];
  location: { id: number; mappingId: number; address: number; line: { functionId: number; line: number }[] }[];
  function: { id: number; name: number; startLine: number }[];
  stringTable: string[];
}

/** Self time (ms) of each stack of frames `name:line`, outermost first; and the sample count. */
function expected(path: string, thread?: string): { stacks: Map<string, number>; samples: number; wallMs: number } {
  const raw = ProfileType.toObject(ProfileType.decode(readFileSync(path)), { defaults: true, arrays: true }) as Raw;
  const s = raw.stringTable;
  const fns = new Map(raw.function.map((f) => [f.id, f]));
  const locs = new Map(raw.location.map((l) => [l.id, l]));
  const mappings = new Map(raw.mapping.map((m) => [m.id, m]));
  const frames = (id: number): string[] => {
    const loc = locs.get(id)!;
    if (loc.line.length === 0) {
      return [`0x${loc.address.toString(16)} (${s[mappings.get(loc.mappingId)!.filename].split('/').pop()}):0`];
    }
    return loc.line.map((l) => `${s[fns.get(l.functionId)!.name]}:${l.line}`).reverse();
  };
  const stacks = new Map<string, number>();
  let samples = 0;
  let wallMs = 0;
  for (const sample of raw.sample) {
    const [count, cpu] = sample.value;
    if (!(cpu > 0)) continue;
    if (thread !== undefined && !sample.label.some((l) => s[l.key] === 'thread name' && s[l.str] === thread)) continue;
    const key = [...sample.locationId].reverse().flatMap(frames).join(';');
    stacks.set(key, (stacks.get(key) ?? 0) + cpu / 1e6);
    samples += Math.max(1, count);
    wallMs += cpu / 1e6;
  }
  return { stacks, samples, wallMs };
}

function stacksOf(analysis: Analysis): Map<string, number> {
  const { profile } = analysis;
  const stacks = new Map<string, number>();
  for (let node = 0; node < profile.nodeParent.length; node++) {
    if (!profile.nodeSelfMs[node]) continue;
    const names: string[] = [];
    for (let i = node; i >= 0; i = profile.nodeParent[i]) {
      const f = profile.frames[profile.nodeFrame[i]];
      names.unshift(`${f.name}:${f.line}`);
    }
    const key = names.join(';');
    stacks.set(key, (stacks.get(key) ?? 0) + profile.nodeSelfMs[node]);
  }
  return stacks;
}

function assertSame(analysis: Analysis, want: ReturnType<typeof expected>, what: string): void {
  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  assert.ok(near(analysis.totals.wallMs, want.wallMs), `${what}: wall ${analysis.totals.wallMs} vs ${want.wallMs}`);
  assert.equal(analysis.totals.samples, want.samples, `${what}: samples`);
  const got = stacksOf(analysis);
  assert.equal(got.size, want.stacks.size, `${what}: stacks`);
  for (const [key, ms] of want.stacks) assert.ok(near(got.get(key) ?? NaN, ms), `${what}: ${key}: ${got.get(key)} vs ${ms}`);
}

// ---------------------------------------------------------------------------------------------

const large = (() => {
  let made: (Written & { gzipped: string }) | undefined;
  return () => {
    if (made) return made;
    const written = writeProfile('large.pb', 20e6, 3);
    const gzipped = join(tmp, 'large.pb.gz');
    writeFileSync(gzipped, gzipSync(readFileSync(written.path)));
    return (made = { ...written, gzipped });
  };
})();

test('a 20 MB profile, samples first, read through small windows: the totals and stacks of a full decode', async () => {
  const { path, gzipped, sampleAt } = large();
  assert.ok(sampleAt.length > 200_000, `${sampleAt.length} samples`);
  const want = expected(path);
  // Many samples, few stacks: what the reader keeps grows with the latter.
  assert.ok(want.stacks.size < 5000, `${want.stacks.size} stacks`);
  for (const windowBytes of [4099, undefined]) {
    const analysis = await analyzeFile(path, { windowBytes });
    assertSame(analysis, want, `window ${windowBytes ?? 'default'}`);
    assert.match(analysis.profile.format, new RegExp(`^pprof \\(cpu/nanoseconds, ${sampleAt.length} samples\\)`));
  }
  assertSame(await analyzeFile(gzipped, { windowBytes: 1000 }), want, 'gzipped, window 1000');
});

test('--thread on a profile whose string table (naming the label keys) comes after its samples', async () => {
  const { path } = large();
  const want = expected(path, 'worker');
  assert.ok(want.samples > 0);
  assertSame(await analyzeFile(path, { thread: 'worker', windowBytes: 65_536 }), want, 'thread worker');
  const none = runCli(['analyze', path, '--thread', 'io']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no samples on thread "io"; the thread labels name main, worker\n$/);
});

test('windows of a few bytes, which cut fields everywhere, give the same answer', async () => {
  const { path } = writeProfile('small.pb', 40_000, 5);
  const want = expected(path);
  for (const windowBytes of [16, 17, 61]) assertSame(await analyzeFile(path, { windowBytes }), want, `window ${windowBytes}`);
  const gzipped = join(tmp, 'small.pb.gz');
  writeFileSync(gzipped, gzipSync(readFileSync(path)));
  assertSame(await analyzeFile(gzipped, { windowBytes: 16 }), want, 'gzipped, window 16');
});

// ---------------------------------------------------------------------------------------------
// Broken inputs

function fails(bytes: Uint8Array, name: string, message: RegExp): void {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  const r = runCli(['analyze', path]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('a truncated gzip stream: where the decompressed data breaks off', () => {
  const { path } = writeProfile('cut.pb', 200_000, 7);
  const gz = gzipSync(readFileSync(path));
  fails(gz.subarray(0, gz.length >> 1), 'cut.pb.gz', /cut\.pb\.gz: corrupt or truncated gzip data at byte \d+ of the decompressed data/);
});

test('a truncated protobuf: the field whose length runs past the end, and its offset', () => {
  const { path, sampleAt, samplesEnd } = writeProfile('cut2.pb', 50_000, 9);
  const bytes = readFileSync(path);
  // Cut inside the last sample: the data ends inside it.
  const last = sampleAt[sampleAt.length - 1];
  const cut = bytes.subarray(0, last + 3);
  fails(cut, 'cut2.pb', new RegExp(`cut2\\.pb: truncated pprof profile: sample \\(field 2\\) at byte ${last} is ${samplesEnd - last} bytes long with its tag, but the data ends 3 bytes into it`));
  fails(gzipSync(cut), 'cut2.pb.gz', new RegExp(`truncated pprof profile: sample \\(field 2\\) at byte ${last} of the decompressed data is`));
  // A length inside a sample running past the sample's end.
  const [i, body] = sampleStartingWith(bytes, sampleAt, 0x0a);
  const broken = Buffer.from(bytes);
  broken[body + 1] = 0x7f;
  fails(broken, 'inner.pb', new RegExp(`inner\\.pb: corrupt pprof profile: sample\\[${i}\\]'s location_id at byte ${body} runs past the sample's end`));
});

/** The first sample whose first field has tag `tag` (and a body under 100 bytes): its index and where its body starts. */
function sampleStartingWith(bytes: Uint8Array, sampleAt: number[], tag: number): [number, number] {
  for (let i = 0; i < sampleAt.length; i++) {
    const len = bytes[sampleAt[i] + 1];
    if (len < 100 && bytes[sampleAt[i] + 2] === tag) return [i, sampleAt[i] + 2];
  }
  throw new Error(`no sample starts with tag ${tag}`);
}

test('wrong wire types: the field, its wire type and its offset', () => {
  const { path, sampleAt } = writeProfile('wt.pb', 50_000, 11);
  const bytes = Buffer.from(readFileSync(path));
  // The first sample as a varint field (tag 0x10 instead of 0x12): sample_type was read before it.
  const top = Buffer.from(bytes);
  top[sampleAt[0]] = 0x10;
  fails(top, 'wt-top.pb', new RegExp(`corrupt pprof profile: sample \\(field 2\\) at byte ${sampleAt[0]} has wire type 0 \\(varint\\), not length-delimited`));
  // A group tag (wire type 3) at the top level, before anything else: no profile at all.
  fails(Buffer.concat([Buffer.from([0x83, 0x01]), bytes]), 'wt-group.pb', /not a profile: binary data that is not a pprof profile \(field 16 at byte 0 has wire type 3 \(group start\)/);
  // A sample's location_id as a 32-bit field.
  const [i, body] = sampleStartingWith(bytes, sampleAt, 0x0a);
  const inside = Buffer.from(bytes);
  inside[body] = (1 << 3) | 5;
  fails(inside, 'wt-inside.pb', new RegExp(`corrupt pprof profile: sample\\[${i}\\]\\.location_id at byte ${body} has wire type 5 \\(32-bit\\)`));
});

test('int64 varints: negative values skipped and counted, values and location ids past 2^32 exact', async () => {
  const strings = ['', 'samples', 'count', 'alloc', 'bytes', 'f', 'g', '/a.go'];
  const big = 5_000_000_000;
  const message = ProfileType.fromObject({
    sampleType: [
      { type: 1, unit: 2 },
      { type: 3, unit: 4 },
    ],
    function: [
      { id: 1, name: 5, filename: 7 },
      { id: 2, name: 6, filename: 7 },
    ],
    location: [
      { id: 1, line: [{ functionId: 1, line: 3 }] },
      { id: big, line: [{ functionId: 2, line: 9 }] },
    ],
    sample: [
      { locationId: [1], value: [3, -5] },
      { locationId: [big, 1], value: [2, 7_000_000_000_123] },
      { locationId: [1], value: [1, 4_000_000_000] },
      { locationId: [1], value: [0, -9_000_000_000_000] },
      { locationId: [big, 1], value: [1, 5] },
    ],
    stringTable: strings,
  });
  const path = join(tmp, 'int64.pb');
  writeFileSync(path, ProfileType.encode(message).finish());
  const { profile } = await analyzeFile(path, { windowBytes: 3 });
  assert.match(profile.format, /^pprof \(alloc\/bytes, 5 samples, 2 negative samples skipped\)/);
  const self = (name: string) => profile.nodeSelfMs.reduce((sum, ms, node) => sum + (profile.frames[profile.nodeFrame[node]].name === name ? ms : 0), 0);
  assert.equal(self('g'), 7_000_000_000_128);
  assert.equal(self('f'), 4_000_000_000);
  const counts = await analyzeFile(path, { sampleType: 'samples' });
  assert.equal(counts.totals.samples, 7);
});
