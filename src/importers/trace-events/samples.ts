// The trace event format's own sampled profiles (what Hermes writes): a top-level `samples` array
// ({pid, tid, ts, sf}) whose `sf` names a leaf in the `stackFrames` dictionary ({name, parent}).
// Each sample lasts until the thread's next one; the last marks the end, as in speedscope.

import type { Core } from '../../core/wasm.js';
import { InputError, type Profile } from '../../model.js';
import { internForeign } from '../folded.js';
import { ProfileBuilder } from '../tables.js';

type Obj = Record<string, unknown>;

export class StackSamples {
  private readonly builder = new ProfileBuilder();
  private readonly nodeOf = new Map<string, number>();
  private first = Infinity;
  private last = -Infinity;

  constructor(
    private readonly stackFrames: Obj,
    private readonly name: string,
  ) {}

  add(sample: Obj): void {
    const ts = Number(sample.ts);
    if (!Number.isFinite(ts)) throw new InputError(`${this.name}: a sample's ts is ${JSON.stringify(sample.ts)}, not a number`);
    this.builder.sample(this.node(String(sample.sf)), ts);
    this.first = Math.min(this.first, ts);
    this.last = Math.max(this.last, ts);
  }

  /** The stack node of frame `sf`, its ancestors first (walked without recursion). */
  private node(sf: string): number {
    const known = this.nodeOf.get(sf);
    if (known !== undefined) return known;
    const path: string[] = [];
    for (let id: string | undefined = sf; id !== undefined && !this.nodeOf.has(id); ) {
      const frame = this.stackFrames[id] as Obj | undefined;
      if (typeof frame !== 'object' || frame === null) throw new InputError(`${this.name}: stackFrames has no frame ${JSON.stringify(id)}`);
      if (path.length > this.nodeOf.size + Object.keys(this.stackFrames).length) {
        throw new InputError(`${this.name}: stackFrames has a cycle through frame ${JSON.stringify(sf)}`);
      }
      path.push(id);
      id = frame.parent === undefined || frame.parent === null ? undefined : String(frame.parent);
    }
    let node = -1;
    const top = path.length ? (this.stackFrames[path[path.length - 1]] as Obj).parent : undefined;
    if (top !== undefined && top !== null) node = this.nodeOf.get(String(top)) ?? -1;
    for (let i = path.length - 1; i >= 0; i--) {
      const frame = this.stackFrames[path[i]] as Obj;
      const label = typeof frame.name === 'string' && frame.name ? frame.name : '(unnamed)';
      node = this.builder.node(node, internForeign(this.builder.frames, label, '', -1, -1, 'user'));
      this.nodeOf.set(path[i], node);
    }
    return node;
  }

  finish(core: Core, format: string): Profile {
    if (!Number.isFinite(this.first)) throw new InputError(`${this.name}: the thread has no samples`);
    return this.builder.finish(core, { source: this.name, format, startUs: this.first, endUs: this.last });
  }
}
