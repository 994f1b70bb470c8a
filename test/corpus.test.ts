// Profiles written by other tools, read by loopscope and by independent oracles: speedscope's own
// importer snapshots (per-frame self and total weights) and, for a larger profile without a
// snapshot, a plain JSON.parse computation. Weights are compared in microseconds.
//
// Documented differences from speedscope, worked out from each input file:
// - speedscope gives the last sample zero weight; loopscope lets it last until the profile's
//   `endTime` when that is in µs and later (the `.cpuprofile` form with `timeDeltas`; Node 10's
//   form records `endTime` in seconds, which is ignored, so the last sample weighs 0 there too);
// - speedscope shows the time before the first sample as an empty stack; loopscope does not count it;
// - Node 10's form has no columns: speedscope makes them up as 0 (col 1), loopscope says unknown (0).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readInput, type InputCallFrame, type InputProfile } from './v8-input.js';
import { analyzeFile } from '../src/analyze.js';
import type { Analysis, Profile } from '../src/model.js';
import { corpus } from './support.js';

const speedscopeDir = join(corpus, 'speedscope');
const snapshotText = readFileSync(join(speedscopeDir, 'expected', 'chrome.test.ts.snap'), 'utf8');

// ---------------------------------------------------------------------------------------------
// Frame identity: name, file, 1-based line and column (0: unknown).

interface Identity {
  name: string;
  file: string;
  line: number;
  col: number;
}
const keyOf = (f: Identity): string => JSON.stringify([f.name, f.file, f.line, f.col]);

interface Weights {
  self: number;
  total: number;
}

// ---------------------------------------------------------------------------------------------
// The Jest snapshot file

interface SnapshotFrame extends Identity {
  key: string;
  selfWeight: number;
  totalWeight: number;
}

interface Snapshot {
  frames: SnapshotFrame[];
  /** Folded stacks ('' is the empty stack) and their weights in µs, rounded as speedscope prints them. */
  stacks: { stack: string; us: number; roundingUs: number }[];
}

/** The body of `exports[`title`] = `...`;`, with the template literal's escapes undone. */
function snapshotBody(text: string, title: string): string {
  const opening = 'exports[`' + title + '`] = `';
  const start = text.indexOf(opening);
  assert.ok(start >= 0, `snapshot "${title}" not found`);
  const end = text.indexOf('\n`;', start + opening.length);
  assert.ok(end >= 0, `snapshot "${title}" does not end`);
  return text.slice(start + opening.length, end).replace(/\\(\\|`|\$\{)/g, '$1');
}

/** A pretty-format value: a JSON string or number. */
function snapshotValue(raw: string): string | number {
  const value: unknown = JSON.parse(raw);
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`unexpected snapshot value ${raw}`);
  return value;
}

/** speedscope's time formatter (microseconds in, "12.34ms" out), read back with its rounding. */
function parseDuration(text: string): { us: number; roundingUs: number } {
  const m = /^(\d+(?:\.\d+)?)(ns|µs|ms|s)$/.exec(text);
  if (!m) throw new Error(`unexpected duration "${text}"`);
  const scale = { ns: 1e-3, µs: 1, ms: 1e3, s: 1e6 }[m[2] as 'ns' | 'µs' | 'ms' | 's'];
  const decimals = m[1].includes('.') ? m[1].length - m[1].indexOf('.') - 1 : 0;
  return { us: Number(m[1]) * scale, roundingUs: 0.5 * 10 ** -decimals * scale };
}

function parseSnapshot(text: string, title: string): Snapshot {
  const frames: SnapshotFrame[] = [];
  const stacks: Snapshot['stacks'] = [];
  let frame: Record<string, string | number> | undefined;
  let inStacks = false;
  for (const line of snapshotBody(text, title).split('\n')) {
    const t = line.trim();
    if (t === 'Frame {') {
      frame = {};
    } else if (frame && t === '},') {
      for (const field of ['name', 'file', 'key'] as const) assert.equal(typeof frame[field], 'string', `${title}: frame.${field}`);
      for (const field of ['line', 'col', 'selfWeight', 'totalWeight'] as const) {
        assert.equal(typeof frame[field], 'number', `${title}: frame.${field}`);
      }
      frames.push(frame as unknown as SnapshotFrame);
      frame = undefined;
    } else if (frame) {
      const m = /^"(\w+)": (.*),$/.exec(t);
      assert.ok(m, `${title}: unexpected frame line ${t}`);
      frame[m[1]] = snapshotValue(m[2]);
    } else if (t === '"stacks": [') {
      inStacks = true;
    } else if (inStacks && t === '],') {
      inStacks = false;
    } else if (inStacks) {
      const folded = snapshotValue(t.replace(/,$/, ''));
      assert.equal(typeof folded, 'string');
      const s = folded as string;
      const space = s.lastIndexOf(' ');
      stacks.push({ stack: s.slice(0, space), ...parseDuration(s.slice(space + 1)) });
    }
  }
  assert.ok(frames.length > 0, `${title}: no frames parsed`);
  assert.ok(stacks.length > 0, `${title}: no stacks parsed`);
  return { frames, stacks };
}

// ---------------------------------------------------------------------------------------------
// The input, read whole with JSON.parse (both the `nodes` form and Node 10's nested `head` form)

/** How loopscope identifies an input frame (see the column note at the top). */
function inputIdentity(f: InputCallFrame): Identity {
  const url = f.url ?? '';
  return {
    name: f.functionName || '(anonymous)',
    file: url.startsWith('file://') ? fileURLToPath(url) : url,
    line: typeof f.lineNumber === 'number' && f.lineNumber >= 0 ? f.lineNumber + 1 : 0,
    col: typeof f.columnNumber === 'number' && f.columnNumber >= 0 ? f.columnNumber + 1 : 0,
  };
}

/** Nodes from `node` up to the root, root excluded (a walk up the parent links, not a recursion). */
function ancestry(input: InputProfile, node: number): number[] {
  const out: number[] = [];
  for (let i = node; i >= 0; i = input.parent[i]) if (input.callFrames[i].functionName !== '(root)') out.push(i);
  return out;
}

/** The time loopscope gives the last sample beyond speedscope's zero, and the frames it goes to. */
function lastSampleExtension(input: InputProfile): { us: number; frames: Set<string> } {
  const n = input.sampleNode.length;
  const last = input.sampleTime[n - 1];
  const us = !input.oldFormat && input.endTime > last ? input.endTime - last : 0;
  const frames = new Set(ancestry(input, input.sampleNode[n - 1]).map((i) => keyOf(inputIdentity(input.callFrames[i]))));
  return { us, frames };
}

// ---------------------------------------------------------------------------------------------
// Our side: per-frame weights from the Profile's node tables

/** Self and total weight (µs) per frame identity; a frame counts once per sample even when recursive. */
function ourWeights(profile: Profile): Map<string, Weights> {
  const identity = profile.frames.map((f) => keyOf({ name: f.name, file: f.file, line: f.line, col: f.column }));
  const ids = [...new Set(identity)];
  const idOf = new Map(ids.map((k, i) => [k, i]));
  const frameId = identity.map((k) => idOf.get(k)!);
  const self = new Float64Array(ids.length);
  const total = new Float64Array(ids.length);
  const seen = new Int32Array(ids.length).fill(-1);
  for (let node = 0; node < profile.nodeParent.length; node++) {
    const us = profile.nodeSelfMs[node] * 1000;
    if (us === 0) continue;
    self[frameId[profile.nodeFrame[node]]] += us;
    for (let i = node; i >= 0; i = profile.nodeParent[i]) {
      const frame = profile.nodeFrame[i];
      if (profile.frames[frame].kind === 'root') continue;
      const id = frameId[frame];
      if (seen[id] === node) continue;
      seen[id] = node;
      total[id] += us;
    }
  }
  const out = new Map<string, Weights>();
  ids.forEach((k, i) => {
    if (profile.frames[identity.indexOf(k)].kind !== 'root') out.set(k, { self: self[i], total: total[i] });
  });
  return out;
}

/** Tolerance for sums of µs that went through ms and back. */
const closeUs = (got: number, want: number) => Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want));

/** Every difference between two per-frame weight tables, as readable lines. */
function weightDifferences(got: Map<string, Weights>, want: Map<string, Weights>, fields: (keyof Weights)[]): string[] {
  const out: string[] = [];
  for (const [k, w] of want) {
    const g = got.get(k);
    if (!g) {
      out.push(`frame ${k} missing (expected ${JSON.stringify(w)})`);
      continue;
    }
    for (const f of fields) if (!closeUs(g[f], w[f])) out.push(`frame ${k}: ${f} expected ${w[f]} µs, got ${g[f]} µs`);
  }
  for (const [k, g] of got) {
    if (!want.has(k) && (g.self !== 0 || g.total !== 0)) out.push(`unexpected frame ${k}: ${JSON.stringify(g)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Against speedscope's snapshots

const SNAPSHOT_CASES = [
  { title: 'importFromChromeCPUProfile 1', input: join(speedscopeDir, 'Chrome', '65', 'simple.cpuprofile') },
  { title: 'importFromV8Profiler Node 10 1', input: join(speedscopeDir, 'node', '10.11.0', 'example.cpuprofile') },
];

for (const { title, input: path } of SNAPSHOT_CASES) {
  test(`speedscope snapshot "${title}": per-frame self and total weights`, async () => {
    const snapshot = parseSnapshot(snapshotText, title);
    const input = readInput(path);
    // speedscope moves (program) and (garbage collector) onto the previous stack and drops (idle):
    // these inputs have none of them, so both sides see the same stacks.
    for (const f of input.callFrames) assert.ok(!['(program)', '(garbage collector)', '(idle)'].includes(f.functionName ?? ''), f.functionName);
    const hasColumns = input.callFrames.every((f) => typeof f.columnNumber === 'number');

    const extension = lastSampleExtension(input);
    const want = new Map<string, Weights>();
    for (const f of snapshot.frames) {
      if (!hasColumns) assert.equal(f.col, 1, `${title}: speedscope's made-up column for ${f.key}`);
      const k = keyOf({ name: f.name, file: f.file, line: f.line, col: hasColumns ? f.col : 0 });
      assert.ok(!want.has(k), `${title}: frame ${k} twice in the snapshot`);
      want.set(k, { self: f.selfWeight, total: f.totalWeight });
    }
    const lastLeaf = keyOf(inputIdentity(input.callFrames[input.sampleNode[input.sampleNode.length - 1]]));
    for (const k of extension.frames) {
      const w = want.get(k);
      assert.ok(w, `${title}: the last sample's frame ${k} is not in the snapshot`);
      w.total += extension.us;
      if (k === lastLeaf) w.self += extension.us;
    }

    const analysis: Analysis = await analyzeFile(path);
    const diffs = weightDifferences(ourWeights(analysis.profile), want, ['self', 'total']);
    if (diffs.length) assert.fail(`${title} (${path}), last sample extended by ${extension.us} µs:\n  ${diffs.join('\n  ')}`);

    // The empty stack is the time before the first sample, which loopscope does not count.
    const empty = snapshot.stacks.filter((s) => s.stack === '');
    assert.equal(empty.length, 1, `${title}: one empty stack`);
    const startUs = input.oldFormat ? input.startTime * 1e6 : input.startTime; // speedscope's reading
    assert.ok(Math.abs(empty[0].us - (input.sampleTime[0] - startUs)) <= empty[0].roundingUs, `${title}: empty stack ${empty[0].us} µs`);
    const stacked = snapshot.stacks.filter((s) => s.stack !== '');
    const stackedUs = stacked.reduce((sum, s) => sum + s.us, 0);
    const rounding = stacked.reduce((sum, s) => sum + s.roundingUs, 0);
    const wallUs = analysis.totals.wallMs * 1000;
    assert.ok(
      Math.abs(wallUs - (stackedUs + extension.us)) <= rounding,
      `${title}: wallMs ${analysis.totals.wallMs} vs stacks ${stackedUs} µs + ${extension.us} µs (±${rounding})`,
    );
    // Exactly: every non-empty sample is the self weight of its leaf frame.
    const selfUs = snapshot.frames.reduce((sum, f) => sum + f.selfWeight, 0);
    assert.ok(closeUs(wallUs, selfUs + extension.us), `${title}: wallMs ${analysis.totals.wallMs}, want ${(selfUs + extension.us) / 1000}`);
  });
}

// ---------------------------------------------------------------------------------------------
// A larger profile, against a plain computation over the parsed file

test('sucrase.cpuprofile: per-frame self and total times against JSON.parse', async () => {
  const path = join(speedscopeDir, 'Chrome', '65', 'sucrase.cpuprofile');
  const input = readInput(path);
  const n = input.sampleNode.length;
  // The plain computation below takes samples in file order: check that this is time order.
  for (let i = 1; i < n; i++) assert.ok(input.sampleTime[i] >= input.sampleTime[i - 1], `sample ${i} goes back in time`);

  const nodeUs = new Float64Array(input.callFrames.length);
  for (let i = 0; i < n; i++) {
    const next = i + 1 < n ? input.sampleTime[i + 1] : Math.max(input.endTime, input.sampleTime[i]);
    nodeUs[input.sampleNode[i]] += next - input.sampleTime[i];
  }
  const want = new Map<string, Weights>();
  const weights = (k: string) => want.get(k) ?? want.set(k, { self: 0, total: 0 }).get(k)!;
  input.callFrames.forEach((f, i) => {
    if (f.functionName === '(root)') return;
    weights(keyOf(inputIdentity(f))).self += nodeUs[i];
  });
  for (let node = 0; node < nodeUs.length; node++) {
    if (nodeUs[node] === 0) continue;
    for (const k of new Set(ancestry(input, node).map((i) => keyOf(inputIdentity(input.callFrames[i]))))) weights(k).total += nodeUs[node];
  }

  const analysis = await analyzeFile(path);
  const diffs = weightDifferences(ourWeights(analysis.profile), want, ['self', 'total']);
  if (diffs.length) assert.fail(`${path}: ${diffs.length} difference(s)\n  ${diffs.slice(0, 20).join('\n  ')}`);
  const wallUs = Math.max(input.endTime, input.sampleTime[n - 1]) - input.sampleTime[0];
  assert.ok(closeUs(analysis.totals.wallMs * 1000, wallUs), `wallMs ${analysis.totals.wallMs}, want ${wallUs / 1000}`);
  assert.equal(analysis.totals.samples, n);
});
