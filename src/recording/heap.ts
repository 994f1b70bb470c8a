// Reads a V8 sampling heap profile (`<pid>.heapprofile`: a tree of call frames, each with the bytes
// sampled while it was the allocating function) into allocation sites of the program's own code.
// Bytes allocated inside Node's internals or dependencies are charged to the innermost function of
// the program on the stack, the way CPU time is (SPEC.md, per-line ratios). The recorder's own
// allocations are left out. The tree is walked without recursion; the file is parsed by the heap
// profile importer's readHeapProfileJson.

import type { ByteSource } from '../core/source.js';
import { fileOf, frameKind } from '../importers/frames.js';
import { readHeapProfileJson, selfBytes, type HeapNode } from '../importers/heapprofile.js';
import type { AllocationSite, HeapSummary } from './model.js';

export { MAX_HEAP_PROFILE_BYTES } from '../importers/heapprofile.js';

export async function readHeapProfile(source: ByteSource, samplingIntervalBytes = 0): Promise<HeapSummary> {
  const root = await readHeapProfileJson(source);
  const sites = new Map<string, AllocationSite>();
  let totalBytes = 0;
  let programBytes = 0;
  // [node, innermost user site key or null, inside the recorder]
  const stack: [HeapNode, AllocationSite | null, boolean][] = [[root.head, null, false]];
  while (stack.length) {
    const [node, outer, recorder] = stack.pop()!;
    const cf = node.callFrame ?? {};
    const url = cf.url ?? '';
    const name = cf.functionName ?? '';
    const kind = frameKind(name, url, String(cf.scriptId ?? '0'));
    const inRecorder = recorder || kind === 'recorder';
    let site = outer;
    if (kind === 'user' && !inRecorder) {
      const line = (cf.lineNumber ?? -1) + 1;
      const column = (cf.columnNumber ?? -1) + 1;
      const key = `${url}\u0000${line}\u0000${column}\u0000${name}`;
      site = sites.get(key) ?? null;
      if (!site) sites.set(key, (site = { file: fileOf(url), line, column, function: name || '(anonymous)', bytes: 0 }));
    }
    const self = selfBytes(node);
    totalBytes += self;
    if (!inRecorder) {
      if (site) site.bytes += self;
      if (site || kind === 'dependency') programBytes += self;
    }
    for (const child of node.children ?? []) stack.push([child, site, inRecorder]);
  }
  return {
    sites: [...sites.values()].filter((s) => s.bytes > 0).sort((a, b) => b.bytes - a.bytes),
    totalBytes,
    programBytes,
    samplingIntervalBytes,
  };
}
