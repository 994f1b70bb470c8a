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
import type { Analysis } from '../src/model.js';
import { closeUs, keyOf, ourWeights, parseSnapshot, weightDifferences, type Identity, type Weights } from './snapshots.js';
import { corpus } from './support.js';

const speedscopeDir = join(corpus, 'speedscope');
const snapshotText = readFileSync(join(speedscopeDir, 'expected', 'chrome.test.ts.snap'), 'utf8');

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
