// The detectors, one module per bottleneck class, all with one signature: what the input shows in,
// findings out. Findings are ordered most important first: severity, then impact.

import type { Analysis, Finding, Severity } from '../../model.js';
import type { Attribution } from '../ratios.js';
import { loopPhases, type Gap, type Stretch } from '../timeline.js';
import { blocking } from './blocking.js';
import { sequential } from './sequential.js';
import { contextSwitching } from './context-switching.js';

export interface Evidence {
  analysis: Analysis;
  attribution: Attribution;
  /** The main thread's busy stretches and idle gaps, in time order. */
  stretches: Stretch[];
  gaps: Gap[];
}

export type Detector = (evidence: Evidence) => Finding[];

const DETECTORS: Detector[] = [blocking, sequential, contextSwitching];

const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export function detect(analysis: Analysis, attribution: Attribution): Finding[] {
  const evidence: Evidence = { analysis, attribution, ...loopPhases(analysis.profile, attribution) };
  return DETECTORS.flatMap((detector) => detector(evidence)).sort(
    (a, b) => RANK[a.severity] - RANK[b.severity] || (b.impactMs ?? 0) - (a.impactMs ?? 0),
  );
}
