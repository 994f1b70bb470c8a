// The V8 .cpuprofile of a test input read whole with JSON.parse: an oracle independent of the
// streaming importer (tiny corpus files only). Both the \`nodes\` form and Node 10's nested \`head\`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

export interface InputCallFrame {
  functionName?: string;
  url?: string;
  lineNumber?: number;
  columnNumber?: number;
}

export interface InputProfile {
  /** Node 10's form: nested `head`, absolute `timestamps`, start and end in seconds. */
  oldFormat: boolean;
  callFrames: InputCallFrame[];
  /** Parent index, -1 for the root. */
  parent: number[];
  /** Node index and time (µs) of each sample, in file order. */
  sampleNode: number[];
  sampleTime: number[];
  startTime: number;
  endTime: number;
}

interface RawNode extends InputCallFrame {
  id: number;
  callFrame?: InputCallFrame;
  children?: (number | RawNode)[];
  parent?: number;
}

export function readInput(path: string): InputProfile {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as {
    nodes?: RawNode[];
    head?: RawNode;
    samples: number[];
    timeDeltas?: number[];
    timestamps?: number[];
    startTime: number;
    endTime: number;
  };
  const oldFormat = raw.head !== undefined;
  const nodes: RawNode[] = [];
  const parentId = new Map<number, number>();
  if (oldFormat) {
    const stack: RawNode[] = [raw.head!];
    while (stack.length) {
      const node = stack.pop()!;
      nodes.push(node);
      for (const child of (node.children ?? []) as RawNode[]) {
        parentId.set(child.id, node.id);
        stack.push(child);
      }
    }
  } else {
    nodes.push(...raw.nodes!);
    for (const node of nodes) for (const child of (node.children ?? []) as number[]) parentId.set(child, node.id);
    for (const node of nodes) if (!parentId.has(node.id) && node.parent !== undefined) parentId.set(node.id, node.parent);
  }
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const parent = nodes.map((n) => (parentId.has(n.id) ? index.get(parentId.get(n.id)!)! : -1));
  const callFrames = nodes.map((n): InputCallFrame => (oldFormat ? n : n.callFrame!));
  const sampleNode = raw.samples.map((id) => {
    const i = index.get(id);
    assert.ok(i !== undefined, `${path}: sample ${id} has no node`);
    return i;
  });
  let sampleTime: number[];
  if (oldFormat) {
    sampleTime = raw.timestamps!.slice(0, raw.samples.length);
  } else {
    let t = raw.startTime;
    sampleTime = raw.timeDeltas!.slice(0, raw.samples.length).map((d) => (t += d));
  }
  return { oldFormat, callFrames, parent, sampleNode, sampleTime, startTime: raw.startTime, endTime: raw.endTime };
}

