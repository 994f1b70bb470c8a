// V8 CPU profiles (.cpuprofile): `node --cpu-prof`, the inspector's Profiler.stop, DevTools' export,
// and the older Node 10 form with a nested `head` tree and absolute `timestamps`. The small node
// metadata is decoded here; the bulk arrays are streamed through the WASM core side by side.

import type { ByteSource } from '../core/source.js';
import type { Core } from '../core/wasm.js';
import { readRange } from '../core/source.js';
import { InputError, type Profile } from '../model.js';
import { mark } from '../core/timing.js';
import { beginTables, readTables, type Tree } from './tables.js';
import { FrameTable } from './frames.js';
import { describeByte, parseValue, type JsonValue } from './json-scan.js';

interface CallFrame {
  functionName?: string;
  scriptId?: string | number;
  url?: string;
  lineNumber?: number;
  columnNumber?: number;
}

interface RawNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  parent?: number;
  positionTicks?: { line: number; ticks: number }[];
}

export function isCpuProfile(keys: Map<string, JsonValue>): boolean {
  return (keys.has('nodes') && keys.has('samples')) || (keys.has('head') && keys.has('samples'));
}

export async function importCpuProfile(
  source: ByteSource,
  core: Core,
  keys: Map<string, JsonValue>,
): Promise<Profile> {
  const name = source.name;
  const nodes = keys.has('nodes')
    ? await readNodes(source, keys.get('nodes')!)
    : flattenHead(await parseValue(source, 'head', keys.get('head')!), name);
  const tree = buildTree(nodes, name);
  mark('nodes: parse and tree');

  const c = core.exports;
  const maxId = nodes.reduce((m, n) => Math.max(m, n.id), 0);
  beginTables(core, tree, name, maxId < 4 * nodes.length + 1024 ? maxId + 1 : 0);
  for (let i = 0; i < nodes.length; i++) c.mapNode(nodes[tree.order[i]].id, i);

  const timestamps = !keys.has('timeDeltas') && keys.has('timestamps');
  const timesKey = timestamps ? 'timestamps' : 'timeDeltas';
  const startTime = await readNumber(source, keys, 'startTime', 0);
  // Node 10 wrote startTime/endTime in seconds and timestamps in µs: only trust an end in µs.
  let endTime = await readNumber(source, keys, 'endTime', -Infinity);
  if (timestamps) endTime = -Infinity;
  if (!keys.has(timesKey)) throw new InputError(`${name}: missing field "timeDeltas"`);
  c.pairBegin(timestamps ? 1 : 0, startTime, endTime);
  await streamPairs(source, core, arrayOf(keys, 'samples', name), arrayOf(keys, timesKey, name), timesKey, timestamps);
  c.pairFinish();
  mark('pass 2: samples and time deltas');
  const profile = readTables(core, tree, { source: name, format: 'V8 CPU profile', startUs: startTime, endUs: endTime });
  mark('tables read');
  return profile;
}

async function readNodes(source: ByteSource, value: JsonValue): Promise<RawNode[]> {
  if (value.first !== '[') throw new InputError(`${source.name}: "nodes" at byte ${value.start} is not an array`);
  const nodes = (await parseValue(source, 'nodes', value)) as RawNode[];
  nodes.forEach((node, i) => checkNode(node, `nodes[${i}]`, source.name));
  return nodes;
}

function checkNode(node: RawNode, where: string, name: string): void {
  if (typeof node !== 'object' || node === null) throw new InputError(`${name}: ${where} is not an object`);
  if (!Number.isInteger(node.id) || node.id < 0) throw new InputError(`${name}: ${where}.id is not a non-negative integer`);
  if (typeof node.callFrame !== 'object' || node.callFrame === null) {
    throw new InputError(`${name}: ${where} (id ${node.id}) has no callFrame`);
  }
}

/** Node 10's nested `head` tree, flattened without recursion (stacks can be very deep). */
function flattenHead(head: unknown, name: string): RawNode[] {
  type HeadNode = CallFrame & { id: number; children?: HeadNode[]; positionTicks?: RawNode['positionTicks'] };
  const out: RawNode[] = [];
  const stack = [head as HeadNode];
  while (stack.length) {
    const h = stack.pop()!;
    const children = Array.isArray(h?.children) ? h.children : [];
    const node: RawNode = {
      id: h?.id,
      callFrame: { functionName: h?.functionName, scriptId: h?.scriptId, url: h?.url, lineNumber: h?.lineNumber, columnNumber: h?.columnNumber },
      children: children.map((child) => child?.id),
      positionTicks: h?.positionTicks,
    };
    checkNode(node, `head node ${out.length}`, name);
    out.push(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return out;
}

interface RawTree extends Tree {
  /** order[i] = position in the raw node list of the node with index i (parents first). */
  order: Int32Array;
}

/** Links children to parents and numbers nodes breadth-first, so parents precede children. */
function buildTree(nodes: RawNode[], name: string): RawTree {
  const n = nodes.length;
  if (n === 0) throw new InputError(`${name}: "nodes" is empty`);
  const position = new Map<number, number>();
  nodes.forEach((node, i) => {
    if (position.has(node.id)) throw new InputError(`${name}: nodes[${i}] repeats id ${node.id}`);
    position.set(node.id, i);
  });
  const parentPos = new Int32Array(n).fill(-1);
  nodes.forEach((node, i) => {
    for (const child of Array.isArray(node.children) ? node.children : []) {
      const p = position.get(child);
      if (p === undefined) throw new InputError(`${name}: nodes[${i}] (id ${node.id}) has child ${child}, which is not a node`);
      parentPos[p] = i;
    }
  });
  nodes.forEach((node, i) => {
    if (parentPos[i] < 0 && node.parent !== undefined && position.has(node.parent)) parentPos[i] = position.get(node.parent)!;
  });
  const childrenOf: number[][] = Array.from({ length: n }, () => []);
  const order = new Int32Array(n);
  let filled = 0;
  for (let i = 0; i < n; i++) {
    if (parentPos[i] >= 0) childrenOf[parentPos[i]].push(i);
    else order[filled++] = i;
  }
  const indexOf = new Int32Array(n).fill(-1);
  for (let head = 0; head < filled; head++) {
    indexOf[order[head]] = head;
    for (const child of childrenOf[order[head]]) order[filled++] = child;
  }
  if (filled !== n) throw new InputError(`${name}: "nodes" has a cycle (a node is its own ancestor)`);

  const frames = new FrameTable();
  const nodeParent = new Int32Array(n);
  const nodeFrame = new Int32Array(n);
  const lineTicks: (Uint32Array | undefined)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const node = nodes[order[i]];
    const f = node.callFrame;
    nodeParent[i] = parentPos[order[i]] >= 0 ? indexOf[parentPos[order[i]]] : -1;
    nodeFrame[i] = frames.intern(
      String(f.functionName ?? ''),
      String(f.url ?? ''),
      typeof f.lineNumber === 'number' ? f.lineNumber : -1,
      typeof f.columnNumber === 'number' ? f.columnNumber : -1,
      String(f.scriptId ?? '0'),
    );
    const ticks = Array.isArray(node.positionTicks) ? node.positionTicks : [];
    if (ticks.length) {
      const pairs = new Uint32Array(ticks.length * 2);
      ticks.forEach((t, k) => {
        pairs[2 * k] = Number(t?.line) || 0;
        pairs[2 * k + 1] = Number(t?.ticks) || 0;
      });
      lineTicks[i] = pairs;
    }
  }
  return { order, nodeParent, nodeFrame, frames: frames.frames, lineTicks };
}

function arrayOf(keys: Map<string, JsonValue>, key: string, name: string): JsonValue {
  const value = keys.get(key);
  if (!value) throw new InputError(`${name}: missing field "${key}"`);
  if (value.first !== '[') throw new InputError(`${name}: "${key}" at byte ${value.start} is not an array`);
  return value;
}

async function readNumber(source: ByteSource, keys: Map<string, JsonValue>, key: string, fallback: number): Promise<number> {
  const value = keys.get(key);
  if (!value) return fallback;
  const parsed = await parseValue(source, key, value);
  if (typeof parsed !== 'number') throw new InputError(`${source.name}: "${key}" at byte ${value.start} is not a number`);
  return parsed;
}

const NEED_SAMPLES = 1;
const NEED_TIMES = 2;
const DONE = 3;
const ERR_BAD_NUMBER = -1;
const ERR_UNKNOWN_NODE = -2;

/** Streams the insides of the two arrays through windows 0 and 1 until both end. */
async function streamPairs(
  source: ByteSource,
  core: Core,
  samples: JsonValue,
  times: JsonValue,
  timesKey: string,
  extraTimesAllowed: boolean,
): Promise<void> {
  const c = core.exports;
  const cursor = [samples.start + 1, times.start + 1];
  const ends = [samples.end - 1, times.end - 1];
  const fill = async (stream: 0 | 1) => {
    const want = Math.min(core.windowBytes, ends[stream] - cursor[stream]);
    const n = want > 0 ? await source.read(cursor[stream], core.window(stream).subarray(0, want)) : 0;
    cursor[stream] += n;
    c.pairWindow(stream, c.windowPtr(stream), n, cursor[stream] >= ends[stream] ? 1 : 0);
  };
  await fill(0);
  await fill(1);
  for (;;) {
    const status = c.pairRun();
    if (status === NEED_SAMPLES) await fill(0);
    else if (status === NEED_TIMES) await fill(1);
    else if (status === DONE) return;
    else {
      const stream = c.pairErrorStream();
      const key = stream === 0 ? 'samples' : timesKey;
      if (status === ERR_BAD_NUMBER) {
        const at = (stream === 0 ? samples : times).start + 1 + c.pairErrorAt();
        const byte = at < ends[stream] ? (await readRange(source, at, at + 1))[0] : -1;
        const what = byte < 0 ? `the array ends inside a number` : `unexpected ${describeByte(byte)}`;
        throw new InputError(`${source.name}: "${key}": ${what} at byte ${at}`);
      }
      if (status === ERR_UNKNOWN_NODE) {
        throw new InputError(`${source.name}: samples[${c.pairErrorIndex()}] is ${c.pairErrorValue()}, which is not a node id`);
      }
      // Node 10's `timestamps` can hold one more entry than `samples`; speedscope pairs them from
      // the start and ignores the rest, and so do we.
      if (stream === 0 && extraTimesAllowed) return;
      const other = stream === 0 ? timesKey : 'samples';
      throw new InputError(`${source.name}: "${key}" has ${c.pairErrorIndex()} entries but "${other}" has more`);
    }
  }
}
