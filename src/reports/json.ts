// The report JSON of SPEC.md: a stable contract; fields may be added, never renamed.

import type { Analysis, Finding, LineStat, Totals } from '../model.js';

export interface JsonReport {
  findings: Finding[];
  lines: LineStat[];
  totals: Totals;
}

/** Milliseconds to the microsecond: the profiles' own resolution. */
export const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function jsonReport(analysis: Analysis): JsonReport {
  const { lines, totals, findings } = analysis;
  return {
    // The viewer's time ranges stay out of the report.
    findings: findings.map(({ during: _, ...finding }) => finding),
    lines: lines.map((l) => ({
      file: l.file,
      line: l.line,
      function: l.function,
      userMs: round(l.userMs),
      systemMs: round(l.systemMs),
      idleMs: round(l.idleMs),
      samples: round(l.samples),
    })),
    totals: {
      wallMs: round(totals.wallMs),
      userMs: round(totals.userMs),
      systemMs: round(totals.systemMs),
      idleMs: round(totals.idleMs),
      samples: totals.samples,
    },
  };
}
