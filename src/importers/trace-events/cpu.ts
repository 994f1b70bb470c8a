// The V8 CPU profile a DevTools performance recording embeds in its trace: a `Profile` event (its
// thread and start time), then `ProfileChunk` events (new stack nodes with their `parent`, and the
// samples with their time deltas, chained across chunks), all sharing the profile's `id`. Older
// Chrome wrote the whole profile as one `CpuProfile` event. Pass 1 keeps only the nodes and where
// each chunk lies; pass 2 reads the chosen profile's chunks again and hands their samples to the
// core, so memory follows the number of stack nodes, not of samples. Pass 1 finds a chunk's parts
// with the core's scanner, without parsing its samples; pass 2 streams the `samples` and
// `timeDeltas` of all chunks, back to back, through the core's number parser (the .cpuprofile
// importer's), or, when a chunk is not laid out plainly or has per-sample `lines`, parses them here.

import type { ByteSource } from '../../core/source.js';
import { readFully, readRange } from '../../core/source.js';
import type { Core } from '../../core/wasm.js';
import { InputError, type Profile } from '../../model.js';
import { describeByte } from '../json-scan.js';
import { FrameTable } from '../frames.js';
import { beginTables, readTables, type Tree } from '../tables.js';
import { ARGS, keyBytes, parseEvent, scanObject, TS, type Range, type TraceEvent } from './reader.js';

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

/** Where the events holding samples lie; `samples` and `timeDeltas` when pass 1 found them plainly. */
interface Chunk {
  start: number;
  end: number;
  ts: number;
  /** The insides of the two arrays (without brackets), and how many numbers each holds. */
  samples?: Range;
  deltas?: Range;
  count?: number;
  deltaCount?: number;
}

const ARGS_KEYS = keyBytes(['data']);
const DATA_KEYS = keyBytes(['cpuProfile', 'timeDeltas', 'endTime']);
const CPU_KEYS = keyBytes(['nodes', 'samples', 'lines', 'timeDeltas']);

/** One embedded CPU profile, as pass 1 found it. */
export class EmbeddedProfile {
  /** The `pid:tid` of the thread it profiles ('' until its `Profile` event is seen). */
  thread = '';
  startTime = NaN;
  endTime = -Infinity;
  samples = 0;
  readonly nodes = new Map<number, RawNode>();
  /** The events holding samples, with their timestamps (chunks are fed in time order). */
  readonly chunks: Chunk[] = [];
  /** A chunk has per-sample `lines`: pass 2 reads them here. */
  lines = false;

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

  /** A `ProfileChunk` event at [start, end), parsed. */
  chunk(event: Obj, start: number, end: number, name: string): void {
    const data = dataOf(event);
    const cpu = data?.cpuProfile as Obj | undefined;
    this.addNodes(cpu?.nodes, `ProfileChunk at byte ${start}`, name);
    const samples = cpu?.samples;
    const count = Array.isArray(samples) ? samples.length : 0;
    if (count > 0) {
      this.samples += count;
      this.chunks.push({ start, end, ts: Number(event.ts) || 0 });
    }
    if (typeof data?.endTime === 'number') this.endTime = data.endTime;
  }

  /**
   * A `ProfileChunk` event read from its bytes: its nodes parsed, its samples and time deltas
   * counted and located; false when it is not laid out plainly enough (then it is parsed whole).
   */
  chunkFromBytes(event: TraceEvent, name: string): boolean {
    const args = event.range(ARGS);
    const [data] = (args && scanObject(event, args, ARGS_KEYS)) || [];
    const [cpu, dataDeltas, endTime] = (data && scanObject(event, data, DATA_KEYS)) || [];
    const [nodes, samples, lines, cpuDeltas] = (cpu && scanObject(event, cpu, CPU_KEYS)) || [];
    const deltas = dataDeltas ?? cpuDeltas;
    if (!samples || !deltas || event.byte(samples.start) !== 0x5b || event.byte(deltas.start) !== 0x5b) return false;
    const where = `ProfileChunk at byte ${event.start}`;
    if (nodes && !isEmpty(event, nodes)) this.addNodes(parseEvent(name, event.text(nodes), event.start), where, name);
    const count = countNumbers(event, samples);
    if (count > 0) {
      this.samples += count;
      // The numbers without the brackets and the whitespace around them (the commas between
      // chunks in pass 2 must follow a number).
      const inside = (r: Range) => {
        let [start, end] = [r.start + 1, r.end - 1];
        while (event.byte(start) <= 0x20) start++;
        while (event.byte(end - 1) <= 0x20) end--;
        return { start, end };
      };
      this.chunks.push({ start: event.start, end: event.end, ts: event.number(TS) || 0, samples: inside(samples), deltas: inside(deltas), count, deltaCount: countNumbers(event, deltas) });
      if (lines && !isEmpty(event, lines)) this.lines = true;
    }
    if (endTime && event.byte(endTime.start) !== 0x22) {
      const end = Number(event.text(endTime));
      if (Number.isFinite(end)) this.endTime = end;
    }
    return true;
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

/** How many numbers the plain array at `r` (brackets included) holds: its commas + 1. */
function countNumbers(event: TraceEvent, r: Range): number {
  const bytes = event.bytes;
  const from = event.at + r.start - event.start + 1;
  const to = event.at + r.end - event.start - 1;
  const commas = countCommas(bytes, from, to);
  return commas > 0 || !isEmpty(event, r) ? commas + 1 : 0;
}

/** The commas in bytes [from, to), four bytes at a time (a chunk's arrays are most of a trace). */
function countCommas(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  let i = from;
  while (i < to && ((bytes.byteOffset + i) & 3) !== 0) if (bytes[i++] === 0x2c) n++;
  if (i >= to) return n;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (to - i) >> 2);
  for (let w = 0; w < words.length; w++) {
    // The high bit of each byte of `t` is set where the byte is not a comma.
    const x = words[w] ^ 0x2c2c2c2c;
    const t = ((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x;
    n += Math.imul((~t >>> 7) & 0x01010101, 0x01010101) >>> 24;
  }
  i += words.length << 2;
  while (i < to) if (bytes[i++] === 0x2c) n++;
  return n;
}

/** Whether the array at `r` holds nothing but whitespace. */
function isEmpty(event: TraceEvent, r: Range): boolean {
  for (let o = r.start + 1; o < r.end - 1; o++) if (event.byte(o) > 0x20) return false;
  return true;
}

// A chunk's bulk is its number arrays: pass 2 parses only them when it reads a chunk here.
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
  const inOrder = profile.chunks.every((chunk, i) => i === 0 || profile.chunks[i - 1].ts <= chunk.ts);
  const chunks = inOrder ? profile.chunks : [...profile.chunks].sort((a, b) => a.ts - b.ts);
  const startTime = Number.isFinite(profile.startTime) ? profile.startTime : 0;
  if (!profile.lines && chunks.every((chunk) => chunk.samples) && [...profile.nodes.keys()].every((id) => id >= 0)) {
    return streamChunks(source, core, profile, tree, chunks, startTime, format);
  }
  beginTables(core, tree, name);
  const c = core.exports;
  const decoder = new TextDecoder();
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

const NEED_SAMPLES = 1;
const NEED_TIMES = 2;
const DONE = 3;
const ERR_BAD_NUMBER = -1;
const ERR_UNKNOWN_NODE = -2;

/** Pass 2 when every chunk was located in pass 1: the two arrays of all chunks through the core. */
async function streamChunks(source: ByteSource, core: Core, profile: EmbeddedProfile, tree: ProfileTree, chunks: Chunk[], startTime: number, format: string): Promise<Profile> {
  const name = source.name;
  const c = core.exports;
  for (const chunk of chunks) {
    if (chunk.count !== chunk.deltaCount) throw new InputError(`${name}: ProfileChunk at byte ${chunk.start} has ${chunk.count} samples but ${chunk.deltaCount} timeDeltas`);
  }
  let maxId = 0;
  for (const id of profile.nodes.keys()) maxId = Math.max(maxId, id);
  beginTables(core, tree, name, maxId < 4 * profile.nodes.size + 1024 ? maxId + 1 : 0);
  for (const [id, index] of tree.indexOfId) c.mapNode(id, index);
  c.pairBegin(0, startTime, profile.endTime);
  const streams = [new ChunkStream(source, chunks, 'samples'), new ChunkStream(source, chunks, 'deltas')];
  const fill = async (stream: 0 | 1) => {
    const n = await streams[stream].fill(core.window(stream));
    c.pairWindow(stream, c.windowPtr(stream), n, streams[stream].done ? 1 : 0);
  };
  await fill(0);
  await fill(1);
  for (let status = c.pairRun(); status !== DONE; status = c.pairRun()) {
    if (status === NEED_SAMPLES) await fill(0);
    else if (status === NEED_TIMES) await fill(1);
    else throw await pairError(source, core, chunks, streams, status);
  }
  c.pairFinish();
  if (c.pairSamples() === 0) throw new InputError(`${name}: the CPU profile ${profile.id} has no samples`);
  // The last sample's time, when there is no endTime after it: where the timeline ends.
  const count = c.timelineCount();
  const last = count > 0 ? core.f64(c.timelineStartPtr() + 8 * (count - 1), 1)[0] + core.f64(c.timelineDurationPtr() + 8 * (count - 1), 1)[0] : startTime;
  return readTables(core, tree, { source: name, format, startUs: startTime, endUs: Math.max(profile.endTime, last) });
}

async function pairError(source: ByteSource, core: Core, chunks: Chunk[], streams: ChunkStream[], status: number): Promise<Error> {
  const c = core.exports;
  const stream = c.pairErrorStream();
  const key = stream === 0 ? 'samples' : 'timeDeltas';
  if (status === ERR_UNKNOWN_NODE) {
    // The sample's chunk, by the chunks' counts.
    let index = c.pairErrorIndex();
    let k = 0;
    while (k < chunks.length - 1 && index >= chunks[k].count!) index -= chunks[k++].count!;
    return new InputError(`${source.name}: ProfileChunk at byte ${chunks[k].start}: samples[${index}] is ${c.pairErrorValue()}, which is not a node id`);
  }
  if (status === ERR_BAD_NUMBER) {
    const { chunk, at } = streams[stream].place(c.pairErrorAt());
    const range = stream === 0 ? chunk.samples! : chunk.deltas!;
    const byte = at < range.end ? (await readRange(source, at, at + 1))[0] : -1;
    const what = byte < 0 ? 'the array ends inside a number' : `unexpected ${describeByte(byte)} at byte ${at}`;
    return new InputError(`${source.name}: ProfileChunk at byte ${chunk.start}: "${key}": ${what}`);
  }
  return new InputError(`${source.name}: the CPU profile's "${key}" has ${c.pairErrorIndex()} entries, fewer than the other array`);
}

/** How much of the file one read brings in while the chunks lie close together... */
const RUN_BYTES = 1 << 18;
/** ...and how close: the bytes between them are read too. */
const GAP_BYTES = 1024;

/** The insides of one array of every chunk, back to back with a comma between them. */
class ChunkStream {
  private next = 0; // the chunk being read
  private pos: number; // file offset in its array
  private comma = false; // owed before the next chunk's numbers
  private readonly buffer = new Uint8Array(RUN_BYTES);
  private bufferStart = 0;
  private bufferEnd = 0;
  /** Where each chunk's numbers begin in the stream (for error messages). */
  private readonly streamStart: Float64Array;
  private written = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly chunks: Chunk[],
    private readonly which: 'samples' | 'deltas',
  ) {
    this.pos = chunks.length ? chunks[0][which]!.start : 0;
    this.streamStart = new Float64Array(chunks.length);
  }

  get done(): boolean {
    return this.next >= this.chunks.length;
  }

  /** Fills `into` as far as the stream goes; returns how many bytes it wrote. */
  async fill(into: Uint8Array): Promise<number> {
    let n = 0;
    while (n < into.length && !this.done) {
      if (this.comma) {
        into[n++] = 0x2c;
        this.comma = false;
        continue;
      }
      const range = this.chunks[this.next][this.which]!;
      if (this.pos === range.start) this.streamStart[this.next] = this.written + n;
      if (this.pos < this.bufferStart || this.pos >= this.bufferEnd) await this.load();
      const take = Math.min(range.end - this.pos, into.length - n, this.bufferEnd - this.pos);
      into.set(this.buffer.subarray(this.pos - this.bufferStart, this.pos - this.bufferStart + take), n);
      n += take;
      this.pos += take;
      if (this.pos === range.end && ++this.next < this.chunks.length) {
        this.pos = this.chunks[this.next][this.which]!.start;
        this.comma = true;
      }
    }
    this.written += n;
    return n;
  }

  /** Reads from `pos` on, through the arrays of the following chunks as far as they fit. */
  private async load(): Promise<void> {
    let end = this.chunks[this.next][this.which]!.end;
    for (let k = this.next + 1; k < this.chunks.length; k++) {
      const r = this.chunks[k][this.which]!;
      if (r.start < end || r.start - end > GAP_BYTES || r.end - this.pos > RUN_BYTES) break;
      end = r.end;
    }
    this.bufferStart = this.pos;
    this.bufferEnd = this.pos + (await readFully(this.source, this.pos, this.buffer.subarray(0, Math.min(RUN_BYTES, end - this.pos))));
    if (this.bufferEnd === this.pos) throw new InputError(`${this.source.name}: the file ended before byte ${this.pos}`);
  }

  /** The chunk and file offset of byte `at` of the stream. */
  place(at: number): { chunk: Chunk; at: number } {
    let k = 0;
    while (k + 1 <= Math.min(this.next, this.chunks.length - 1) && this.streamStart[k + 1] <= at) k++;
    const range = this.chunks[k][this.which]!;
    return { chunk: this.chunks[k], at: Math.min(range.start + at - this.streamStart[k], range.end) };
  }
}
