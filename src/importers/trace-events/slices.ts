// Duration events (B/E pairs and complete X events) of one thread become a profile the way
// speedscope's trace-event importer reads them: each instant belongs to the stack of slices open
// then, and each stack's time is the time it was the innermost open one. Events may come in any
// order, so the thread's events are kept (in typed columns, about 100 bytes each with the sort
// and the samples) and put in time order:
//   - B events (and X starts, longest first on a tie) in time order, ties in file order;
//   - E events (and X ends) in time order; at a tie, the one that closes the innermost open slice
//     (same name and args, else same name) goes first; a B and an E at the same time: the B first
//     when they have the same name and args (a zero-length slice), else the E;
//   - an E whose name is not the innermost open slice's is ignored, as is an E with nothing open;
//   - slices still open at the end close at the last event that opened or closed one.
// A frame is the event's name (speedscope appends the args, which in Node's and loopscope's traces
// hold ids that differ in every event); Hermes-style args with a `url` and `line` give it a place.
// Time between slices, when nothing is open, is (idle): the thread ran nothing that was traced.

import { type Profile } from '../../model.js';
import { internForeign } from '../folded.js';
import { ProfileBuilder } from '../tables.js';
import type { Core } from '../../core/wasm.js';

type Obj = Record<string, unknown>;

const B = 0;
const E = 1;
const X = 2;

/** A growable typed column. */
class Column<T extends Float64Array | Int32Array | Uint8Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = this.make(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
}

/** FNV-1a of a string: identifies an event's args compactly (only compared at equal names). */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class SliceEvents {
  private readonly phase = new Column(new Uint8Array(1024), (n) => new Uint8Array(n));
  private readonly ts = new Column(new Float64Array(1024), (n) => new Float64Array(n));
  private readonly dur = new Column(new Float64Array(1024), (n) => new Float64Array(n));
  private readonly nameId = new Column(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly argsHash = new Column(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly frame = new Column(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly names = new Map<string, number>();
  readonly builder = new ProfileBuilder();

  get count(): number {
    return this.phase.length;
  }

  /** Keeps a B, E or X event (others are ignored); X events without a duration last 0. */
  add(event: Obj): void {
    const ph = event.ph;
    const phase = ph === 'B' ? B : ph === 'E' ? E : ph === 'X' ? X : -1;
    const ts = Number(event.ts);
    if (phase < 0 || !Number.isFinite(ts)) return;
    const name = typeof event.name === 'string' && event.name ? event.name : '(unnamed)';
    let id = this.names.get(name);
    if (id === undefined) this.names.set(name, (id = this.names.size));
    const args = event.args;
    this.phase.push(phase);
    this.ts.push(ts);
    this.dur.push(phase === X ? Number(event.dur ?? event.tdur) || 0 : 0);
    this.nameId.push(id);
    this.argsHash.push(args === undefined || args === null ? 0 : hash(JSON.stringify(args)));
    this.frame.push(phase === E ? -1 : this.frameOf(name, args));
  }

  private frameOf(name: string, args: unknown): number {
    const a = typeof args === 'object' && args !== null ? (args as Obj) : undefined;
    const url = typeof a?.url === 'string' ? a.url : '';
    const line = url && typeof a?.line === 'number' ? a.line - 1 : -1;
    const column = url && typeof a?.column === 'number' ? a.column - 1 : -1;
    return internForeign(this.builder.frames, name, url, line, column, 'user');
  }

  /** The profile of the kept events; `format` names the thread. */
  finish(core: Core, source: string, format: string): Profile {
    const n = this.count;
    const phase = this.phase.data;
    const ts = this.ts.data;
    const dur = this.dur.data;
    const nameId = this.nameId.data;
    const argsHash = this.argsHash.data;
    const frame = this.frame.data;

    // The B queue: B events in file order, then X starts (by time, longest first), stably by time.
    const xs: number[] = [];
    const begins: number[] = [];
    for (let i = 0; i < n; i++) if (phase[i] === X) xs.push(i);
    xs.sort((a, b) => ts[a] - ts[b] || dur[b] - dur[a]);
    for (let i = 0; i < n; i++) if (phase[i] === B) begins.push(i);
    for (const i of xs) begins.push(i);
    begins.sort((a, b) => ts[a] - ts[b]);
    // The E queue: entries are event indices; an X's end is at ts + dur.
    const ends: number[] = [];
    for (let i = 0; i < n; i++) if (phase[i] === E) ends.push(i);
    for (const i of xs) ends.push(i);
    const endTime = (i: number) => (phase[i] === X ? ts[i] + dur[i] : ts[i]);
    ends.sort((a, b) => endTime(a) - endTime(b));

    const builder = this.builder;
    const idle = builder.node(-1, builder.frames.intern('(idle)', '', -1, -1));
    const open: { event: number; node: number }[] = [];
    let last = NaN; // time of the last slice opened or closed
    let lastNode = -2;
    let first = NaN;
    // The time since the previous change belongs to the stack open during it.
    const advance = (t: number) => {
      if (Number.isNaN(last)) first = t;
      else if (t > last) {
        const node = open.length ? open[open.length - 1].node : idle;
        if (node !== lastNode) builder.sample(node, last);
        lastNode = node;
      }
      last = t;
    };

    let bi = 0;
    let ei = 0;
    while (bi < begins.length || ei < ends.length) {
      let takeBegin: boolean;
      if (ei === ends.length) takeBegin = true;
      else if (bi === begins.length) takeBegin = false;
      else {
        const tb = ts[begins[bi]];
        const te = endTime(ends[ei]);
        takeBegin = tb < te || (tb === te && nameId[begins[bi]] === nameId[ends[ei]] && argsHash[begins[bi]] === argsHash[ends[ei]]);
      }
      if (takeBegin) {
        const i = begins[bi++];
        advance(ts[i]);
        const parent = open.length ? open[open.length - 1].node : -1;
        open.push({ event: i, node: builder.node(parent, frame[i]) });
        continue;
      }
      const top = open.length ? open[open.length - 1].event : -1;
      if (top >= 0) {
        // Among ends at the same time, the one closing the innermost slice goes first.
        const t = endTime(ends[ei]);
        let match = -1;
        for (let j = ei + 1; j < ends.length && endTime(ends[j]) === t && match < 0; j++) {
          if (nameId[ends[j]] === nameId[top] && argsHash[ends[j]] === argsHash[top]) match = j;
        }
        for (let j = ei + 1; j < ends.length && endTime(ends[j]) === t && match < 0; j++) {
          if (nameId[ends[j]] === nameId[top]) match = j;
        }
        if (match > 0) [ends[ei], ends[match]] = [ends[match], ends[ei]];
      }
      const i = ends[ei++];
      if (top < 0 || nameId[i] !== nameId[top]) continue; // closes nothing that is open
      advance(endTime(i));
      open.pop();
    }
    return builder.finish(core, {
      source,
      format,
      startUs: Number.isNaN(first) ? 0 : first,
      endUs: Number.isNaN(last) ? 0 : last,
    });
  }
}
