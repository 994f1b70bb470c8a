// The streaming analysis against test/reference.ts (JSON.parse of the whole file, one sample at a
// time): hand-made profiles whose answers are worked out below, then seeded random profiles read
// through windows small enough to split every number, string and key. CROSSCHECK_SEED and
// CROSSCHECK_COUNT pick other random profiles.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFile } from '../src/analyze.js';
import { jsonReport } from '../src/reports/json.js';
import type { LineStat, Totals } from '../src/model.js';
import { type CpuProfile, type ReferenceResult, fileOf, frameKind, referenceAnalyze } from './reference.js';
import { type GeneratedProfile, generateProfile, makeTempDir, sizeFor, writeProfile } from './random-profiles.js';

const COUNT = Number(process.env.CROSSCHECK_COUNT ?? 100);
const BASE_SEED = Number(process.env.CROSSCHECK_SEED ?? 20240611);
/** undefined: the default window. */
const WINDOWS: (number | undefined)[] = [7, 13, 64, 4096, undefined];
/** Byte windows under 64 take one read per few bytes: only files up to this size go through them. */
const TINY_WINDOW_MAX_BYTES = 30_000;
/** ...except the first large profile (deep chain, thousands of samples) at 13 bytes. */
const LARGE_AT_13 = Array.from({ length: COUNT }, (_, i) => i).find((i) => sizeFor(i) === 'large');

const dir = makeTempDir();
/** Inputs the analysis got wrong: kept for a look, the others removed. */
const failing = new Set<string>();
after(() => {
  for (const name of readdirSync(dir)) if (!failing.has(join(dir, name))) rmSync(join(dir, name), { force: true });
  if (failing.size === 0) rmSync(dir, { recursive: true, force: true });
  else console.log(`cross-check: ${failing.size} failing input(s) kept in ${dir}`);
});

// ---------------------------------------------------------------------------------------------
// Comparison

const MS_TOL = 1e-3;
// The report rounds fractional sample counts (split by line ticks) to 3 decimals.
const SAMPLES_ABS_TOL = 5e-4 + 1e-9;

function closeMs(got: number, want: number): boolean {
  return Math.abs(got - want) <= MS_TOL + 1e-9 * Math.abs(want);
}
function closeSamples(got: number, want: number): boolean {
  return Math.abs(got - want) <= SAMPLES_ABS_TOL;
}
const keyOf = (l: { file: string; line: number; function: string }) => JSON.stringify([l.file, l.line, l.function]);
const totalOf = (l: LineStat) => l.userMs + l.systemMs + l.idleMs;

/** Every difference between a report and the expected result, as readable lines; empty when equal. */
function differences(got: { lines: LineStat[]; totals: Totals }, want: ReferenceResult): string[] {
  const out: string[] = [];
  for (const f of ['wallMs', 'userMs', 'systemMs', 'idleMs'] as const) {
    if (!closeMs(got.totals[f], want.totals[f])) out.push(`totals.${f}: expected ${want.totals[f]}, got ${got.totals[f]}`);
  }
  if (got.totals.samples !== want.totals.samples) out.push(`totals.samples: expected ${want.totals.samples}, got ${got.totals.samples}`);

  const wantByKey = new Map(want.lines.map((l) => [keyOf(l), l]));
  const gotByKey = new Map<string, LineStat>();
  for (const l of got.lines) {
    if (gotByKey.has(keyOf(l))) out.push(`line ${keyOf(l)} reported twice`);
    gotByKey.set(keyOf(l), l);
  }
  for (const [k, w] of wantByKey) {
    const g = gotByKey.get(k);
    if (!g) {
      out.push(`missing line ${k}: expected ${JSON.stringify(w)}`);
      continue;
    }
    const bad: string[] = [];
    for (const f of ['userMs', 'systemMs', 'idleMs'] as const) if (!closeMs(g[f], w[f])) bad.push(`${f} expected ${w[f]}, got ${g[f]}`);
    if (!closeSamples(g.samples, w.samples)) bad.push(`samples expected ${w.samples}, got ${g.samples}`);
    if (bad.length) out.push(`line ${k}: ${bad.join('; ')}`);
  }
  for (const [k, g] of gotByKey) if (!wantByKey.has(k)) out.push(`unexpected line ${k}: ${JSON.stringify(g)}`);

  // Order: by total time descending; lines with equal totals may come in any order.
  for (let i = 0; i + 1 < got.lines.length; i++) {
    const a = wantByKey.get(keyOf(got.lines[i]));
    const b = wantByKey.get(keyOf(got.lines[i + 1]));
    if (a && b && totalOf(a) < totalOf(b) - 2 * MS_TOL) {
      out.push(`order: line ${i} ${keyOf(a)} (${totalOf(a)} ms) before line ${i + 1} ${keyOf(b)} (${totalOf(b)} ms)`);
    }
  }
  return out;
}

async function report(path: string, windowBytes?: number): Promise<{ lines: LineStat[]; totals: Totals }> {
  const a = await analyzeFile(path, windowBytes === undefined ? undefined : { windowBytes });
  const r = jsonReport(a);
  return { lines: r.lines as LineStat[], totals: r.totals as Totals };
}

function assertSame(got: { lines: LineStat[]; totals: Totals }, want: ReferenceResult, path: string, context: string): void {
  // differences in the sample count alone go last: the others say more
  const samplesOnly = (d: string) => /^line .*: samples expected [^;]*$/.test(d);
  const diffs = differences(got, want).sort((a, b) => Number(samplesOnly(a)) - Number(samplesOnly(b)));
  if (diffs.length) {
    failing.add(path);
    const shown = diffs.slice(0, 12).join('\n  ');
    assert.fail(`${context}: ${diffs.length} difference(s)\n  ${shown}${diffs.length > 12 ? '\n  ...' : ''}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-made profiles: the expected numbers are worked out by hand in the comments.

const root = (id: number, children: number[]) => ({
  id,
  callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 },
  children,
});

interface HandCase {
  name: string;
  profile: CpuProfile;
  lines: LineStat[];
  totals: Totals;
}

const L = (file: string, line: number, fn: string, userMs: number, systemMs: number, idleMs: number, samples: number): LineStat => ({
  file,
  line,
  function: fn,
  userMs,
  systemMs,
  idleMs,
  samples,
});

const HAND: HandCase[] = [
  {
    // t = 1100, 2100, 4100, 4600; durations 1000, 2000, 500, 5000-4600 = 400 µs.
    // readFileSync is native: system time charged to its user caller main (lineNumber 9 -> line 10).
    name: 'three nodes, four samples',
    profile: {
      nodes: [
        root(1, [2]),
        { id: 2, callFrame: { functionName: 'main', url: 'file:///app/main.js', lineNumber: 9, columnNumber: 0 }, children: [3] },
        { id: 3, callFrame: { functionName: 'readFileSync', url: '', lineNumber: -1, columnNumber: -1 } },
      ],
      startTime: 1000,
      endTime: 5000,
      samples: [2, 3, 3, 2],
      timeDeltas: [100, 1000, 2000, 500],
    },
    lines: [L('/app/main.js', 10, 'main', 1.4, 2.5, 0, 4)],
    totals: { wallMs: 3.9, userMs: 1.4, systemMs: 2.5, idleMs: 0, samples: 4 },
  },
  {
    // File order times 1000, 2000, 1500, 3000, 3900 (a negative delta); in time order:
    //   1000 work    500 µs   user, split by work's ticks 3:1 -> line 7 375 / line 9 125
    //   1500 dep     500 µs   user, charged to work (not the leaf) -> work's hottest line 7
    //   2000 (idle) 1000 µs   idle, no user frame: charged to itself, line 0
    //   3000 (prog)  900 µs   system
    //   3900 work    300 µs   (endTime 4200) -> line 7 225 / line 9 75
    // line 7: 375 + 500 + 225 = 1100 µs user, 0.75 + 1 + 0.75 = 2.5 samples; line 9: 200 µs, 0.5.
    name: 'positionTicks split, idle, program, reordered samples, file URL decoding',
    profile: {
      nodes: [
        root(1, [2, 3, 4]),
        { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1, columnNumber: -1 } },
        { id: 3, callFrame: { functionName: '(program)', url: '', lineNumber: -1, columnNumber: -1 } },
        {
          id: 4,
          callFrame: { functionName: 'work', url: 'file:///srv/my%20app/w%C3%A9b.js', lineNumber: 4, columnNumber: 2 },
          children: [5],
          positionTicks: [
            { line: 7, ticks: 3 },
            { line: 9, ticks: 1 },
          ],
        },
        {
          id: 5,
          callFrame: { functionName: 'lodashThing', url: 'file:///srv/my%20app/node_modules/lodash/x.js', lineNumber: 0, columnNumber: 0 },
          positionTicks: [{ line: 3, ticks: 5 }],
        },
      ],
      startTime: 0,
      endTime: 4200,
      samples: [4, 2, 5, 3, 4],
      timeDeltas: [1000, 1000, -500, 1500, 900],
    },
    lines: [
      L('/srv/my app/wéb.js', 7, 'work', 1.1, 0, 0, 2.5),
      L('', 0, '(idle)', 0, 0, 1.0, 1),
      L('', 0, '(program)', 0, 0.9, 0, 1),
      L('/srv/my app/wéb.js', 9, 'work', 0.2, 0, 0, 0.5),
    ],
    totals: { wallMs: 3.2, userMs: 1.3, systemMs: 0.9, idleMs: 1.0, samples: 5 },
  },
  {
    // File order times 100, 100, 130, 170, 100. Stable order: #0 (50) 100, #1 (30) 100, #4 (20) 100,
    // #2 (40) 130, #3 (60) 170. Durations 0, 0, 30, 40, and endTime 150 < 170 -> 0.
    // 50 scryptSync (native) -> system of its user caller 40 (anonymous, line 42), 0 µs.
    // 30 gc -> system, itself. 20 processTimers (node:) has no user frame above: itself, line 512.
    // 60 is '(program)' with a URL, so an ordinary frame: internal (events.js), itself, line 8.
    // Equal totals (0): by file ('' before 'events.js').
    name: 'equal times keep file order, clamped last sample, charging without a user frame',
    profile: {
      nodes: [
        root(10, [20, 30]),
        { id: 20, callFrame: { functionName: 'processTimers', url: 'node:internal/timers', lineNumber: 511, columnNumber: 0 }, children: [40, 60] },
        { id: 40, callFrame: { functionName: '', url: '/abs/app.js', lineNumber: 41, columnNumber: 3 }, children: [50] },
        { id: 50, callFrame: { functionName: 'scryptSync', url: '', lineNumber: -1, columnNumber: -1 } },
        { id: 60, callFrame: { functionName: '(program)', url: 'events.js', lineNumber: 7, columnNumber: 0 } },
        { id: 30, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1, columnNumber: -1 } },
      ],
      startTime: 100,
      endTime: 150,
      samples: [50, 30, 40, 60, 20],
      timeDeltas: [0, 0, 30, 40, -70],
    },
    lines: [
      L('/abs/app.js', 42, '(anonymous)', 0.04, 0, 0, 2),
      L('node:internal/timers', 512, 'processTimers', 0, 0.03, 0, 1),
      L('', 0, '(garbage collector)', 0, 0, 0, 1),
      L('events.js', 8, '(program)', 0, 0, 0, 1),
    ],
    totals: { wallMs: 0.07, userMs: 0.04, systemMs: 0.03, idleMs: 0, samples: 5 },
  },
  {
    // Durations 1000, 2000, 4000 µs (endTime 7000).
    // dep (under outer) -> outer's hottest line: ticks 12:4, 10:4, 11:2 -> tie, lowest line 10.
    // dep2 has no user frame above: charged to itself, the leaf, so split by its ticks 1:3.
    // outer as leaf: 4000 µs split 4:4:2 -> 1600, 1600, 800.
    name: 'hottest line with ties, split of a non-user leaf',
    profile: {
      nodes: [
        root(1, [2, 5]),
        {
          id: 2,
          callFrame: { functionName: 'outer', url: 'file:///a/b.js', lineNumber: 2, columnNumber: 0 },
          children: [3],
          positionTicks: [
            { line: 12, ticks: 4 },
            { line: 10, ticks: 4 },
            { line: 11, ticks: 2 },
          ],
        },
        {
          id: 3,
          callFrame: { functionName: 'dep', url: '/x/node_modules/d/i.js', lineNumber: 0, columnNumber: 0 },
          positionTicks: [{ line: 5, ticks: 1 }],
        },
        {
          id: 5,
          callFrame: { functionName: 'dep2', url: '/x/node_modules/d/j.js', lineNumber: 3, columnNumber: 0 },
          positionTicks: [
            { line: 20, ticks: 1 },
            { line: 21, ticks: 3 },
          ],
        },
      ],
      startTime: 0,
      endTime: 7000,
      samples: [3, 5, 2],
      timeDeltas: [0, 1000, 2000],
    },
    lines: [
      L('/a/b.js', 10, 'outer', 2.6, 0, 0, 1.4),
      L('/a/b.js', 12, 'outer', 1.6, 0, 0, 0.4),
      L('/x/node_modules/d/j.js', 21, 'dep2', 1.5, 0, 0, 0.75),
      L('/a/b.js', 11, 'outer', 0.8, 0, 0, 0.2),
      L('/x/node_modules/d/j.js', 20, 'dep2', 0.5, 0, 0, 0.25),
    ],
    totals: { wallMs: 7.0, userMs: 7.0, systemMs: 0, idleMs: 0, samples: 3 },
  },
  {
    name: 'no samples',
    profile: { nodes: [root(1, [])], startTime: 5, endTime: 900, samples: [], timeDeltas: [] },
    lines: [],
    totals: { wallMs: 0, userMs: 0, systemMs: 0, idleMs: 0, samples: 0 },
  },
];

/** Exact comparison with the hand-computed answer, order included. */
function assertHand(got: { lines: LineStat[]; totals: Totals }, c: HandCase, who: string): void {
  const near = (x: number, y: number) => Math.abs(x - y) <= 1e-9 + 1e-12 * Math.abs(y);
  const gotKeys = got.lines.map(keyOf);
  assert.deepEqual(gotKeys, c.lines.map(keyOf), `${who}: lines or their order`);
  c.lines.forEach((w, i) => {
    const g = got.lines[i];
    for (const f of ['userMs', 'systemMs', 'idleMs', 'samples'] as const) {
      assert.ok(near(g[f], w[f]), `${who}: ${keyOf(w)} ${f}: expected ${w[f]}, got ${g[f]}`);
    }
  });
  for (const f of ['wallMs', 'userMs', 'systemMs', 'idleMs', 'samples'] as const) {
    assert.ok(near(got.totals[f], c.totals[f]), `${who}: totals.${f}: expected ${c.totals[f]}, got ${got.totals[f]}`);
  }
}

test('frame kinds and file names follow SPEC.md', () => {
  const k = (functionName: string, url: string) => frameKind({ functionName, url, lineNumber: 0, columnNumber: 0 });
  assert.equal(k('(root)', ''), 'root');
  assert.equal(k('(program)', ''), 'program');
  assert.equal(k('(idle)', ''), 'idle');
  assert.equal(k('(garbage collector)', ''), 'gc');
  assert.equal(k('(idle)', 'file:///x.js'), 'user');
  assert.equal(k('scryptSync', ''), 'native');
  assert.equal(k('', ''), 'native');
  // code without a URL but with a script id (eval) is the user's JavaScript; without a script, native
  assert.equal(frameKind({ functionName: 'f', url: '', lineNumber: 3, columnNumber: 0, scriptId: '42' }), 'user');
  assert.equal(frameKind({ functionName: 'f', url: '', lineNumber: 3, columnNumber: 0, scriptId: '0' }), 'native');
  assert.equal(k('listOnTimeout', 'node:internal/timers'), 'internal');
  assert.equal(k('f', 'internal/timers.js'), 'internal');
  assert.equal(k('emit', 'events.js'), 'internal');
  assert.equal(k('f', 'file:///p/node_modules/q/i.js'), 'dependency');
  assert.equal(k('f', '/p/node_modules/q/i.js'), 'dependency');
  assert.equal(k('f', 'file:///p/app.js'), 'user');
  assert.equal(k('f', '/p/app.js'), 'user');
  assert.equal(k('f', 'https://example.com/app.js'), 'user');
  assert.equal(fileOf('file:///home/me/my%20app/%C3%A9%F0%9F%98%80.mjs'), '/home/me/my app/é😀.mjs');
  assert.equal(fileOf('file:///a/%2525.js'), '/a/%25.js');
  assert.equal(fileOf('https://example.com/a%20b.js'), 'https://example.com/a%20b.js');
  assert.equal(fileOf('node:fs'), 'node:fs');
});

for (const c of HAND) {
  test(`reference: ${c.name}`, () => {
    assertHand(referenceAnalyze(c.profile), c, 'reference');
  });
  test(`analysis: ${c.name}`, async () => {
    const path = join(dir, `hand-${HAND.indexOf(c)}.cpuprofile`);
    writeFileSync(path, JSON.stringify(c.profile));
    for (const w of [7, undefined]) {
      try {
        assertHand(await report(path, w), c, `window ${w ?? 'default'}`);
      } catch (e) {
        failing.add(path);
        throw e;
      }
    }
  });
}

test('the comparison catches a wrong report', () => {
  const want = referenceAnalyze(HAND[1].profile);
  const copy = () => ({ lines: want.lines.map((l) => ({ ...l })), totals: { ...want.totals } });
  assert.deepEqual(differences(copy(), want), []);
  const a = copy();
  a.lines[0].userMs += 0.002;
  assert.equal(differences(a, want).length, 1);
  const b = copy();
  b.lines.reverse();
  assert.ok(differences(b, want).some((d) => d.startsWith('order:')));
  const c = copy();
  c.lines.pop();
  c.totals.samples = 4;
  assert.equal(differences(c, want).length, 2);
  const d = copy();
  d.lines[3].samples += 0.01;
  assert.equal(differences(d, want).length, 1);
});

// ---------------------------------------------------------------------------------------------
// Random profiles

interface RandomCase {
  generated: GeneratedProfile;
  path: string;
  bytes: number;
  want: ReferenceResult;
  label: string;
}

const cases: RandomCase[] = [];
for (let i = 0; i < COUNT; i++) {
  const g = generateProfile(BASE_SEED + i, sizeFor(i));
  const path = writeProfile(dir, g);
  // The reference reads what was written, so the writer's escapes and layout are checked too.
  const parsed = JSON.parse(g.text) as CpuProfile;
  cases.push({
    generated: g,
    path,
    bytes: Buffer.byteLength(g.text),
    want: referenceAnalyze(parsed),
    label: `seed ${g.seed} (${g.size}; ${g.profile.nodes.length} nodes, ${g.profile.samples.length} samples; ${g.traits.join(' ')})`,
  });
}

test('the generated files hold the generated profiles', () => {
  for (const { generated: g } of cases) {
    const parsed = JSON.parse(g.text) as CpuProfile;
    assert.deepEqual(parsed.samples, g.profile.samples);
    // `+ 0` turns a written -0 into 0
    assert.deepEqual(parsed.timeDeltas.map((x) => x + 0), g.profile.timeDeltas);
    assert.equal(parsed.startTime + 0, g.profile.startTime);
    assert.equal(parsed.endTime + 0, g.profile.endTime);
    assert.deepEqual(
      parsed.nodes.map((n) => [n.id, n.callFrame.functionName, n.callFrame.url, n.callFrame.lineNumber, n.children ?? [], n.positionTicks ?? null]),
      g.profile.nodes.map((n) => [n.id, n.callFrame.functionName, n.callFrame.url, n.callFrame.lineNumber, n.children ?? [], n.positionTicks ?? null]),
    );
  }
});

test('the random profiles cover what they are meant to', () => {
  const all = cases.map((c) => c.label).join('\n');
  for (const trait of ['chain:', 'ids:huge', 'ids:gaps', 'order:shuffled', 'order:reversed', 'reorder:heavy', 'reorder:edge', 'ws:pretty', 'ws:random', 'esc:ascii', 'unknown-keys', 'key-order', 'times:epoch', 'times:gaps', 'times:fractions', 'number-forms', 'eval-frames']) {
    assert.ok(all.includes(trait), `no random profile has ${trait}`);
  }
  assert.ok(cases.some((c) => c.want.totals.samples === 0));
  assert.ok(cases.some((c) => c.want.totals.samples >= 4000));
  assert.ok(cases.some((c) => c.want.lines.some((l) => !Number.isInteger(l.samples))), 'no line split by positionTicks');
  const files = new Set(cases.flatMap((c) => c.want.lines.map((l) => l.file)));
  assert.ok([...files].some((f) => /[^\x00-\x7f]/.test(f)), 'no non-ASCII file name');
});

cases.forEach((c, i) => {
  test(`random profile ${i}: ${c.label}`, async () => {
    for (const w of WINDOWS) {
      if (w !== undefined && w < 64 && c.bytes > TINY_WINDOW_MAX_BYTES && !(i === LARGE_AT_13 && w === 13)) continue;
      let got;
      try {
        got = await report(c.path, w);
      } catch (e) {
        failing.add(c.path);
        throw new Error(`${c.path} window ${w ?? 'default'}: ${(e as Error).message}`, { cause: e });
      }
      assertSame(got, c.want, c.path, `${c.path} window ${w ?? 'default'}`);
    }
  });
});
