// Idle time charged to the awaits that were pending during it (SPEC.md, per-line ratios): a CPU
// profile sees only "(idle)"; a recording knows which of the program's promises (in Python, the
// awaits its suspended coroutines sit in) were waiting. Idle time goes to the pending promise of
// the program's created last: in `await f()` that is the await's own promise, so the time lands on
// the line that awaits, where a sequential-await finding points too. A profile's idle entry can span
// several waits (no sample landed in the short callbacks between them), so it is split where the
// pending promises change. And an outer await (`await main()`) is created after the awaits inside
// the call it waits for: the innermost pending await takes the time (see `innerAwaits`).

import type { LineStat, Profile } from '../model.js';
import type { AsyncResources } from '../recording/model.js';
import { heaviestFirst } from './ratios.js';
import { isAwaitType, rowOf } from './recorded.js';

/** A small max-heap of resource rows keyed by init time. */
class Latest {
  private rows: number[] = [];
  constructor(private readonly init: Float64Array) {}
  push(row: number): void {
    const a = this.rows;
    a.push(row);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (this.init[a[p]] >= this.init[a[i]]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  top(): number | undefined {
    return this.rows[0];
  }
  pop(): void {
    const a = this.rows;
    const last = a.pop()!;
    if (!a.length) return;
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.init[a[l]] > this.init[a[m]]) m = l;
      if (r < a.length && this.init[a[r]] > this.init[a[m]]) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i], a[m]];
      i = m;
    }
  }
}

/** Rows scanned back from an await for the awaits inside the call it waits for. */
const INNER_SCAN_ROWS = 1000;

/**
 * For each await P of `await f()`, the await inside f it waits on, or -1: f's promise T was created
 * when f was called, and awaits created between T and P that were pending when P was created and
 * ended before it are f's own (f returned T at its first await, and P then awaited T). Only
 * awaits that resumed code (a callback ran) count: a promise f returned is the operation, not an
 * await of f's.
 */
function innerAwaits(resources: AsyncResources, isAwait: (row: number) => boolean, end: (row: number) => number): Int32Array {
  const inner = new Int32Array(resources.count).fill(-1);
  for (let p = 0; p < resources.count; p++) {
    if (!isAwait(p)) continue;
    const t = rowOf(resources, resources.trigger[p]);
    if (t < 0 || t >= p) continue;
    const created = resources.init[p];
    const ends = end(p);
    for (let q = p - 1; q > t && q >= p - INNER_SCAN_ROWS; q--) {
      if (!isAwait(q) || Number.isNaN(resources.callbackAfter[q])) continue;
      const e = end(q);
      if (e > created && e <= ends) {
        inner[p] = q;
        break;
      }
    }
  }
  return inner;
}

/**
 * Moves idle time from the "(idle)" line to the lines of the program's pending promises. Lines and
 * totals keep their sums; idle time with no await of the program's pending stays "(idle)".
 */
export function chargeIdle(lines: LineStat[], profile: Profile, resources: AsyncResources): LineStat[] {
  const idleLine = lines.find((l) => l.function === '(idle)' && l.file === '');
  if (!idleLine) return lines;
  const awaitType = resources.types.map(isAwaitType);
  // A promise stops pending at its first resolve or first callback, whichever was recorded first.
  const end = (row: number) => {
    const resolved = resources.resolveAfter[row];
    const called = resources.callbackAfter[row];
    return resources.init[row] + (Number.isNaN(resolved) ? called : Number.isNaN(called) ? resolved : Math.min(resolved, called));
  };
  const awaits = (row: number) => {
    const site = resources.sites[resources.site[row]];
    return awaitType[resources.type[row]] && site !== undefined && !site.dependency && !Number.isNaN(end(row));
  };
  const inner = innerAwaits(resources, awaits, end);
  const pending = new Latest(resources.init);
  const charged = new Map<number, number>(); // site -> idle ms
  const { timeline } = profile;
  let next = 0;
  let moved = 0;
  for (let k = 0; k < timeline.count; k++) {
    const idle = timeline.idle[k];
    const duration = timeline.duration[k];
    if (idle <= 0 || duration <= 0) continue;
    const t1 = timeline.start[k] + duration;
    // Sub-intervals in which the pending promises stay the same: cut at each creation and at the
    // end of the promise charged.
    for (let cursor = timeline.start[k]; cursor < t1; ) {
      while (next < resources.count && resources.init[next] <= cursor) {
        if (awaits(next)) pending.push(next);
        next++;
      }
      let top = pending.top();
      while (top !== undefined && end(top) <= cursor) {
        pending.pop();
        top = pending.top();
      }
      let until = t1;
      if (next < resources.count && resources.init[next] < until) until = resources.init[next];
      if (top !== undefined) {
        if (end(top) < until) until = end(top);
        let row = top;
        while (inner[row] >= 0 && end(inner[row]) > cursor) row = inner[row];
        const ms = (idle * (until - cursor)) / duration;
        const site = resources.site[row];
        charged.set(site, (charged.get(site) ?? 0) + ms);
        moved += ms;
      }
      cursor = until;
    }
  }
  if (moved === 0) return lines;
  // Samples move with the time, in proportion.
  const samplesPerMs = idleLine.idleMs > 0 ? idleLine.samples / idleLine.idleMs : 0;
  const out = lines.filter((l) => l !== idleLine);
  const rest = Math.max(0, idleLine.idleMs - moved);
  if (rest > 1e-9) out.push({ ...idleLine, idleMs: rest, samples: rest * samplesPerMs });
  const byKey = new Map(out.map((l) => [`${l.file}\u0000${l.line}\u0000${l.function}`, l]));
  for (const [siteIndex, ms] of charged) {
    const site = resources.sites[siteIndex];
    const key = `${site.file}\u0000${site.line}\u0000${site.function || '(anonymous)'}`;
    let line = byKey.get(key);
    if (!line) {
      line = { file: site.file, line: site.line, function: site.function || '(anonymous)', userMs: 0, systemMs: 0, idleMs: 0, samples: 0 };
      byKey.set(key, line);
      out.push(line);
    }
    line.idleMs += ms;
    line.samples += ms * samplesPerMs;
  }
  return out.sort(heaviestFirst);
}
