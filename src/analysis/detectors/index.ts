// The detectors, one module per bottleneck class, all `(analysis) -> Finding[]`; findings are
// ordered most important first: severity, then impact.

import type { Analysis, Finding, Severity } from '../../model.js';
import type { Attribution } from '../ratios.js';

export type Detector = (analysis: Analysis, attribution: Attribution) => Finding[];

const DETECTORS: Detector[] = [];

const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export function detect(analysis: Analysis, attribution: Attribution): Finding[] {
  return DETECTORS.flatMap((detector) => detector(analysis, attribution)).sort(
    (a, b) => RANK[a.severity] - RANK[b.severity] || (b.impactMs ?? 0) - (a.impactMs ?? 0),
  );
}
