// What every importer shares: the stack-node tree handed to the core, and the Profile read back
// from the core's tables once the samples have gone through it.

import type { Core } from '../core/wasm.js';
import { InputError, type Frame, type Profile } from '../model.js';
import { FrameTable } from './frames.js';

/** Size of the timeline table: the time-ordered speedscope export caps near 100 k entries. */
export const TIMELINE_CAPACITY = 1 << 17;

export interface Tree {
  frames: Frame[];
  /** Parent node index, -1 for a root; parents precede children. */
  nodeParent: Int32Array;
  nodeFrame: Int32Array;
  lineTicks: (Uint32Array | undefined)[];
}

/** Allocates the core's tables for `tree` and marks its idle nodes. */
export function beginTables(core: Core, tree: Tree, name: string, denseIds = 0): void {
  const c = core.exports;
  const n = tree.nodeParent.length;
  if (!c.profileBegin(n, denseIds, TIMELINE_CAPACITY)) throw new InputError(`${name}: out of memory for ${n} stack nodes`);
  for (let i = 0; i < n; i++) if (tree.frames[tree.nodeFrame[i]].kind === 'idle') c.setIdle(i);
}

/** The Profile in the core's tables (copies: the next profile reuses them). Times in µs. */
export function readTables(core: Core, tree: Tree, meta: { source: string; format: string; startUs: number; endUs: number }): Profile {
  const c = core.exports;
  const n = tree.nodeParent.length;
  const count = c.timelineCount();
  // One copy per table, divided on the way (the core's tables are reused by the next profile).
  const toMs = (ptr: number, count: number) => {
    const us = new Float64Array(c.memory.buffer, ptr, count);
    const ms = new Float64Array(count);
    for (let i = 0; i < count; i++) ms[i] = us[i] / 1000;
    return ms;
  };
  return {
    source: meta.source,
    format: meta.format,
    frames: tree.frames,
    nodeParent: tree.nodeParent,
    nodeFrame: tree.nodeFrame,
    nodeSelfMs: toMs(c.nodeSelfPtr(), n),
    nodeSamples: core.f64(c.nodeSamplesPtr(), n),
    nodeLineTicks: tree.lineTicks,
    timeline: {
      count,
      start: toMs(c.timelineStartPtr(), count),
      duration: toMs(c.timelineDurationPtr(), count),
      idle: toMs(c.timelineIdlePtr(), count),
      node: core.i32(c.timelineNodePtr(), count),
      resolutionMs: c.timelineResolution() / 1000,
    },
    startMs: meta.startUs / 1000,
    endMs: Number.isFinite(meta.endUs) ? meta.endUs / 1000 : meta.startUs / 1000,
    clampedSamples: c.clampedSamples(),
  };
}

/**
 * For importers that decode samples themselves (pprof, folded stacks, speedscope): stacks become
 * nodes of one tree (a node per distinct path), samples are collected, then all go through the
 * core together, which orders them, gives each its duration and charges it like a V8 sample.
 */
export class ProfileBuilder {
  readonly frames = new FrameTable();
  private readonly parent: number[] = [];
  private readonly frame: number[] = [];
  private readonly child = new Map<string, number>();
  private sampleNode = new Int32Array(1024);
  private sampleTime = new Float64Array(1024);
  private count = 0;

  /** The node for `frame` under `parent` (-1: a root). */
  node(parent: number, frame: number): number {
    const key = `${parent}:${frame}`;
    let node = this.child.get(key);
    if (node === undefined) {
      node = this.parent.length;
      this.parent.push(parent);
      this.frame.push(frame);
      this.child.set(key, node);
    }
    return node;
  }

  /** The leaf node of a stack of frame indices, outermost first. */
  stack(frames: ArrayLike<number>): number {
    let node = -1;
    for (let i = 0; i < frames.length; i++) node = this.node(node, frames[i]);
    return node;
  }

  /** A sample of `node` at `timeUs`; it lasts until the next sample (the last until the end). */
  sample(node: number, timeUs: number): void {
    if (this.count === this.sampleNode.length) {
      const nodes = new Int32Array(this.count * 2);
      nodes.set(this.sampleNode);
      this.sampleNode = nodes;
      const times = new Float64Array(this.count * 2);
      times.set(this.sampleTime);
      this.sampleTime = times;
    }
    this.sampleNode[this.count] = node;
    this.sampleTime[this.count++] = timeUs;
  }

  finish(core: Core, meta: { source: string; format: string; startUs: number; endUs: number }): Profile {
    if (this.parent.length === 0) throw new InputError(`${meta.source}: no stacks`);
    const tree: Tree = {
      frames: this.frames.frames,
      nodeParent: Int32Array.from(this.parent),
      nodeFrame: Int32Array.from(this.frame),
      lineTicks: new Array(this.parent.length),
    };
    beginTables(core, tree, meta.source);
    const c = core.exports;
    c.pairBegin(1, meta.startUs, meta.endUs);
    for (let i = 0; i < this.count; i++) c.pushSample(this.sampleNode[i], this.sampleTime[i]);
    c.pairFinish();
    return readTables(core, tree, meta);
  }
}
