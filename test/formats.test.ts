// The importers of other profilers' formats: folded stacks, speedscope files and pprof profiles.
// Each is checked frame by frame against speedscope's own test snapshots (self and total weight of
// every frame, read from the snapshot text), and each is recognised by its content, whatever its
// file is called.

import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { analyzeFile } from '../src/analyze.js';
import { loadCore } from '../src/core/wasm.js';
import { importPprof, ProfileType } from '../src/importers/pprof.js';
import { InputError, type Profile } from '../src/model.js';
import { corpus, root, runCli, tempDir } from './support.js';

const ss = join(corpus, 'speedscope');
const tmp = tempDir();

// ---------------------------------------------------------------------------------------------
// Per-frame weights

interface Weights {
  self: number;
  total: number;
}

/** speedscope's snapshot: for each profile name, its frames' self and total weights by name. */
function snapshot(file: string): Map<string, Map<string, Weights>> {
  const text = readFileSync(join(ss, 'expected', file), 'utf8');
  const result = new Map<string, Map<string, Weights>>();
  for (const block of text.split(/^exports\[/m).slice(1)) {
    const profileName = /^ {2}"name": "(.*)",$/m.exec(block)?.[1];
    if (!profileName || !block.includes('"frames"')) continue;
    const frames = new Map<string, Weights>();
    for (const m of block.matchAll(/Frame \{([^}]*)\}/g)) {
      const name = /"name": "(.*)",/.exec(m[1])![1];
      const self = Number(/"selfWeight": (\d+(?:\.\d+)?)/.exec(m[1])![1]);
      const total = Number(/"totalWeight": (\d+(?:\.\d+)?)/.exec(m[1])![1]);
      // speedscope keys frames by more than the name (pprof: name and file); add them up by name.
      const w = frames.get(name) ?? { self: 0, total: 0 };
      frames.set(name, { self: w.self + self, total: w.total + total });
    }
    result.set(profileName, frames);
  }
  return result;
}

/**
 * The weights of a profile's frames by name, in ms times `scale`: self is the time of stacks ending
 * in the frame (an `(idle)` frame under a waiting frame counts as the waiting frame's), total the
 * time of stacks holding it (once, however often it recurs).
 */
function weightsOf(profile: Profile, scale = 1): Map<string, Weights> {
  const result = new Map<string, Weights>();
  const get = (name: string) => {
    let w = result.get(name);
    if (!w) result.set(name, (w = { self: 0, total: 0 }));
    return w;
  };
  for (let node = 0; node < profile.nodeParent.length; node++) {
    const ms = profile.nodeSelfMs[node];
    if (ms === 0) continue;
    const names = new Set<string>();
    let leaf: string | undefined;
    for (let i = node; i >= 0; i = profile.nodeParent[i]) {
      const frame = profile.frames[profile.nodeFrame[i]];
      if (frame.kind === 'root' || frame.name === '(idle)') continue;
      leaf ??= frame.name;
      names.add(frame.name);
    }
    if (leaf === undefined) continue;
    get(leaf).self += ms * scale;
    for (const name of names) get(name).total += ms * scale;
  }
  return result;
}

function assertWeights(actual: Map<string, Weights>, expected: Map<string, Weights>, context: string): void {
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  for (const [name, w] of expected) {
    if (w.total === 0) continue;
    const got = actual.get(name);
    assert.ok(got, `${context}: frame ${name} missing`);
    assert.ok(close(got.self, w.self), `${context}: ${name} self ${got.self}, expected ${w.self}`);
    assert.ok(close(got.total, w.total), `${context}: ${name} total ${got.total}, expected ${w.total}`);
  }
  for (const [name, w] of actual) {
    if (w.total > 0) assert.ok(expected.has(name), `${context}: unexpected frame ${name} (${w.total})`);
  }
}

/** Per-frame weights of a folded-stacks text, computed directly from its lines. */
function foldedWeights(text: string): Map<string, Weights> {
  const result = new Map<string, Weights>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^(.*\S) +(\d+)$/.exec(line);
    if (!m) continue;
    // An empty frame (perf could not name it) is an anonymous one.
    const names = m[1].split(';').map((name) => name || '(anonymous)');
    const count = Number(m[2]);
    const leaf = result.get(names[names.length - 1]) ?? { self: 0, total: 0 };
    result.set(names[names.length - 1], leaf);
    leaf.self += count;
    for (const name of new Set(names)) {
      const w = result.get(name) ?? { self: 0, total: 0 };
      result.set(name, w);
      w.total += count;
    }
  }
  return result;
}

function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  return new TextDecoder().decode(bytes);
}

// ---------------------------------------------------------------------------------------------
// Folded stacks

test('folded stacks: every stackcollapse file, per frame, against speedscope', async () => {
  const expected = snapshot('bg-flamegraph.test.ts.snap');
  const dir = join(ss, 'stackcollapse');
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt'));
  let fromSnapshot = 0;
  for (const file of files) {
    const path = join(dir, file);
    const analysis = await analyzeFile(path);
    // 1 sample = 1 ms, so weights in ms are weights in samples.
    const actual = weightsOf(analysis.profile);
    const own = foldedWeights(decodeText(readFileSync(path)));
    const snap = expected.get(file);
    if (snap) {
      fromSnapshot++;
      assertWeights(actual, snap, `${file} (speedscope)`);
    }
    assertWeights(actual, own, file);
    let samples = 0;
    for (const w of own.values()) samples += w.self;
    assert.equal(analysis.totals.wallMs, samples, `${file}: wall time`);
    assert.match(analysis.profile.format, /^folded stacks \(1 sample = 1 ms/);
  }
  // simple, CRLF, UTF-16 LE and BE, invalid lines.
  assert.ok(fromSnapshot >= 5, `only ${fromSnapshot} files had a snapshot`);
});

test('folded stacks: invalid lines are skipped and counted', async () => {
  const analysis = await analyzeFile(join(ss, 'stackcollapse', 'simple-with-invalids.txt'));
  assert.match(analysis.profile.format, /3 invalid lines skipped \(first: line 1\)/);
  assert.equal(analysis.totals.wallMs, 14);
});

test('folded stacks: py-spy frames give file and line; waiting leaves are idle or system', async () => {
  const path = join(tmp, 'pyspy.json'); // the wrong extension on purpose
  writeFileSync(
    path,
    [
      'main (/app/server.py:40);_run_once (/usr/lib/python3.12/asyncio/base_events.py:1949);select (/usr/lib/python3.12/selectors.py:468) 30',
      'main (/app/server.py:40);handle (/app/server.py:12);time.sleep 20',
      'main (/app/server.py:40);handle (/app/server.py:12);parse (/app/server.py:7) 50',
      'main (/app/server.py:40);lock (/app/server.py:20);futex 5',
      'main (/app/server.py:40);poll 10',
      '',
    ].join('\r\n'),
  );
  const { totals, profile, lines } = await analyzeFile(path);
  assert.equal(totals.wallMs, 115);
  assert.equal(totals.idleMs, 40);
  assert.equal(totals.systemMs, 25);
  assert.equal(totals.userMs, 50);
  const handle = profile.frames.find((f) => f.name === 'handle (/app/server.py:12)');
  assert.deepEqual(handle && { file: handle.file, line: handle.line, kind: handle.kind }, { file: '/app/server.py', line: 12, kind: 'user' });
  assert.equal(profile.frames.find((f) => f.name.startsWith('_run_once'))?.kind, 'dependency');
  // The blocking sleep is charged to the line that called it.
  const handleLine = lines.find((l) => l.file === '/app/server.py' && l.line === 12);
  assert.equal(handleLine?.systemMs, 20);
});

test('folded stacks: text without stacks, or with a stray "word 12" line, is not a profile', () => {
  const texts = ['this is not\na profile at all\n', 'a log\nwith a line\nthat ends in a number\ncount 12\n'];
  texts.forEach((text, i) => {
    const path = join(tmp, `garbage-${i}.txt`);
    writeFileSync(path, text);
    const r = runCli(['analyze', path]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /garbage-\d\.txt: not a profile: not JSON, folded stacks or pprof/);
  });
});

// ---------------------------------------------------------------------------------------------
// speedscope files

const UNIT_MS: Record<string, number> = { none: 1, seconds: 1000, milliseconds: 1, microseconds: 1e-3, nanoseconds: 1e-6 };

interface SsProfile {
  type: string;
  unit: string;
  name: string;
  weights?: number[];
  events?: { type: string; at: number }[];
}

/** A speedscope profile's total weight in ms: the sum of its weights, or the time frames are open. */
function speedscopeTotalMs(p: SsProfile): number {
  let total = 0;
  if (p.type === 'sampled') for (const w of p.weights!) total += w;
  else {
    let depth = 0;
    let last = 0;
    for (const e of p.events!) {
      if (depth > 0) total += e.at - last;
      last = e.at;
      depth += e.type === 'O' ? 1 : -1;
    }
  }
  return total * UNIT_MS[p.unit];
}

test('speedscope: the corpus files load, sampled and evented, with the weights they hold', async () => {
  const expected = snapshot('bg-flamegraph.test.ts.snap').get('simple.txt')!;
  const dir = join(ss, 'speedscope');
  const files = readdirSync(dir)
    .filter((d) => d !== 'invalid')
    .flatMap((d) => readdirSync(join(dir, d)).map((f) => join(dir, d, f)));
  assert.ok(files.length >= 4);
  const types = new Set<string>();
  for (const path of files) {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { activeProfileIndex?: number; profiles: SsProfile[] };
    const p = doc.profiles[doc.activeProfileIndex ?? 0];
    types.add(p.type);
    const analysis = await analyzeFile(path);
    const total = speedscopeTotalMs(p);
    assert.ok(Math.abs(analysis.totals.wallMs - total) <= 1e-9 * total, `${path}: wall ${analysis.totals.wallMs}, weights ${total}`);
    assert.match(analysis.profile.format, new RegExp(`^speedscope ${p.type} profile "${p.name}"`));
    // All of them hold the stacks of speedscope's simple.txt example.
    assertWeights(weightsOf(analysis.profile, 1 / UNIT_MS[p.unit]), expected, basename(path));
  }
  assert.deepEqual([...types].sort(), ['evented', 'sampled']);
});

test('speedscope: activeProfileIndex picks the profile', async () => {
  const analysis = await analyzeFile(join(ss, 'speedscope', '0.6.0', 'two-sampled.speedscope.json'));
  assert.match(analysis.profile.format, /"two" \(2 of 2\)/);
});

test('speedscope: invalid files exit with code 2 and one line saying what is wrong', () => {
  const dir = join(ss, 'speedscope', 'invalid');
  const expected: Record<string, RegExp> = {
    'incomplete-trace.json': /profiles\[0\]\.events\[0\] opens frame 0 at 0, which is never closed/,
    'out-of-order-events.json': /profiles\[0\]\.events\[6\] closes frame 1 at 4, but the innermost open frame is 0/,
  };
  for (const file of readdirSync(dir)) {
    const r = runCli(['analyze', join(dir, file)]);
    assert.equal(r.code, 2, `${file}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${file}: ${r.stderr}`);
    assert.ok(r.stderr.includes(file), r.stderr);
    if (expected[file]) assert.match(r.stderr, expected[file]);
    assert.equal(r.stdout, '');
  }
});

test('speedscope: malformed documents name the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ $schema: 'x', shared: { frames: [{ name: 'a' }] }, profiles: [{ type: 'sampled', unit: 'none', samples: [[0]], weights: [1, 2] }] }, /profiles\[0\] has 1 samples but 2 weights/],
    [{ $schema: 'x', shared: { frames: [{ name: 'a' }] }, profiles: [{ type: 'sampled', unit: 'none', samples: [[3]], weights: [1] }] }, /profiles\[0\]\.samples\[0\]\[0\] is 3, not the index/],
    [{ $schema: 'x', shared: { frames: [] }, profiles: [{ type: 'flame', unit: 'none' }] }, /profiles\[0\]\.type is "flame"/],
    [{ $schema: 'x', shared: { frames: [{ name: 'a' }] }, profiles: [{ type: 'sampled', unit: 'none', samples: [[0]], weights: [-1] }] }, /profiles\[0\]\.weights\[0\] is -1/],
    [{ $schema: 'x', shared: { frames: [{ name: 'a' }] }, profiles: [{ type: 'evented', unit: 'none', events: [{ type: 'O', frame: 0, at: 5 }, { type: 'C', frame: 0, at: 2 }] }] }, /events\[1\]\.at is 2, before the previous event's 5/],
    [{ $schema: 'x', shared: { frames: [{}] }, profiles: [{ type: 'sampled', unit: 'none', samples: [[0]], weights: [1] }] }, /shared\.frames\[0\] has no "name"/],
    [{ $schema: 'x', shared: { frames: [] }, profiles: [], activeProfileIndex: 0 }, /"profiles" is empty/],
    [{ $schema: 'x', shared: { frames: [{ name: 'a' }] }, profiles: [{ type: 'sampled', unit: 'none', samples: [[0]], weights: [1] }], activeProfileIndex: 4 }, /"activeProfileIndex" 4/],
  ];
  cases.forEach(([doc, message], i) => {
    const path = join(tmp, `bad-${i}.speedscope.json`);
    writeFileSync(path, JSON.stringify(doc));
    const r = runCli(['analyze', path]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  });
});

test("speedscope: loopscope's own export round-trips with the same totals", async () => {
  const input = join(root, 'traces', 'login-server.cpuprofile');
  const out = join(tmp, 'login-server.speedscope.json');
  const r = runCli(['analyze', input, '--speedscope', out]);
  assert.equal(r.code, 0, r.stderr);
  const original = await analyzeFile(input);
  const back = await analyzeFile(out);
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(b), 1e-9);
  assert.ok(close(back.totals.wallMs, original.totals.wallMs), `wall ${back.totals.wallMs} vs ${original.totals.wallMs}`);
  assert.ok(close(back.totals.idleMs, original.totals.idleMs), `idle ${back.totals.idleMs} vs ${original.totals.idleMs}`);
  assert.match(back.profile.format, /^speedscope sampled profile ".*: by stack" \(1 of 2\), milliseconds/);
});

// ---------------------------------------------------------------------------------------------
// pprof

test('pprof: simple.prof, per frame, against speedscope; gzipped or not', async () => {
  const expected = snapshot('pprof.test.ts.snap').get('simple.prof')!;
  assert.ok(expected.size > 5);
  const gzipped = join(ss, 'pprof', 'simple.prof');
  const raw = join(tmp, 'simple-raw.prof');
  writeFileSync(raw, gunzipSync(readFileSync(gzipped)));
  const regzipped = join(tmp, 'simple-regzipped.pb.gz');
  writeFileSync(regzipped, gzipSync(readFileSync(raw)));
  let wall: number | undefined;
  for (const path of [gzipped, raw, regzipped]) {
    const analysis = await analyzeFile(path);
    // cpu/nanoseconds: the snapshot's weights are ns.
    assertWeights(weightsOf(analysis.profile, 1e6), expected, basename(path));
    assert.match(analysis.profile.format, /^pprof \(cpu\/nanoseconds, 9 samples\)/);
    wall ??= analysis.totals.wallMs;
    assert.equal(analysis.totals.wallMs, wall);
  }
  let total = 0;
  for (const w of expected.values()) total += w.self;
  assert.ok(Math.abs(wall! - total / 1e6) < 1e-9, `wall ${wall} ms, snapshot ${total} ns`);
  // Frames keep their file and a line.
  const analysis = await analyzeFile(raw);
  const alpha = analysis.profile.frames.find((f) => f.name === 'main.alpha')!;
  assert.match(alpha.file, /simple\.go$/);
  assert.ok(alpha.line > 0);
});

test('pprof: inlined frames, locations without lines, the default sample type in its own unit', async () => {
  const strings = ['', 'samples', 'count', 'alloc_space', 'bytes', 'outer', 'inner', '/src/app.go', '/usr/lib/libfoo.so', 'main'];
  const message = ProfileType.fromObject({
    sampleType: [
      { type: 1, unit: 2 },
      { type: 3, unit: 4 },
    ],
    defaultSampleType: 1,
    function: [
      { id: 1, name: 9, filename: 7, startLine: 3 },
      { id: 2, name: 5, filename: 7, startLine: 10 },
      { id: 3, name: 6, filename: 7, startLine: 20 },
    ],
    mapping: [{ id: 1, filename: 8 }],
    location: [
      // inner inlined into outer: innermost first.
      { id: 1, line: [{ functionId: 3, line: 21 }, { functionId: 2, line: 11 }] },
      { id: 2, line: [{ functionId: 1, line: 5 }] },
      { id: 3, mappingId: 1, address: 0x1234 },
    ],
    sample: [
      { locationId: [1, 2], value: [5, 100] },
      { locationId: [3, 2], value: [7, 0] },
    ],
    stringTable: strings,
  });
  const path = join(tmp, 'synthetic.pb');
  writeFileSync(path, ProfileType.encode(message).finish());
  const { profile, totals } = await analyzeFile(path);
  assert.match(profile.format, /^pprof \(samples\/count, 2 samples\)/);
  assert.equal(profile.unit, 'count');
  const stacks = new Map<string, number>();
  for (let node = 0; node < profile.nodeParent.length; node++) {
    if (!profile.nodeSelfMs[node]) continue;
    const names: string[] = [];
    for (let i = node; i >= 0; i = profile.nodeParent[i]) names.unshift(profile.frames[profile.nodeFrame[i]].name);
    stacks.set(names.join(';'), profile.nodeSelfMs[node]);
  }
  assert.deepEqual(Object.fromEntries(stacks), { 'main;outer;inner': 5, 'main;0x1234 (libfoo.so)': 7 });
  const inner = profile.frames.find((f) => f.name === 'inner')!;
  // A frame is a function at a line: the line the sample was taken at.
  assert.deepEqual({ file: inner.file, line: inner.line, kind: inner.kind }, { file: '/src/app.go', line: 21, kind: 'user' });
  assert.equal(profile.frames.find((f) => f.name.startsWith('0x'))!.kind, 'native');
  assert.ok(Math.abs(totals.userMs - 5) < 1e-9 && Math.abs(totals.systemMs - 7) < 1e-9, JSON.stringify(totals));
});

test('pprof: a broken reference names the field; an input over 400 MB is refused with its size', async () => {
  const message = ProfileType.fromObject({
    sampleType: [{ type: 1, unit: 2 }],
    sample: [{ locationId: [9], value: [1] }],
    stringTable: ['', 'cpu', 'nanoseconds'],
  });
  const path = join(tmp, 'dangling.pb');
  writeFileSync(path, ProfileType.encode(message).finish());
  const r = runCli(['analyze', path]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /sample\[0\]\.location_id\[0\] is 9: no location with that id/);
  const core = await loadCore(1 << 20);
  const huge = { name: 'huge.pb', size: 500 * 2 ** 20, read: async () => 0, close: async () => {} };
  await assert.rejects(importPprof(huge, core), (e: Error) => e instanceof InputError && /huge\.pb: 500 MB, too large/.test(e.message));
});

test('pprof: data that is not a profile is an error that says so', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), /gzip/],
    [gzipSync(Buffer.from('hello')), /gzip-compressed binary data that is not a pprof profile|not a pprof profile/],
    [Buffer.from([0, 1, 2, 3, 250, 251]), /not a profile/],
  ];
  cases.forEach(([bytes, message], i) => {
    const path = join(tmp, `bad-${i}.prof`);
    writeFileSync(path, bytes);
    const r = runCli(['analyze', path]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  });
});

// ---------------------------------------------------------------------------------------------
// The sniffer

test('each format is recognised by its content, whatever the file is called', async () => {
  const cases: [string, string, RegExp][] = [
    [join(ss, 'stackcollapse', 'simple.txt'), 'folded.cpuprofile', /^folded stacks/],
    [join(ss, 'stackcollapse', 'simple-utf16-le.txt'), 'folded16.json', /^folded stacks/],
    [join(ss, 'stackcollapse', 'simple-with-invalids.txt'), 'comments-first.prof', /^folded stacks/],
    [join(ss, 'speedscope', '0.1.2', 'simple-sampled.speedscope.json'), 'sampled.txt', /^speedscope sampled/],
    [join(ss, 'speedscope', '0.0.1', 'simple.speedscope.json'), 'evented.cpuprofile', /^speedscope evented/],
    [join(ss, 'pprof', 'simple.prof'), 'cpu.json', /^pprof/],
    [join(root, 'traces', 'login-server.cpuprofile'), 'v8.prof', /^V8 CPU profile/],
  ];
  for (const [from, name, format] of cases) {
    const path = join(tmp, name);
    copyFileSync(from, path);
    const analysis = await analyzeFile(path);
    assert.match(analysis.profile.format, format, name);
  }
  const raw = join(tmp, 'raw-pprof.txt');
  writeFileSync(raw, gunzipSync(readFileSync(join(ss, 'pprof', 'simple.prof'))));
  assert.match((await analyzeFile(raw)).profile.format, /^pprof/);
});

test("functions named like Object's own properties are ordinary frames, in every format", async () => {
  // Names come from the file: `toString` or `constructor` must not pick up a lookup table's
  // inherited property and become a special frame or a waiting one.
  const dir = tempDir();
  const v8 = join(dir, 'eval.cpuprofile');
  const frame = (functionName: string, url = '', scriptId = '0') => ({ functionName, url, scriptId, lineNumber: -1, columnNumber: -1 });
  writeFileSync(v8, JSON.stringify({
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2] },
      { id: 2, callFrame: frame('toString', '', '7'), children: [3] },
      { id: 3, callFrame: frame('constructor', '', '7') },
    ],
    startTime: 0,
    endTime: 30_000,
    samples: [2, 3, 3],
    timeDeltas: [0, 10_000, 10_000],
  }));
  const a = await analyzeFile(v8);
  const kinds = a.profile.frames.map((f) => `${f.name}:${f.kind}`);
  assert.deepEqual(kinds.slice(1), ['toString:user', 'constructor:user']);
  assert.equal(a.totals.userMs, a.totals.wallMs, 'eval code without a URL is user time');

  const folded = join(dir, 'names.folded');
  writeFileSync(folded, 'main;constructor 3\nmain;hasOwnProperty 2\n');
  const b = await analyzeFile(folded);
  assert.deepEqual(b.lines.map((l) => [l.function, l.userMs]).sort(), [['constructor', 3], ['hasOwnProperty', 2]]);
});
