// V8 sampling heap profiles (`.heapprofile`: `node --heap-prof`, the inspector's
// HeapProfiler.stopSampling, DevTools' "Allocation sampling", `loopscope collect`): a tree of call
// frames, each with the bytes sampled while it was the allocating function (`selfSize`), and in
// newer versions the samples themselves (`samples`: size, nodeId, ordinal). Read as a profile of
// allocated bytes (Profile.unit 'bytes'): every node with bytes is one stack whose weight is its
// selfSize, so the table shows bytes per allocating function, at the function's start line (the
// profile has no finer position). The recording reader (src/recording/heap.ts) parses the same
// files through readHeapProfileJson. The tree is walked without recursion.

import { readFully, type ByteSource } from '../core/source.js';
import type { Core } from '../core/wasm.js';
import { InputError, type Profile } from '../model.js';
import { ProfileBuilder } from './tables.js';

/** Heap profiles are small (one node per allocating stack); a bigger one is refused, not read. */
export const MAX_HEAP_PROFILE_BYTES = 256 << 20;

export interface HeapNode {
  callFrame?: { functionName?: string; url?: string; lineNumber?: number; columnNumber?: number; scriptId?: string | number };
  selfSize?: number;
  id?: number;
  children?: HeapNode[];
}

export interface HeapProfileJson {
  head: HeapNode;
  samples?: { size?: number; nodeId?: number; ordinal?: number }[];
}

/** A heap profile's top-level keys: `head`, without a CPU profile's `nodes` or old-style times. */
export function isHeapProfile(keys: { has(key: string): boolean }): boolean {
  return keys.has('head') && !['nodes', 'startTime', 'endTime', 'timestamps', 'timeDeltas'].some((k) => keys.has(k));
}

/** Parses a heap profile (whole: it is small), checking that it is one. */
export async function readHeapProfileJson(source: ByteSource): Promise<HeapProfileJson> {
  if (source.size > MAX_HEAP_PROFILE_BYTES) {
    throw new InputError(`${source.name}: ${source.size} bytes: larger than any heap profile loopscope expects`);
  }
  const bytes = new Uint8Array(source.size);
  await readFully(source, 0, bytes);
  let root: Partial<HeapProfileJson>;
  try {
    root = JSON.parse(new TextDecoder().decode(bytes)) as Partial<HeapProfileJson>;
  } catch (error) {
    throw new InputError(`${source.name}: not valid JSON (${(error as Error).message})`);
  }
  if (!root?.head || typeof root.head !== 'object') throw new InputError(`${source.name}: not a heap profile (no "head")`);
  return root as HeapProfileJson;
}

/** A node's own bytes: 0 where the field is absent or not a number. */
export const selfBytes = (node: HeapNode): number =>
  typeof node.selfSize === 'number' && Number.isFinite(node.selfSize) && node.selfSize > 0 ? node.selfSize : 0;

export async function importHeapProfile(source: ByteSource, core: Core): Promise<Profile> {
  const json = await readHeapProfileJson(source);
  // Sampled allocations per node id, where the profile lists its samples.
  const samplesOf = new Map<number, number>();
  for (const s of Array.isArray(json.samples) ? json.samples : []) {
    if (typeof s?.nodeId === 'number') samplesOf.set(s.nodeId, (samplesOf.get(s.nodeId) ?? 0) + 1);
  }
  const builder = new ProfileBuilder();
  const counts: number[] = [];
  let bytes = 0;
  let nodes = 0;
  const stack: [HeapNode, number][] = [[json.head, -1]];
  while (stack.length) {
    const [node, parent] = stack.pop()!;
    if (!node || typeof node !== 'object') throw new InputError(`${source.name}: a heap profile node that is not an object (under node ${nodes})`);
    nodes++;
    const cf = node.callFrame ?? {};
    const frame = builder.frames.intern(cf.functionName ?? '', cf.url ?? '', cf.lineNumber ?? -1, cf.columnNumber ?? -1, String(cf.scriptId ?? '0'));
    const here = builder.node(parent, frame);
    const self = selfBytes(node);
    if (self > 0) {
      builder.sample(here, bytes * 1000);
      bytes += self;
      // Bytes without listed samples stand for at least one sampled allocation.
      counts[here] = (counts[here] ?? 0) + Math.max(1, samplesOf.get(node.id ?? -1) ?? 0);
    }
    if (node.children !== undefined && !Array.isArray(node.children)) {
      throw new InputError(`${source.name}: node ${node.id ?? nodes}: "children" is not an array`);
    }
    for (const child of node.children ?? []) stack.push([child, here]);
  }
  const samples = samplesOf.size ? `${json.samples!.length} allocation samples` : `${nodes} nodes`;
  const profile = builder.finish(core, {
    source: source.name,
    format: `V8 heap profile (allocated bytes, ${samples})`,
    startUs: 0,
    // The core's "time" axis carries bytes (1 byte = 1 ms), as pprof's non-time types do.
    endUs: bytes * 1000,
  });
  for (let node = 0; node < profile.nodeSamples.length; node++) profile.nodeSamples[node] = counts[node] ?? 0;
  profile.unit = 'bytes';
  profile.timeOrder = 'none';
  return profile;
}
