// The speedscope export: valid against speedscope's own file-format schema, and exact. Its numbers
// are checked against the input read whole with JSON.parse: the "by stack" profile must hold each
// sampled stack node once with its summed time, the timeline profile the runs of one stack in time
// order (or, past its cap, buckets that still add up), and both must total the analysis' wall time.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readInput, type InputCallFrame } from './v8-input.js';
import { Ajv, type ValidateFunction } from 'ajv';
import { analyzeFile } from '../src/analyze.js';
import type { Analysis } from '../src/model.js';
import { speedscopeChunks } from '../src/reports/speedscope.js';
import { corpus, root, runCli, tempDir as newTempDir } from './support.js';

/** The timeline profile's cap (SPEC.md: "past a cap of about 100 k"). */
const TIMELINE_CAP = 131072;

const schemaPath = join(root, 'node_modules', 'speedscope', 'dist', 'release', 'file-format-schema.json');
let validator: ValidateFunction | undefined;
function validate(document: unknown, context: string): void {
  validator ??= new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);
  if (!validator(document)) {
    const errors = (validator.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    assert.fail(`${context}: not a valid speedscope file:\n  ${errors.join('\n  ')}`);
  }
}

interface ExportFrame {
  name: string;
  file?: string;
  line?: number;
  col?: number;
}
interface SampledProfile {
  type: string;
  name: string;
  unit: string;
  startValue: number;
  endValue: number;
  samples: number[][];
  weights: number[];
}
interface SpeedscopeFile {
  shared: { frames: ExportFrame[] };
  profiles: SampledProfile[];
}

// ---------------------------------------------------------------------------------------------
// The input, read whole (the `nodes` form and Node 10's nested `head` form)

type CallFrame = InputCallFrame;

interface Input {
  callFrames: CallFrame[];
  parent: number[];
  /** Samples in time order (a stable sort of file order): node index, time and duration in µs. */
  node: number[];
  time: number[];
  duration: number[];
}

function readSorted(path: string): Input {
  const { oldFormat, callFrames, parent, sampleNode, sampleTime, endTime } = readInput(path);
  const count = sampleNode.length;
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => sampleTime[a] - sampleTime[b] || a - b);
  const node = order.map((i) => sampleNode[i]);
  const time = order.map((i) => sampleTime[i]);
  // The last sample lasts until endTime when that is in µs (not Node 10's seconds) and later.
  const end = !oldFormat && endTime > time[count - 1] ? endTime : time[count - 1];
  const duration = time.map((s, k) => (k + 1 < count ? time[k + 1] : end) - s);
  return { callFrames, parent, node, time, duration };
}

/** A frame as the export should write it: file and 1-based line and column where the input has them. */
function frameKey(f: { name: string; file: string; line: number; col: number }): string {
  return JSON.stringify([f.name, f.file, f.line, f.col]);
}
function inputFrameKey(f: CallFrame): string {
  const url = f.url ?? '';
  return frameKey({
    name: f.functionName || '(anonymous)',
    file: url.startsWith('file://') ? fileURLToPath(url) : url,
    line: typeof f.lineNumber === 'number' && f.lineNumber >= 0 ? f.lineNumber + 1 : 0,
    col: typeof f.columnNumber === 'number' && f.columnNumber >= 0 ? f.columnNumber + 1 : 0,
  });
}
const exportFrameKey = (f: ExportFrame) => frameKey({ name: f.name, file: f.file ?? '', line: f.line ?? 0, col: f.col ?? 0 });

/** Root-first frames of a node's stack, (root) left out, as one string. */
function inputStack(input: Input, node: number): string {
  const keys: string[] = [];
  for (let i = node; i >= 0; i = input.parent[i]) if (input.callFrames[i].functionName !== '(root)') keys.push(inputFrameKey(input.callFrames[i]));
  return keys.reverse().join('\n');
}

// ---------------------------------------------------------------------------------------------
// The checks

async function exportOf(analysis: Analysis, name: string): Promise<{ text: string; file: SpeedscopeFile }> {
  let text = '';
  for (const chunk of speedscopeChunks(analysis, name)) text += chunk;
  return { text, file: JSON.parse(text) as SpeedscopeFile };
}

const closeRel = (got: number, want: number) => Math.abs(got - want) <= 1e-6 * Math.max(Math.abs(want), 1e-9);
const closeMs = (got: number, want: number) => Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want));

/** Sums weights per stack (several nodes may have stacks that look alike). */
function byStack(stacks: string[], weights: number[]): Map<string, number> {
  const out = new Map<string, number>();
  stacks.forEach((s, i) => out.set(s, (out.get(s) ?? 0) + weights[i]));
  return out;
}

async function checkExport(path: string): Promise<void> {
  const input = readSorted(path);
  const analysis = await analyzeFile(path);
  const { profile, totals } = analysis;
  const { file } = await exportOf(analysis, basename(path));
  validate(file, path);

  const frames = file.shared.frames;
  // Frames: exactly the input's (but (root)), each with its file and 1-based line and column.
  const want = new Set(input.callFrames.filter((f) => f.functionName !== '(root)').map(inputFrameKey));
  const got = new Set(frames.map(exportFrameKey));
  assert.deepEqual([...got].filter((k) => !want.has(k)), [], `${path}: export frames the input does not have`);
  assert.deepEqual([...want].filter((k) => !got.has(k)), [], `${path}: input frames missing from the export`);

  assert.equal(file.profiles.length, 2, `${path}: two profiles`);
  const [stacks, timeline] = file.profiles;
  for (const p of file.profiles) {
    assert.equal(p.samples.length, p.weights.length, `${path}: ${p.name}: one weight per sample`);
    p.samples.forEach((stack, i) => {
      for (const f of stack) assert.ok(Number.isInteger(f) && f >= 0 && f < frames.length, `${path}: ${p.name}: sample ${i} has frame ${f}`);
    });
    const sum = p.weights.reduce((s, w) => s + w, 0);
    assert.ok(closeRel(sum, totals.wallMs), `${path}: ${p.name}: weights sum to ${sum}, wallMs ${totals.wallMs}`);
    assert.ok(closeRel(p.endValue - p.startValue, sum), `${path}: ${p.name}: range ${p.startValue}..${p.endValue}, weights ${sum}`);
    for (const w of p.weights) assert.ok(Number.isFinite(w) && w >= 0, `${path}: ${p.name}: weight ${w}`);
  }
  const exportKeys = frames.map(exportFrameKey);
  const stackText = (stack: number[]) => stack.map((f) => exportKeys[f]).join('\n');
  const inputStacks = new Map<number, string>();
  const inputStackOf = (node: number) => inputStacks.get(node) ?? inputStacks.set(node, inputStack(input, node)).get(node)!;

  // By stack: one sample per sampled node, weighing what the input's samples of it add up to.
  const sampledNodes = [...new Set(input.node)];
  assert.equal(stacks.samples.length, sampledNodes.length, `${path}: by stack: one sample per node with samples`);
  const nodeUs = new Map<number, number>();
  input.node.forEach((n, k) => nodeUs.set(n, (nodeUs.get(n) ?? 0) + input.duration[k]));
  const wantStacks = byStack(
    sampledNodes.map(inputStackOf),
    sampledNodes.map((n) => nodeUs.get(n)! / 1000),
  );
  const gotStacks = byStack(stacks.samples.map(stackText), stacks.weights);
  assert.deepEqual([...gotStacks.keys()].sort(), [...wantStacks.keys()].sort(), `${path}: by stack: the stacks`);
  for (const [s, w] of wantStacks) assert.ok(closeMs(gotStacks.get(s)!, w), `${path}: by stack: ${s.replace(/\n/g, ' > ')}: ${gotStacks.get(s)} ms, want ${w}`);

  // Timeline: bounded, in time order, one sample per entry of the analysis' timeline.
  const tl = profile.timeline;
  assert.ok(timeline.samples.length <= TIMELINE_CAP, `${path}: timeline has ${timeline.samples.length} samples`);
  assert.equal(timeline.samples.length, tl.count, `${path}: timeline: one sample per timeline entry`);
  const ourKeys = profile.frames.map((f) => (f.kind === 'root' ? '' : frameKey({ name: f.name, file: f.file, line: f.line, col: f.column })));
  const nodeStacks = new Map<number, string>();
  const nodeStack = (node: number) => {
    let s = nodeStacks.get(node);
    if (s === undefined) {
      const keys: string[] = [];
      for (let i = node; i >= 0; i = profile.nodeParent[i]) if (ourKeys[profile.nodeFrame[i]]) keys.push(ourKeys[profile.nodeFrame[i]]);
      nodeStacks.set(node, (s = keys.reverse().join('\n')));
    }
    return s;
  };
  for (let k = 0; k < tl.count; k++) {
    assert.equal(stackText(timeline.samples[k]), nodeStack(tl.node[k]), `${path}: timeline sample ${k}: stack`);
    assert.equal(timeline.weights[k], tl.duration[k], `${path}: timeline sample ${k}: weight`);
    if (k > 0) {
      assert.ok(tl.start[k] >= tl.start[k - 1], `${path}: timeline entry ${k} starts at ${tl.start[k]}, before entry ${k - 1} (${tl.start[k - 1]})`);
      assert.ok(closeMs(tl.start[k - 1] + tl.duration[k - 1], tl.start[k]), `${path}: timeline entry ${k - 1} ends at ${tl.start[k - 1] + tl.duration[k - 1]}, entry ${k} starts at ${tl.start[k]}`);
    }
  }
  if (tl.count) assert.ok(closeMs(tl.start[0], input.time[0] / 1000), `${path}: timeline starts at ${tl.start[0]}, first sample at ${input.time[0] / 1000}`);

  // Under the cap, the timeline is exactly the input's runs of one stack node, in time order.
  const runs: { node: number; us: number }[] = [];
  input.node.forEach((n, k) => {
    if (runs.length && runs[runs.length - 1].node === n) runs[runs.length - 1].us += input.duration[k];
    else runs.push({ node: n, us: input.duration[k] });
  });
  if (runs.length <= TIMELINE_CAP) {
    assert.equal(tl.resolutionMs, 0, `${path}: timeline coarsened although ${runs.length} runs fit`);
    assert.equal(timeline.samples.length, runs.length, `${path}: timeline: one sample per run`);
    runs.forEach((run, k) => {
      assert.equal(stackText(timeline.samples[k]), inputStackOf(run.node), `${path}: timeline run ${k}: stack`);
      assert.ok(closeMs(timeline.weights[k], run.us / 1000), `${path}: timeline run ${k}: ${timeline.weights[k]} ms, want ${run.us / 1000}`);
    });
  } else {
    assert.ok(tl.resolutionMs > 0, `${path}: ${runs.length} runs, yet the timeline is not coarsened`);
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs

const CORPUS_PROFILES = [
  join(corpus, 'speedscope', 'Chrome', '65', 'simple.cpuprofile'),
  join(corpus, 'speedscope', 'Chrome', '65', 'sucrase.cpuprofile'),
  join(corpus, 'speedscope', 'node', '10.11.0', 'example.cpuprofile'),
];

for (const path of CORPUS_PROFILES) {
  test(`speedscope export of ${basename(join(path, '..', '..'))}/${basename(join(path, '..'))}/${basename(path)}`, () => checkExport(path));
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = newTempDir();
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const work = tempDir();

test('speedscope export of a profile recorded with node --cpu-prof (busy, then idle on a timer)', async () => {
  const dir = join(work, 'recorded');
  const program = [
    'function spin(ms) { const end = Date.now() + ms; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1); return x; }',
    'function later() { spin(30); }',
    'spin(30);',
    'setTimeout(later, 40);',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '250', '-e', program], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  assert.ok(name, 'a profile was written');
  const path = join(dir, name);
  const input = readSorted(path);
  assert.ok(input.callFrames.some((f) => f.functionName === '(idle)'), 'the recording has idle samples');
  assert.ok(input.callFrames.some((f) => f.functionName === 'spin'), 'the recording has the busy function');
  await checkExport(path);
});

test('speedscope export past the timeline cap: buckets, still exact by stack', async () => {
  // 300 000 samples hopping between three stacks (one idle) in about 200 000 runs.
  const path = join(work, 'many-runs.cpuprofile');
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 3, 4] },
    { id: 2, callFrame: { functionName: '(idle)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 } },
    { id: 3, callFrame: { functionName: 'work', scriptId: '7', url: 'file:///srv/app/work.js', lineNumber: 4, columnNumber: 16 }, children: [5] },
    { id: 4, callFrame: { functionName: 'other', scriptId: '7', url: 'file:///srv/app/work.js', lineNumber: 20, columnNumber: 0 } },
    { id: 5, callFrame: { functionName: 'readSync', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 } },
  ];
  const count = 300_000;
  const samples = new Array<number>(count);
  const timeDeltas = new Array<number>(count);
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
  for (let i = 0; i < count; i++) {
    samples[i] = [2, 3, 4, 5][Math.floor(random() * 4)];
    timeDeltas[i] = 50 + Math.floor(random() * 2000);
  }
  writeFileSync(path, JSON.stringify({ nodes, startTime: 1_000_000, endTime: 1_000_000 + 2_000_000_000, samples, timeDeltas }));
  await checkExport(path);
});

// ---------------------------------------------------------------------------------------------
// Through the command line

test('analyze --speedscope writes a valid file, the same as the export', async () => {
  const dir = tempDir();
  const input = join(dir, 'simple.cpuprofile');
  copyFileSync(CORPUS_PROFILES[0], input);
  const out = join(dir, 'flame.speedscope.json');
  const r = runCli(['analyze', input, '--speedscope', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(out), 'the output file exists');
  const written = JSON.parse(readFileSync(out, 'utf8')) as SpeedscopeFile;
  validate(written, out);
  const { file } = await exportOf(await analyzeFile(input), basename(input));
  assert.deepEqual(written, file);
  assert.deepEqual(readdirSync(dir).sort(), ['flame.speedscope.json', 'simple.cpuprofile'], 'no temporary file left');
});

test('analyze --speedscope with an input that fails leaves no file and exits 2', () => {
  const whole = readFileSync(CORPUS_PROFILES[1]);
  // Cut inside "nodes", inside "samples", inside "timeDeltas" and one byte short.
  const cuts = [
    Math.floor(whole.length * 0.3),
    whole.indexOf('"samples"') + 5000,
    whole.indexOf('"timeDeltas"') + 5000,
    whole.length - 1,
  ];
  for (const cut of cuts) {
    const dir = tempDir();
    const input = join(dir, 'truncated.cpuprofile');
    writeFileSync(input, whole.subarray(0, cut));
    const r = runCli(['analyze', input, '--speedscope', join(dir, 'flame.json')]);
    assert.equal(r.code, 2, `cut at ${cut}: exit code (stderr: ${r.stderr})`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `cut at ${cut}: one line on stderr: ${r.stderr}`);
    assert.deepEqual(readdirSync(dir), ['truncated.cpuprofile'], `cut at ${cut}: nothing but the input left`);
  }
});

test('analyze --speedscope into a missing directory exits 2 and creates nothing', () => {
  const dir = tempDir();
  const input = join(dir, 'simple.cpuprofile');
  copyFileSync(CORPUS_PROFILES[0], input);
  const r = runCli(['analyze', input, '--speedscope', join(dir, 'missing', 'flame.json')]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.deepEqual(readdirSync(dir), ['simple.cpuprofile']);
});
