// The report JSON of SPEC.md: a stable contract; fields may be added, never renamed.
//
// Added: `unit` ("ms", "bytes" or "count": what the profile's values measure). A profile of bytes
// or counts (a heap profile, a pprof sample type that is not time) has no time: its `...Ms` fields
// are 0, and `self` on every line and in the totals holds the value in that unit.
// Added: `timeOrder` ("real" or "none"): "none" for a format that keeps totals per stack only
// (pprof, folded stacks), whose findings never rest on the order of samples (src/analysis/untimed.ts).

import { timeOrderOf, unitOf, type Analysis, type Finding, type LineStat, type TimeOrder, type Totals, type ValueUnit } from '../model.js';

export interface JsonReport {
  findings: Finding[];
  lines: (LineStat & { self?: number })[];
  totals: Totals & { self?: number };
  /** Absent in reports written before it was added: "ms". */
  unit?: ValueUnit;
  /** Absent in reports written before it was added: "real". */
  timeOrder?: TimeOrder;
}

/** Milliseconds to the microsecond: the profiles' own resolution. */
export const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function jsonReport(analysis: Analysis): JsonReport {
  const { lines, totals, findings } = analysis;
  const unit = unitOf(analysis.profile);
  const time = unit === 'ms';
  const ms = (value: number) => (time ? round(value) : 0);
  return {
    // The viewer's time ranges stay out of the report.
    findings: findings.map(({ during: _, ...finding }) => finding),
    lines: lines.map((l) => ({
      file: l.file,
      line: l.line,
      function: l.function,
      userMs: ms(l.userMs),
      systemMs: ms(l.systemMs),
      idleMs: ms(l.idleMs),
      samples: round(l.samples),
      ...(time ? {} : { self: round(l.userMs + l.systemMs + l.idleMs) }),
    })),
    totals: {
      wallMs: ms(totals.wallMs),
      userMs: ms(totals.userMs),
      systemMs: ms(totals.systemMs),
      idleMs: ms(totals.idleMs),
      samples: totals.samples,
      ...(time ? {} : { self: round(totals.wallMs) }),
    },
    unit,
    timeOrder: timeOrderOf(analysis.profile),
  };
}
