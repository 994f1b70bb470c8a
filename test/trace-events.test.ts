// Chrome trace events against independent oracles: speedscope's importer snapshots for every
// trace-event and Chrome timeline file of the corpus they cover, a plain JSON.parse computation for
// a Node `--trace-events-enabled` file recorded here and for loopscope's collector traces, and the
// .cpuprofile importer for a real profile re-packed as DevTools' Profile/ProfileChunk events in
// every layout (array, object, unterminated) read through tiny windows.
//
// Deliberate differences from speedscope, each applied in the test where it matters:
// - embedded CPU profiles keep V8's meaning: (program) and (garbage collector) are frames under
//   (root), where speedscope puts them on top of the previous sample's stack; (idle) is an idle
//   frame, where speedscope shows an empty stack; samples are put in time order, where speedscope
//   takes them in file order and turns a negative time delta into 0; the last sample lasts until the
//   profile's endTime when there is one, where speedscope gives it no time;
// - duration events: a frame is the event's name (plus file and line from Hermes-style args), where
//   speedscope appends the event's args to the name (in Node's and the collector's traces args hold
//   ids that differ in every event, which would make every slice a frame of its own); the time
//   between slices, which speedscope shows as an empty stack, is an (idle) frame;
// - the thread: speedscope shows every thread, loopscope analyses one (`--thread`, or the main one).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { analyzeFile, type AnalyzeOptions } from '../src/analyze.js';
import type { Profile } from '../src/model.js';
import { closeUs, keyOf, ourWeights, parseDuration, parseSnapshot, snapshotBody, snapshotValue, weightDifferences, type Weights } from './snapshots.js';
import { corpus, root, runCli, tempDir } from './support.js';

const speedscopeDir = join(corpus, 'speedscope');
const chromeSnapshots = readFileSync(join(speedscopeDir, 'expected', 'chrome.test.ts.snap'), 'utf8');
const traceSnapshots = readFileSync(join(speedscopeDir, 'expected', 'trace-event.test.ts.snap'), 'utf8');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function profileOf(path: string, options: AnalyzeOptions = {}): Promise<Profile> {
  return (await analyzeFile(path, options)).profile;
}

const fileOf = (url: string) => (url.startsWith('file://') ? fileURLToPath(url) : url);

// ---------------------------------------------------------------------------------------------
// Embedded CPU profiles (DevTools performance exports) against speedscope's Chrome snapshots

interface Sampled {
  nodes: Map<number, { name: string; url: string; identity: string; parent: number }>;
  samples: number[];
  deltas: number[];
  startTime: number;
  endTime: number;
}

/** The CPU profile of thread pid:tid, read whole: chunks merged in time order. */
function embeddedProfile(path: string, pid: number, tid: number): Sampled {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Obj;
  const events = (Array.isArray(parsed) ? parsed : parsed.traceEvents) as Obj[];
  const out: Sampled = { nodes: new Map(), samples: [], deltas: [], startTime: 0, endTime: -Infinity };
  const addNodes = (nodes: Obj[]) => {
    const parentOf = new Map<number, number>();
    for (const n of nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
    for (const n of nodes) {
      if (out.nodes.has(n.id)) continue;
      const f = n.callFrame;
      const name = f.functionName || '(anonymous)';
      const identity = keyOf({
        name,
        file: fileOf(f.url ?? ''),
        line: typeof f.lineNumber === 'number' && f.lineNumber >= 0 ? f.lineNumber + 1 : 0,
        col: typeof f.columnNumber === 'number' && f.columnNumber >= 0 ? f.columnNumber + 1 : 0,
      });
      out.nodes.set(n.id, { name, url: f.url ?? '', identity, parent: n.parent ?? parentOf.get(n.id) ?? -1 });
    }
  };
  const whole = events.find((e) => e.name === 'CpuProfile' && e.pid === pid && e.tid === tid);
  if (whole) {
    const cpu = whole.args.data.cpuProfile;
    addNodes(cpu.nodes);
    Object.assign(out, { samples: cpu.samples, deltas: cpu.timeDeltas, startTime: cpu.startTime, endTime: cpu.endTime });
    return out;
  }
  const begin = events.find((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid);
  assert.ok(begin, `${path}: no profile on ${pid}:${tid}`);
  out.startTime = begin.args.data.startTime;
  const chunks = events.filter((e) => e.name === 'ProfileChunk' && e.pid === pid && e.id === begin.id).sort((a, b) => a.ts - b.ts);
  for (const chunk of chunks) {
    const data = chunk.args.data;
    addNodes(data.cpuProfile.nodes ?? []);
    out.samples.push(...(data.cpuProfile.samples ?? []));
    out.deltas.push(...(data.timeDeltas ?? []));
    if (typeof data.endTime === 'number') out.endTime = data.endTime;
  }
  return out;
}

const SPECIAL_ON_TOP = new Set(['(program)', '(garbage collector)']);

/**
 * Per-frame weights of a sampled profile under either reading (see the differences at the top):
 * speedscope's (file order, a sample back in time held at the latest time so far, last sample 0,
 * (program)/(gc) on the previous stack, (idle) and V8's `native dummy.js` an empty stack) or
 * loopscope's (time order, V8's tree, last sample to endTime).
 */
function sampledWeights(p: Sampled, reading: 'speedscope' | 'loopscope'): { weights: Map<string, Weights>; totalUs: number } {
  const n = p.samples.length;
  const time: number[] = [];
  let clock = p.startTime;
  for (let i = 0; i < n; i++) time.push((clock += p.deltas[i]));
  // speedscope holds a sample that goes back in time at the latest time seen so far.
  const held = time.map((_, i) => Math.max(...time.slice(0, i + 1)));
  const order = [...Array(n).keys()];
  if (reading === 'loopscope') order.sort((a, b) => time[a] - time[b]);
  const position = new Map(order.map((k, at) => [k, at]));
  const duration = (k: number): number => {
    if (reading === 'speedscope') return k + 1 < n ? held[k + 1] - held[k] : 0;
    const at = position.get(k)!;
    return at + 1 < n ? time[order[at + 1]] - time[k] : Math.max(0, p.endTime - time[k]);
  };
  const ancestry = (id: number): number[] => {
    const out: number[] = [];
    for (let i = id; i >= 0 && p.nodes.has(i); i = p.nodes.get(i)!.parent) if (p.nodes.get(i)!.name !== '(root)') out.unshift(i);
    return out;
  };
  const weights = new Map<string, Weights>();
  const of = (k: string) => weights.get(k) ?? weights.set(k, { self: 0, total: 0 }).get(k)!;
  let previous: number[] = [];
  let totalUs = 0;
  for (const k of order) {
    const id = p.samples[k];
    const name = p.nodes.get(id)!.name;
    let stack: number[];
    if (reading === 'loopscope') stack = ancestry(id);
    else if (name === '(idle)' || p.nodes.get(id)!.url === 'native dummy.js') stack = [];
    else if (SPECIAL_ON_TOP.has(name)) stack = previous.includes(id) ? previous.slice(0, previous.indexOf(id) + 1) : [...previous, id];
    else stack = ancestry(id);
    previous = stack;
    const us = duration(k);
    totalUs += us;
    if (stack.length === 0) continue;
    of(p.nodes.get(stack[stack.length - 1])!.identity).self += us;
    for (const identity of new Set(stack.map((i) => p.nodes.get(i)!.identity))) of(identity).total += us;
  }
  return { weights, totalUs };
}

function snapshotWeights(text: string, title: string, identify: (f: { name: string; file: string; line: number; col: number }) => string): Map<string, Weights> {
  const want = new Map<string, Weights>();
  for (const f of parseSnapshot(text, title).frames) {
    const k = identify(f);
    const w = want.get(k) ?? want.set(k, { self: 0, total: 0 }).get(k)!;
    w.self += f.selfWeight;
    w.total += f.totalWeight;
  }
  return want;
}

const CHROME_CASES = [
  { title: 'importFromChromeTimeline 1', file: 'Chrome/65/simple-timeline.json', pid: 7792, tid: 775, thread: undefined },
  { title: 'importFromChromeTimeline chunked 1', file: 'Chrome/65/simple-timeline.json', pid: 7792, tid: 775, thread: undefined },
  { title: 'importFromChromeTimeline Chrome 69 1', file: 'Chrome/69/simple.json', pid: 85129, tid: 775, thread: undefined },
  { title: 'importFromChromeTimeline Workers Chrome 66 1', file: 'Chrome/66/worker.json', pid: 30834, tid: 30851, thread: undefined },
  { title: 'importFromChromeTimeline Workers Chrome 66 2', file: 'Chrome/66/worker.json', pid: 30834, tid: 31089, thread: 'DedicatedWorker thread' },
  { title: 'importFromChromeTimeline Workers Chrome 70 1', file: 'Chrome/70/worker.json', pid: 29018, tid: 775, thread: 'CrRendererMain' },
  { title: 'importFromChromeTimeline Workers Chrome 70 2', file: 'Chrome/70/worker.json', pid: 29018, tid: 7443, thread: '7443' },
];

for (const c of CHROME_CASES) {
  test(`speedscope snapshot "${c.title}": per-frame weights of the embedded CPU profile`, async () => {
    const path = join(speedscopeDir, c.file);
    const input = embeddedProfile(path, c.pid, c.tid);
    // The oracle's speedscope reading reproduces the snapshot...
    // speedscope names an anonymous function after its place, "(anonymous simple.js:1)".
    const want = snapshotWeights(chromeSnapshots, c.title, (f) => keyOf({ ...f, name: f.name.replace(/^\(anonymous .*:\d+\)$/, '(anonymous)'), file: fileOf(f.file) }));
    const theirs = sampledWeights(input, 'speedscope');
    const diffs = weightDifferences(theirs.weights, want, ['self', 'total']);
    if (diffs.length) assert.fail(`${c.title}: the speedscope reading of ${path} differs from the snapshot:\n  ${diffs.join('\n  ')}`);
    // ...and its loopscope reading is what loopscope imports.
    const profile = await profileOf(path, { thread: c.thread });
    assert.match(profile.format, new RegExp(`CPU profile of thread .*pid ${c.pid}, tid ${c.tid}\\)`));
    const ours = sampledWeights(input, 'loopscope');
    const ourDiffs = weightDifferences(ourWeights(profile), ours.weights, ['self', 'total']);
    if (ourDiffs.length) assert.fail(`${c.title}: ${path}:\n  ${ourDiffs.join('\n  ')}`);
    const selfUs = profile.nodeSelfMs.reduce((s, ms) => s + ms * 1000, 0);
    assert.ok(closeUs(selfUs, ours.totalUs), `total ${selfUs} µs, want ${ours.totalUs}`);
    assert.equal(
      profile.nodeSamples.reduce((s, x) => s + x, 0),
      input.samples.length,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Duration events (B/E/X) and the format's own samples against speedscope's trace-event snapshots

/** speedscope names a slice frame "name {args}"; loopscope's frame is the name alone. */
const sliceName = (name: string) => (name.includes(' {') ? name.slice(0, name.indexOf(' {')) : name);

/** Per-name weights from a snapshot's folded stacks (its frames' totals cannot be merged by name). */
function stackWeights(title: string): { weights: Map<string, Weights>; emptyUs: number; totalUs: number; roundingUs: number } {
  const body = snapshotBody(traceSnapshots, title);
  const start = body.indexOf('"stacks": [');
  const lines = body.startsWith('"stacks": [],', start) ? [] : body.slice(start).split('\n').slice(1);
  const weights = new Map<string, Weights>();
  let emptyUs = 0;
  let totalUs = 0;
  let roundingUs = 0;
  for (const line of lines) {
    const t = line.trim();
    if (t.startsWith(']')) break;
    const folded = snapshotValue(t.replace(/,$/, '')) as string;
    const space = folded.lastIndexOf(' ');
    const { us, roundingUs: r } = parseDuration(folded.slice(space + 1));
    totalUs += us;
    roundingUs += r;
    const stack = folded.slice(0, space);
    if (stack === '') {
      emptyUs += us;
      continue;
    }
    const names = stack.split(';').map(sliceName);
    const leaf = weights.get(names[names.length - 1]) ?? weights.set(names[names.length - 1], { self: 0, total: 0 }).get(names[names.length - 1])!;
    leaf.self += us;
    for (const name of new Set(names)) (weights.get(name) ?? weights.set(name, { self: 0, total: 0 }).get(name)!).total += us;
  }
  return { weights, emptyUs, totalUs, roundingUs };
}

const TRACE_CASES: { title: string; file: string; thread?: string }[] = [
  { title: 'BEX interaction 1', file: 'bex-interaction.json' },
  { title: 'bad E events 1', file: 'too-many-end-events.json' },
  { title: 'different number of start and end calls to same function at same timestamp 1', file: 'simultaneous-anonymous-calls.json' },
  { title: 'end event with empty stack 1', file: 'end-event-with-empty-stack.json' },
  { title: 'end-non-top-of-stack 1', file: 'end-non-top-of-stack.json' },
  { title: 'event re-ordering 1', file: 'must-retain-original-order.json' },
  { title: 'event reordering name match 1', file: 'event-reordering-name-match.json' },
  { title: 'hermes profile with multiple frames 1', file: 'simple-hermes.json' },
  { title: 'simple hermes profile 1', file: 'simple-hermes.json' },
  { title: 'invalid x nesting 1', file: 'invalid-x-nesting.json' },
  { title: 'matching x 1', file: 'matching-x.json' },
  { title: 'mismatched args 1', file: 'mismatched-args.json' },
  { title: 'mismatched name 1', file: 'mismatched-name.json' },
  { title: 'multiprocess 1', file: 'multiprocess.json' },
  { title: 'multiprocess 2', file: 'multiprocess.json', thread: 'p0t1' },
  { title: 'multiprocess 3', file: 'multiprocess.json', thread: 'p1t0' },
  { title: 'multiprocess 4', file: 'multiprocess.json', thread: 'p1t1' },
  { title: 'multiprocess 5', file: 'multiprocess.json', thread: 'p2t0' },
  { title: 'multiprocess 6', file: 'multiprocess.json', thread: 'P2T1' },
  { title: 'multiprocess 7', file: 'multiprocess.json', thread: '3:0' },
  { title: 'multiprocess 8', file: 'multiprocess.json', thread: '3:1' },
  { title: 'not enough end events 1', file: 'not-enough-end-events.json' },
  { title: 'not out-of-order 1', file: 'out-of-order.json' },
  { title: 'not out-of-order unbalanced name 1', file: 'out-of-order-unbalanced-name.json' },
  { title: 'only begin events 1', file: 'only-begin-events.json' },
  { title: 'partial json import 1', file: 'simple-partial.json' },
  { title: 'partial json import chunked 1', file: 'simple-partial.json' },
  { title: 'partial json import trailing comma 1', file: 'simple-partial-trailing-comma.json' },
  { title: 'partial json import trailing comma chunked 1', file: 'simple-partial-trailing-comma.json' },
  { title: 'partial json import whitespace padding 1', file: 'simple-partial-whitespace.json' },
  { title: 'partial json import whitespace padding chunked 1', file: 'simple-partial-whitespace.json' },
  { title: 'simple 1', file: 'simple.json' },
  { title: 'simple object 1', file: 'simple-object.json' },
  { title: 'unbalanced args 1', file: 'unbalanced-args.json' },
  { title: 'unbalanced name 1', file: 'unbalanced-name.json' },
  { title: 'x events matching end 1', file: 'x-events-matching-end.json' },
  { title: 'x events matching start 1', file: 'x-events-matching-start.json' },
  { title: 'zero duration events 1', file: 'zero-duration-events.json' },
  { title: 'simple profile with samples 1', file: 'simple-with-samples.json' },
  { title: 'multi-thread profile with samples 1', file: 'multi-thread-with-samples.json', thread: '1' },
  { title: 'multi-thread profile with samples 2', file: 'multi-thread-with-samples.json', thread: '2' },
];

test('every trace-event file of the corpus is covered by a snapshot case, but one without a snapshot', () => {
  const covered = new Set(TRACE_CASES.map((c) => c.file));
  const files = readdirSync(join(speedscopeDir, 'trace-event')).filter((f) => f.endsWith('.json'));
  assert.deepEqual(files.filter((f) => !covered.has(f)), ['hermes-multiple-frames.json']);
});

for (const c of TRACE_CASES) {
  test(`speedscope snapshot "importTraceEvents ${c.title}": per-name weights`, async () => {
    const title = `importTraceEvents ${c.title}`;
    const path = join(speedscopeDir, 'trace-event', c.file);
    const snapshot = parseSnapshot(traceSnapshots, title);
    const fromStacks = stackWeights(title);
    // Self weights add up by name exactly; totals come from the folded stacks.
    const want = new Map<string, Weights>();
    for (const f of snapshot.frames) {
      const name = sliceName(f.name);
      // A frame's own total is exact; frames that share a name add up only through the stacks.
      const alone = snapshot.frames.filter((g) => sliceName(g.name) === name).length === 1;
      const w = want.get(name) ?? want.set(name, { self: 0, total: alone ? f.totalWeight : (fromStacks.weights.get(name)?.total ?? 0) }).get(name)!;
      w.self += f.selfWeight;
    }
    const profile = await profileOf(path, { thread: c.thread });
    const got = ourWeights(profile, (f) => f.name);
    const idle = got.get('(idle)');
    got.delete('(idle)');
    const diffs = weightDifferences(got, want, ['self', 'total']);
    if (diffs.length) assert.fail(`${title} (${path}):\n  ${diffs.join('\n  ')}`);
    // speedscope's empty stacks are loopscope's (idle); the wall time is the snapshot's total.
    assert.ok(Math.abs((idle?.self ?? 0) - fromStacks.emptyUs) <= fromStacks.roundingUs, `(idle) ${idle?.self} µs, empty stacks ${fromStacks.emptyUs} µs`);
    const wallUs = (profile.endMs - profile.startMs) * 1000;
    assert.ok(Math.abs(wallUs - fromStacks.totalUs) <= fromStacks.roundingUs, `wall ${wallUs} µs, stacks ${fromStacks.totalUs} µs`);
    // Frames with a place (Hermes args) keep it.
    for (const f of snapshot.frames.filter((x) => x.file)) {
      assert.ok(
        profile.frames.some((g) => g.name === f.name && g.file === f.file && g.line === f.line && g.column === f.col),
        `${title}: frame ${f.name} at ${f.file}:${f.line}:${f.col} not found`,
      );
    }
  });
}

test('the thread speedscope shows first is the default where the rule agrees; --thread lists the threads when it matches none', async () => {
  assert.match((await profileOf(join(speedscopeDir, 'trace-event', 'multiprocess.json'))).format, /"p0t0" \(p0, pid 0, tid 0\)/);
  const r = runCli(['analyze', join(speedscopeDir, 'trace-event', 'multiprocess.json'), '--thread', 'p9t9']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /--thread "p9t9" matches no thread; threads with a profile or duration events: "p0t0" \(pid 0, tid 0: 1 duration events\), .*\(pid 3, tid 1: 1 duration events\)/);
  const w = runCli(['analyze', join(speedscopeDir, 'Chrome', '66', 'worker.json'), '--thread', 'NoSuchThread']);
  assert.equal(w.code, 2);
  assert.match(w.stderr, /"CrRendererMain" \(pid 30834, tid 30851: CPU profile, 4447 samples\)/);
});

// ---------------------------------------------------------------------------------------------
// Real traces: Node's own trace events and loopscope's collector, against a plain computation

interface Interval {
  name: string;
  start: number;
  end: number;
}

/**
 * A thread's slices, read whole; null unless they nest properly (then the plain sums below are exact:
 * overlapping slices that do not nest are read the speedscope way, tested on the corpus above).
 */
function slicesOf(path: string, pid: number, tid: number): Interval[] | null {
  const events = (JSON.parse(readFileSync(path, 'utf8')) as Obj).traceEvents as Obj[];
  const out: Interval[] = [];
  const open = new Map<string, number[]>();
  for (const e of events) {
    if (e.pid !== pid || e.tid !== tid) continue;
    if (e.ph === 'X') out.push({ name: e.name, start: e.ts, end: e.ts + (e.dur ?? 0) });
    else if (e.ph === 'B') (open.get(e.name) ?? open.set(e.name, []).get(e.name)!).push(e.ts);
    else if (e.ph === 'E') {
      const start = open.get(e.name)?.pop();
      assert.ok(start !== undefined, `${path}: E ${e.name} at ${e.ts} closes nothing`);
      out.push({ name: e.name, start, end: e.ts });
    }
  }
  out.sort((a, b) => a.start - b.start || b.end - a.end);
  const stack: Interval[] = [];
  for (const s of out) {
    while (stack.length && stack[stack.length - 1].end <= s.start) stack.pop();
    if (stack.length && s.end > stack[stack.length - 1].end) return null;
    stack.push(s);
  }
  return out;
}

/** Length of the union of intervals. */
function unionUs(intervals: Interval[]): number {
  let total = 0;
  let end = -Infinity;
  for (const s of [...intervals].sort((a, b) => a.start - b.start)) {
    if (s.end <= end) continue;
    total += s.end - Math.max(s.start, end);
    end = s.end;
  }
  return total;
}

/** Busy time = union of all slices; each name's total = union of its slices; wall = first to last. */
function checkSlices(profile: Profile, slices: Interval[]): void {
  const got = ourWeights(profile, (f) => f.name);
  const busyUs = profile.nodeSelfMs.reduce((s, ms, node) => s + (profile.frames[profile.nodeFrame[node]].kind === 'idle' ? 0 : ms * 1000), 0);
  assert.ok(Math.abs(busyUs - unionUs(slices)) < 1e-3, `busy ${busyUs} µs, slices cover ${unionUs(slices)} µs`);
  for (const name of new Set(slices.map((s) => s.name))) {
    const want = unionUs(slices.filter((s) => s.name === name));
    assert.ok(Math.abs((got.get(name)?.total ?? 0) - want) < 1e-3, `${name}: total ${got.get(name)?.total} µs, want ${want}`);
  }
  const first = slices.reduce((m, s) => Math.min(m, s.start), Infinity);
  const last = slices.reduce((m, s) => Math.max(m, s.end), -Infinity);
  assert.ok(Math.abs((profile.endMs - profile.startMs) * 1000 - (last - first)) < 1e-3);
}

test('a Node --trace-events-enabled file recorded here: the main thread, its slices summed as JSON.parse sees them', async () => {
  const dir = tempDir();
  const program = 'let s = 0; for (let i = 0; i < 2e6; i++) s += Math.sqrt(i); setTimeout(() => { JSON.stringify(new Array(2e5).fill({ a: 1 })); }, 5);';
  const r = spawnSync(process.execPath, ['--trace-events-enabled', '--trace-event-categories', 'v8,node,node.async_hooks,node.perf', '-e', program], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const path = join(dir, 'node_trace.1.log');
  const events = (JSON.parse(readFileSync(path, 'utf8')) as Obj).traceEvents as Obj[];
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'JavaScriptMainThread');
  assert.ok(main, 'Node names its main thread');
  assert.ok(new Set(events.map((e) => e.tid)).size > 1, 'the trace has several threads');
  const profile = await profileOf(path);
  assert.match(profile.format, new RegExp(`duration events of thread "JavaScriptMainThread" \\(.*node, pid ${main.pid}, tid ${main.tid}\\)`));
  const slices = slicesOf(path, main.pid, main.tid);
  assert.ok(slices && slices.length > 10, `Node's slices nest: ${slices?.length}`);
  checkSlices(profile, slices);
  // The same through the command line, with the thread chosen by its tid.
  const cli = runCli(['analyze', path, '--json', '--thread', String(main.tid)]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.ok(Math.abs(JSON.parse(cli.stdout).totals.wallMs - (profile.endMs - profile.startMs)) < 1e-6);
});

test("loopscope's own collector traces: the main thread's callbacks summed as JSON.parse sees them", async () => {
  const traces = join(root, 'traces');
  let checked = 0;
  let read = 0;
  for (const dir of readdirSync(traces).filter((d) => !d.includes('.'))) {
    for (const file of readdirSync(join(traces, dir)).filter((f) => /^\d+\.trace\.json$/.test(f))) {
      const path = join(traces, dir, file);
      const pid = Number(file.split('.')[0]);
      const profile = await profileOf(path);
      assert.match(profile.format, new RegExp(`duration events of thread "main" \\(.*pid ${pid}, tid ${pid}\\)`));
      read++;
      const slices = slicesOf(path, pid, pid);
      if (!slices?.length) continue;
      checkSlices(profile, slices);
      checked++;
    }
  }
  assert.ok(read >= 8 && checked >= 3, `${read} collector traces read, ${checked} checked against the plain sums`);
});

test('a large generated thread of slices (200 000 X events with nested B/E pairs), unterminated', async () => {
  const dir = tempDir();
  const path = join(dir, 'slices.json');
  const events: string[] = [];
  let ts = 1e9;
  for (let i = 0; i < 200_000; i++) {
    const dur = 1 + (i % 7);
    events.push(
      JSON.stringify({ pid: 7, tid: 7, ph: 'X', name: `task${i % 5}`, ts, dur, args: { id: i } }),
      JSON.stringify({ pid: 7, tid: 7, ph: 'B', name: 'inner', ts: ts + 0.5, args: { id: i } }),
      JSON.stringify({ pid: 7, tid: 7, ph: 'E', name: 'inner', ts: ts + 0.75 }),
    );
    ts += dur + 1;
  }
  writeFileSync(path, `{"traceEvents":[${events.join(',\n')}]}`);
  const slices = slicesOf(path, 7, 7);
  assert.ok(slices);
  const profile = await profileOf(path);
  checkSlices(profile, slices);
  // The same events as an unterminated array.
  writeFileSync(path, `[${events.join(',\n')},\n`);
  const again = await profileOf(path);
  assert.deepEqual(again.nodeSelfMs, profile.nodeSelfMs);
});

// ---------------------------------------------------------------------------------------------
// Generated layouts: a real CPU profile re-packed as DevTools writes it

/** A .cpuprofile as Profile + ProfileChunk events (nodes introduced as first sampled), with noise. */
function devtoolsEvents(cpuprofile: Obj, chunkSamples: number): Obj[] {
  const pid = 4242;
  const tid = 1;
  const byId = new Map<number, Obj>(cpuprofile.nodes.map((n: Obj) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of cpuprofile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const events: Obj[] = [
    { pid, tid, ph: 'M', name: 'process_name', args: { name: 'Renderer "quoted" \\ {braces} [brackets]' } },
    { pid, tid, ph: 'M', name: 'thread_name', args: { name: 'CrRendererMain' } },
    { pid, tid: 2, ph: 'M', name: 'thread_name', args: { name: 'Compositor ✓ 漢字' } },
    { pid, tid, ph: 'P', name: 'Profile', id: '0x1', ts: cpuprofile.startTime, args: { data: { startTime: cpuprofile.startTime } } },
  ];
  const introduced = new Set<number>();
  const introduce = (id: number, into: Obj[]) => {
    const chain: number[] = [];
    for (let i: number | undefined = id; i !== undefined && !introduced.has(i); i = parentOf.get(i)) chain.unshift(i);
    for (const i of chain) {
      introduced.add(i);
      const n = byId.get(i)!;
      into.push({ id: i, callFrame: n.callFrame, ...(parentOf.has(i) ? { parent: parentOf.get(i) } : {}), ...(n.positionTicks ? { positionTicks: n.positionTicks } : {}) });
    }
  };
  let ts = cpuprofile.startTime;
  for (let k = 0; k < cpuprofile.samples.length; k += chunkSamples) {
    const samples = cpuprofile.samples.slice(k, k + chunkSamples);
    const timeDeltas = cpuprofile.timeDeltas.slice(k, k + chunkSamples);
    const nodes: Obj[] = [];
    for (const s of samples) introduce(s, nodes);
    ts += timeDeltas.reduce((a: number, b: number) => a + b, 0);
    const last = k + chunkSamples >= cpuprofile.samples.length;
    events.push({
      pid,
      tid: 99,
      ph: 'P',
      name: 'ProfileChunk',
      id: '0x1',
      ts,
      cat: 'disabled-by-default-v8.cpu_profiler',
      args: { data: { cpuProfile: { nodes, samples }, timeDeltas, ...(last ? { endTime: cpuprofile.endTime } : {}) } },
    });
    // Slices on another thread, with strings that hold JSON's structural characters.
    events.push({ pid, tid: 2, ph: 'X', name: 'Draw {"frame"} [x]', ts, dur: 3.25, args: { note: 'a "}" and a \\ and ]]' } });
  }
  return events;
}

/** A copy with every object's keys in alphabetical order, as Chrome's own JSON writer has them. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Obj)[k])]));
}

function layouts(events: Obj[]): Record<string, string> {
  const lines = events.map((e) => JSON.stringify(e));
  const pretty = events.map((e) => JSON.stringify(e, null, 1));
  return {
    array: `[${lines.join(',\n')}]\n`,
    object: `{"metadata": {"source": "DevTools ] }"}, "traceEvents": [\n${pretty.join(',\n')}\n], "other": [1, 2]}`,
    unterminated: `[\n${lines.join(',\n')},\n`,
    // "args" (nested) before "ph", "pid" and "tid".
    'sorted keys': `[${events.map((e) => JSON.stringify(sortKeys(e))).join(',')}]`,
    'unterminated, bare': `[${lines.join(',')}`,
    // Cut in the middle of a last (noise) event, as a killed writer leaves it.
    'unterminated, partial last event': `[\n${lines.join(',\n')},\n${lines[2].slice(0, 30)}`,
  };
}

test('a real CPU profile as DevTools Profile/ProfileChunk events: the .cpuprofile importer\'s result, in every layout and window', async () => {
  const dir = tempDir();
  const cpuprofilePath = join(root, 'traces', 'blocking-sleep', readdirSync(join(root, 'traces', 'blocking-sleep')).find((f) => f.endsWith('.cpuprofile'))!);
  const cpuprofile = JSON.parse(readFileSync(cpuprofilePath, 'utf8')) as Obj;
  const direct = await profileOf(cpuprofilePath);
  const want = ourWeights(direct);
  const events = devtoolsEvents(cpuprofile, 97);
  let reference: Profile | undefined;
  for (const [name, text] of Object.entries(layouts(events))) {
    const path = join(dir, `${name.replace(/\W+/g, '-')}.json`);
    writeFileSync(path, text);
    for (const windowBytes of [7, 61, 4096, undefined]) {
      const profile = await profileOf(path, { windowBytes });
      const where = `${name}, window ${windowBytes ?? 'default'}`;
      assert.match(profile.format, /CPU profile of thread "CrRendererMain" \(Renderer "quoted" \\ \{braces\} \[brackets\], pid 4242, tid 1\)/, where);
      if (name.startsWith('unterminated')) assert.match(profile.format, /unterminated/, where);
      const diffs = weightDifferences(ourWeights(profile), want, ['self', 'total']);
      if (diffs.length) assert.fail(`${where}:\n  ${diffs.slice(0, 10).join('\n  ')}`);
      reference ??= profile;
      assert.deepEqual(profile.nodeSelfMs, reference.nodeSelfMs, where);
      assert.deepEqual(profile.timeline, reference.timeline, where);
      assert.deepEqual(profile.nodeLineTicks, reference.nodeLineTicks, where);
      assert.equal(profile.endMs, direct.endMs, where);
    }
  }
  // The other thread's slices, by name (Unicode and all), from the same files.
  for (const windowBytes of [5, undefined]) {
    const profile = await profileOf(join(dir, 'unterminated-partial-last-event.json'), { thread: 'compositor ✓ 漢字', windowBytes });
    const draw = ourWeights(profile, (f) => f.name).get('Draw {"frame"} [x]');
    assert.ok(draw && closeUs(draw.total, 3.25 * Math.ceil(cpuprofile.samples.length / 97)), JSON.stringify(draw));
  }
});

test("a chunk's per-sample `lines` become the node's line ticks, its deltas chain from the Profile's startTime", async () => {
  const dir = tempDir();
  const path = join(dir, 'lines.json');
  const frame = (functionName: string, url = '') => ({ functionName, url, scriptId: url ? 7 : 0, lineNumber: url ? 1 : -1, columnNumber: url ? 4 : -1 });
  const events = [
    { pid: 1, tid: 1, ph: 'P', name: 'Profile', id: '0x2', ts: 1000, args: { data: { startTime: 1000 } } },
    {
      pid: 1, tid: 5, ph: 'P', name: 'ProfileChunk', id: '0x2', ts: 1100,
      args: { data: { cpuProfile: { nodes: [{ id: 1, callFrame: frame('(root)') }, { id: 2, parent: 1, callFrame: frame('work', 'file:///srv/a.js') }], samples: [2, 2], lines: [3, 3] }, timeDeltas: [10, 20] } },
    },
    {
      pid: 1, tid: 5, ph: 'P', name: 'ProfileChunk', id: '0x2', ts: 1200,
      args: { data: { cpuProfile: { nodes: [{ id: 3, parent: 1, callFrame: frame('(idle)') }], samples: [2, 3], lines: [4, 0] }, timeDeltas: [30, 40], endTime: 1150 } },
    },
  ];
  writeFileSync(path, JSON.stringify(events));
  const profile = await profileOf(path);
  const work = profile.nodeFrame.findIndex((f) => profile.frames[f].name === 'work');
  assert.deepEqual([...profile.nodeLineTicks[work]!], [3, 2, 4, 1]);
  // Samples at 1010, 1030, 1060 (work) and 1100 (idle); the last lasts until endTime 1150.
  assert.deepEqual([...profile.nodeSelfMs].map((ms) => Math.round(ms * 1000)), [...profile.nodeFrame].map((f) => ({ work: 90, '(idle)': 50 })[profile.frames[f].name] ?? 0));
  assert.equal(profile.frames[profile.nodeFrame[work]].file, '/srv/a.js');
  assert.equal(profile.frames[profile.nodeFrame[work]].line, 2);
});

// ---------------------------------------------------------------------------------------------
// Bad input: one line, exit code 2

test('bad trace files are rejected with one line saying what and where', () => {
  const dir = tempDir();
  const cases: [string, string, RegExp][] = [
    ['[{"ph":"X","name":"a","ts":1,"dur":2,"pid":1,"tid":1},{"ph":"X","name":"b" "ts":3}]', 'bad-event', /the event at byte 54 is not valid JSON/],
    ['[{"ph":"X","name":"a","ts":1,"dur":2,"pid":1,"tid":1}, 42]', 'number', /event 1 at byte 55 is not an object \(starts with '4'\)/],
    ['[{"ph":"X","name":"a","ts":1,"dur":2,"pid":1,"tid":1}] x', 'trailing', /unexpected 'x' at byte 55 after the end of the event array/],
    ['{"traceEvents": [{"ph":"X","name":"a","ts":1', 'truncated-object', /truncated: the JSON document ends at byte 44 inside the value of "traceEvents"/],
    ['{"traceEvents": {"ph":"X"}}', 'not-array', /"traceEvents" at byte 16 is not an array/],
    ['[]', 'empty', /the event array is empty/],
    ['[{"ph":"i","name":"mark","ts":1,"pid":1,"tid":1}]', 'nothing', /no CPU profile and no duration \(B\/E\/X\) events in 1 events/],
    [
      '[{"ph":"P","name":"ProfileChunk","id":"0x1","pid":1,"tid":2,"ts":1,"args":{"data":{"cpuProfile":{"nodes":[{"id":1,"callFrame":{"functionName":"(root)"}}],"samples":[1]},"timeDeltas":[1]}}}]',
      'orphan-chunk',
      /ProfileChunk events of profile 0x1 without its Profile event/,
    ],
    [
      '[{"ph":"P","name":"Profile","id":"0x1","pid":1,"tid":1,"ts":0,"args":{"data":{"startTime":0}}},{"ph":"P","name":"ProfileChunk","id":"0x1","pid":1,"tid":2,"ts":1,"args":{"data":{"cpuProfile":{"nodes":[{"id":1,"callFrame":{"functionName":"(root)"}}],"samples":[1,7]},"timeDeltas":[1,1]}}}]',
      'unknown-node',
      /ProfileChunk at byte 95: samples\[1\] is 7, which is not a node id/,
    ],
    [
      '[{"ph":"P","name":"Profile","id":"0x1","pid":1,"tid":1,"ts":0,"args":{"data":{"startTime":0}}},{"ph":"P","name":"ProfileChunk","id":"0x1","pid":1,"tid":2,"ts":1,"args":{"data":{"cpuProfile":{"nodes":[{"id":1,"callFrame":{"functionName":"(root)"}}],"samples":[1,1]},"timeDeltas":[1]}}}]',
      'count-mismatch',
      /ProfileChunk at byte 95 has 2 samples but 1 timeDeltas/,
    ],
    [
      '[{"ph":"P","name":"Profile","id":"0x1","pid":1,"tid":1,"ts":0,"args":{"data":{"startTime":0}}},{"ph":"P","name":"ProfileChunk","id":"0x1","pid":1,"tid":2,"ts":1,"args":{"data":{"cpuProfile":{"nodes":[{"id":1,"callFrame":{"functionName":"(root)"}}],"samples":[1,1]},"timeDeltas":[1,"x"]}}}]',
      'bad-delta',
      /ProfileChunk at byte 95: "timeDeltas": unexpected '"' at byte 281/,
    ],
  ];
  for (const [text, name, message] of cases) {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, text);
    const r = runCli(['analyze', path]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, message, name);
  }
});
