// The V8 CPU profile a DevTools performance recording embeds in its trace: a `Profile` event (its
// thread and start time), then `ProfileChunk` events (new stack nodes with their `parent`, and the
// samples with their time deltas, chained across chunks), all sharing the profile's `id`. Older
// Chrome wrote the whole profile as one `CpuProfile` event. Pass 1 keeps only the nodes and where
// each chunk lies; pass 2 reads the chosen profile's chunks again and hands their samples to the
// core one by one, so memory follows the number of stack nodes, not of samples.

import type { ByteSource } from '../../core/source.js';
import { readRange } from '../../core/source.js';
import type { Core } from '../../core/wasm.js';
import { InputError, type Profile } from '../../model.js';
import { FrameTable } from '../frames.js';
import { beginTables, readTables, type Tree } from '../tables.js';
import { parseEvent } from './reader.js';

type Obj = Record<string, unknown>;

interface CallFrame {
  functionName?: unknown;
  scriptId?: unknown;
  url?: unknown;
  lineNumber?: unknown;
  columnNumber?: unknown;
}

interface RawNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
  positionTicks?: { line?: unknown; ticks?: unknown }[];
}

/** One embedded CPU profile, as pass 1 found it. */
export class EmbeddedProfile {
  /** The `pid:tid` of the thread it profiles ('' until its `Profile` event is seen). */
  thread = '';
  startTime = NaN;
  endTime = -Infinity;
  samples = 0;
  readonly nodes = new Map<number, RawNode>();
  /** Where the events holding samples lie, with their timestamps (chunks are fed in time order). */
  readonly chunks: { start: number; end: number; ts: number }[] = [];

  constructor(readonly id: string) {}

  addNodes(nodes: unknown, where: string, name: string): void {
    if (nodes === undefined) return;
    if (!Array.isArray(nodes)) throw new InputError(`${name}: ${where}: "nodes" is not an array`);
    for (const node of nodes as RawNode[]) {
      if (typeof node !== 'object' || node === null || !Number.isInteger(node.id)) {
        throw new InputError(`${name}: ${where}: a node without an integer "id"`);
      }
      if (typeof node.callFrame !== 'object' || node.callFrame === null) {
        throw new InputError(`${name}: ${where}: node ${node.id} has no callFrame`);
      }
      if (!this.nodes.has(node.id)) this.nodes.set(node.id, node);
    }
  }

  /** A `Profile` event: the profile's thread and start. */
  begin(event: Obj, thread: string): void {
    this.thread = thread;
    const data = dataOf(event);
    if (typeof data?.startTime === 'number') this.startTime = data.startTime;
  }

  /** A `ProfileChunk` event at [start, end); `sampleCount` when its samples were left unparsed. */
  chunk(event: Obj, start: number, end: number, name: string, sampleCount?: number): void {
    const data = dataOf(event);
    const cpu = data?.cpuProfile as Obj | undefined;
    this.addNodes(cpu?.nodes, `ProfileChunk at byte ${start}`, name);
    const samples = cpu?.samples;
    const count = sampleCount ?? (Array.isArray(samples) ? samples.length : 0);
    if (count > 0) {
      this.samples += count;
      this.chunks.push({ start, end, ts: Number(event.ts) || 0 });
    }
    if (typeof data?.endTime === 'number') this.endTime = data.endTime;
  }

  /** A `CpuProfile` event: the whole profile in one. */
  whole(event: Obj, start: number, end: number, thread: string, name: string): void {
    const cpu = dataOf(event)?.cpuProfile as Obj | undefined;
    if (typeof cpu !== 'object' || cpu === null) throw new InputError(`${name}: CpuProfile event at byte ${start} has no args.data.cpuProfile`);
    this.thread = thread;
    this.addNodes(cpu.nodes, `CpuProfile at byte ${start}`, name);
    if (typeof cpu.startTime === 'number') this.startTime = cpu.startTime;
    if (typeof cpu.endTime === 'number') this.endTime = cpu.endTime;
    this.samples += Array.isArray(cpu.samples) ? cpu.samples.length : 0;
    this.chunks.push({ start, end, ts: Number(event.ts) || 0 });
  }
}

// A chunk's bulk is its number arrays. Pass 1 parses the chunk without them (it needs only the
// nodes and a count), pass 2 parses only them: each byte of a large trace is parsed once.
const BULK_KEYS = ['samples', 'timeDeltas', 'lines'] as const;
type Bulk = Partial<Record<(typeof BULK_KEYS)[number], { start: number; end: number }>>;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Where `"key": [...]` lies in a ProfileChunk's text, when it holds no nested value. */
function findNumberArray(text: string, key: string): { start: number; end: number } | undefined {
  const quoted = `"${key}"`;
  for (let at = text.indexOf(quoted); at >= 0; at = text.indexOf(quoted, at + 1)) {
    let p = at + quoted.length;
    while (isSpace(text.charCodeAt(p))) p++;
    if (text.charCodeAt(p++) !== 0x3a) continue; // a string "samples", not the key
    while (isSpace(text.charCodeAt(p))) p++;
    if (text.charCodeAt(p) !== 0x5b) continue;
    const end = text.indexOf(']', p);
    const open = text.indexOf('[', p + 1);
    const quote = text.indexOf('"', p);
    // Numbers only: nothing nested, no string before the closing bracket.
    if (end < 0 || (open >= 0 && open < end) || (quote >= 0 && quote < end)) return undefined;
    return { start: p, end: end + 1 };
  }
  return undefined;
}

/** The number arrays of a ProfileChunk event's text (undefined: not one, or not plainly laid out). */
function bulkOf(text: string): Bulk | undefined {
  if (!text.includes('"ProfileChunk"')) return undefined;
  const bulk: Bulk = {};
  for (const key of BULK_KEYS) bulk[key] = findNumberArray(text, key);
  return bulk.samples ? bulk : undefined;
}

function countNumbers(text: string, range: { start: number; end: number }): number {
  let commas = 0;
  for (let at = text.indexOf(',', range.start); at >= 0 && at < range.end; at = text.indexOf(',', at + 1)) commas++;
  return commas > 0 || /\d/.test(text.slice(range.start, Math.min(range.end, range.start + 32))) ? commas + 1 : 0;
}

/**
 * Pass 1 of a large ProfileChunk: the event parsed without its number arrays, and its sample count;
 * undefined when the text is not laid out plainly enough (then it is parsed whole).
 */
export function chunkWithoutBulk(text: string): { event: Obj; samples: number } | undefined {
  const bulk = bulkOf(text);
  if (!bulk) return undefined;
  const ranges = Object.values(bulk).filter((r) => r !== undefined).sort((a, b) => a.start - b.start);
  let reduced = '';
  let from = 0;
  for (const r of ranges) {
    reduced += text.slice(from, r.start) + '[]';
    from = r.end;
  }
  reduced += text.slice(from);
  let event: unknown;
  try {
    event = JSON.parse(reduced);
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || (event as Obj).name !== 'ProfileChunk') return undefined;
  return { event: event as Obj, samples: countNumbers(text, bulk.samples!) };
}

function dataOf(event: Obj): Obj | undefined {
  const args = event.args as Obj | undefined;
  const data = args?.data;
  return typeof data === 'object' && data !== null ? (data as Obj) : undefined;
}

interface ProfileTree extends Tree {
  indexOfId: Map<number, number>;
}

/** Orders the nodes breadth-first from the roots, so parents precede children. */
function buildTree(profile: EmbeddedProfile, name: string): ProfileTree {
  const nodes = [...profile.nodes.values()];
  if (nodes.length === 0) throw new InputError(`${name}: the CPU profile ${profile.id} has no stack nodes`);
  const parentOf = new Map<number, number>();
  for (const node of nodes) {
    for (const child of Array.isArray(node.children) ? node.children : []) parentOf.set(child, node.id);
  }
  for (const node of nodes) {
    if (!parentOf.has(node.id) && typeof node.parent === 'number' && profile.nodes.has(node.parent)) parentOf.set(node.id, node.parent);
  }
  const childrenOf = new Map<number, number[]>();
  const order: number[] = [];
  for (const node of nodes) {
    const parent = parentOf.get(node.id);
    if (parent === undefined || !profile.nodes.has(parent)) order.push(node.id);
    else (childrenOf.get(parent) ?? childrenOf.set(parent, []).get(parent)!).push(node.id);
  }
  for (let head = 0; head < order.length; head++) for (const child of childrenOf.get(order[head]) ?? []) order.push(child);
  if (order.length !== nodes.length) throw new InputError(`${name}: the CPU profile ${profile.id} has a cycle (a node is its own ancestor)`);

  const indexOfId = new Map<number, number>();
  order.forEach((id, i) => indexOfId.set(id, i));
  const frames = new FrameTable();
  const nodeParent = new Int32Array(order.length);
  const nodeFrame = new Int32Array(order.length);
  const lineTicks: (Uint32Array | undefined)[] = new Array(order.length);
  order.forEach((id, i) => {
    const node = profile.nodes.get(id)!;
    const f = node.callFrame;
    const parent = parentOf.get(id);
    nodeParent[i] = parent === undefined ? -1 : (indexOfId.get(parent) ?? -1);
    nodeFrame[i] = frames.intern(
      String(f.functionName ?? ''),
      String(f.url ?? ''),
      typeof f.lineNumber === 'number' ? f.lineNumber : -1,
      typeof f.columnNumber === 'number' ? f.columnNumber : -1,
      String(f.scriptId ?? '0'),
    );
    const ticks = Array.isArray(node.positionTicks) ? node.positionTicks : [];
    if (ticks.length) lineTicks[i] = Uint32Array.from(ticks.flatMap((t) => [Number(t?.line) || 0, Number(t?.ticks) || 0]));
  });
  return { frames: frames.frames, nodeParent, nodeFrame, lineTicks, indexOfId };
}

/** Pass 2: the profile's samples through the core, chunk by chunk in time order. */
export async function importEmbeddedProfile(source: ByteSource, core: Core, profile: EmbeddedProfile, format: string): Promise<Profile> {
  const name = source.name;
  const tree = buildTree(profile, name);
  beginTables(core, tree, name);
  const c = core.exports;
  const decoder = new TextDecoder();
  const chunks = [...profile.chunks].sort((a, b) => a.ts - b.ts);
  const startTime = Number.isFinite(profile.startTime) ? profile.startTime : 0;
  // Per-sample source lines (`cpuProfile.lines`, newer Chrome): counted per node as positionTicks.
  const lineCounts = new Map<number, Map<number, number>>();
  let clock = startTime;
  let count = 0;
  c.pairBegin(1, startTime, profile.endTime);
  for (const chunk of chunks) {
    const text = decoder.decode(await readRange(source, chunk.start, chunk.end));
    const bulk = bulkOf(text);
    let samples: unknown;
    let deltas: unknown;
    let lines: unknown;
    let where: string;
    const part = (range: { start: number; end: number } | undefined) => (range ? parseEvent(name, text.slice(range.start, range.end), chunk.start) : undefined);
    if (bulk?.timeDeltas) {
      [samples, deltas, lines] = [part(bulk.samples), part(bulk.timeDeltas), part(bulk.lines)];
      where = `ProfileChunk at byte ${chunk.start}`;
    } else {
      const event = parseEvent(name, text, chunk.start) as Obj;
      const data = dataOf(event);
      const cpu = data?.cpuProfile as Obj | undefined;
      samples = cpu?.samples;
      // Chunks carry their deltas beside the cpuProfile; the whole-profile form inside it.
      deltas = data?.timeDeltas ?? cpu?.timeDeltas;
      lines = cpu?.lines;
      where = `${String(event.name)} at byte ${chunk.start}`;
    }
    if (!Array.isArray(samples)) continue;
    if (!Array.isArray(deltas) || deltas.length !== samples.length) {
      throw new InputError(`${name}: ${where} has ${samples.length} samples but ${Array.isArray(deltas) ? deltas.length : 'no'} timeDeltas`);
    }
    const perSampleLines = Array.isArray(lines) && lines.length === samples.length ? (lines as unknown[]) : undefined;
    for (let i = 0; i < samples.length; i++) {
      const delta = deltas[i];
      if (typeof delta !== 'number') throw new InputError(`${name}: ${where}: timeDeltas[${i}] is ${JSON.stringify(delta)}, not a number`);
      const node = profile.nodes.has(samples[i] as number) ? tree.indexOfId.get(samples[i] as number) : undefined;
      if (node === undefined) throw new InputError(`${name}: ${where}: samples[${i}] is ${JSON.stringify(samples[i])}, which is not a node id`);
      clock += delta;
      c.pushSample(node, clock);
      count++;
      const line = perSampleLines?.[i];
      if (typeof line === 'number' && line > 0) {
        const counts = lineCounts.get(node) ?? lineCounts.set(node, new Map()).get(node)!;
        counts.set(line, (counts.get(line) ?? 0) + 1);
      }
    }
  }
  c.pairFinish();
  if (count === 0) throw new InputError(`${name}: the CPU profile ${profile.id} has no samples`);
  for (const [node, counts] of lineCounts) {
    if (!tree.lineTicks[node]) tree.lineTicks[node] = Uint32Array.from([...counts].flat());
  }
  return readTables(core, tree, { source: name, format, startUs: startTime, endUs: Math.max(profile.endTime, clock) });
}
