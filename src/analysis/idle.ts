// Idle time charged to the awaits that were pending during it (SPEC.md, per-line ratios): a CPU
// profile sees only "(idle)"; a recording knows which of the program's promises (or, in Python,
// suspended awaits) were waiting. Each
// idle stretch goes to the pending promise of the program's created last: in `await f()` that is
// the await's own promise, so the time lands on the line that awaits, where a sequential-await
// finding points too.

import type { LineStat, Profile } from '../model.js';
import type { AsyncResources } from '../recording/model.js';
import { heaviestFirst } from './ratios.js';
import { isAwaitType } from './recorded.js';

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
  const pending = new Latest(resources.init);
  const charged = new Map<number, number>(); // site -> idle ms
  const { timeline } = profile;
  let next = 0;
  let moved = 0;
  for (let k = 0; k < timeline.count; k++) {
    const idle = timeline.idle[k];
    if (idle <= 0) continue;
    const t0 = timeline.start[k];
    const t1 = t0 + timeline.duration[k];
    while (next < resources.count && resources.init[next] < t1) {
      if (awaits(next)) pending.push(next);
      next++;
    }
    // A long idle entry (the timeline merges a run of idle samples) goes to each await in turn
    // as the one created last settles: a quick await must not take a whole second of idle.
    const span = Math.max(t1 - t0, 1e-9);
    let t = t0;
    do {
      let top = pending.top();
      while (top !== undefined && end(top) <= t) {
        pending.pop();
        top = pending.top();
      }
      if (top === undefined) break;
      const until = Math.min(t1, end(top));
      const ms = t1 > t0 ? (idle * (until - t)) / span : idle;
      const site = resources.site[top];
      charged.set(site, (charged.get(site) ?? 0) + ms);
      moved += ms;
      t = until;
    } while (t < t1);
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
