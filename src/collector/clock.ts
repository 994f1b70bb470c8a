// One clock for everything a recording holds: V8's CPU profile timestamps are microseconds of the
// monotonic clock that `process.hrtime` reads (both are CLOCK_MONOTONIC on Linux; measured: the
// profile's `startTime` falls between hrtime readings taken just before and after `Profiler.start`).
// `performance.now()` is cheaper to read in hooks and counts milliseconds from this thread's
// `timeOrigin` on the same clock, so `profileUs = performance.now() * 1000 + offsetUs`.

import { performance } from 'node:perf_hooks';

export const hrtimeUs = (): number => Number(process.hrtime.bigint()) / 1000;

export interface ClockAlignment {
  /** Add to `performance.now() * 1000` to get the profile's clock. */
  offsetUs: number;
  /** Half the narrowest bracket of hrtime readings around one `performance.now()`: the offset's uncertainty. */
  uncertaintyUs: number;
}

/** Brackets `performance.now()` between two hrtime readings, keeps the narrowest of a few tries. */
export function alignClocks(tries = 25): ClockAlignment {
  let best = { offsetUs: 0, uncertaintyUs: Infinity };
  for (let i = 0; i < tries; i++) {
    const before = hrtimeUs();
    const now = performance.now() * 1000;
    const after = hrtimeUs();
    const half = (after - before) / 2;
    if (half < best.uncertaintyUs) best = { offsetUs: before + half - now, uncertaintyUs: half };
  }
  return best;
}
