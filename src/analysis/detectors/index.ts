// The detectors, one module per bottleneck class, all with one signature: what the input shows in,
// findings out. A bare CPU profile is evidence enough for some classes, at a lower severity where
// it shows the cause only indirectly; a `collect` recording adds the async trace, the loop / GC /
// memory / off-CPU series and the heap profile. Findings are ordered most important first:
// severity, then impact.

import { unitOf, type Analysis, type Finding, type Severity } from '../../model.js';
import type { RecordingEvidence, SourceLookup } from '../../recording/model.js';
import { stretchTasks, type StretchTasks } from '../recorded.js';
import type { Attribution } from '../ratios.js';
import { THRESHOLDS } from '../thresholds.js';
import type { Gap, Stretch } from '../timeline.js';
import { blockingByShare, phasesOf } from '../untimed.js';
import { blocking } from './blocking.js';
import { contextSwitching } from './context-switching.js';
import { memory } from './memory.js';
import { sequential } from './sequential.js';
import { starvation } from './starvation.js';

export interface Evidence {
  analysis: Analysis;
  attribution: Attribution;
  /** The main thread's busy stretches and idle gaps, in time order; none for a profile without a time order (src/analysis/untimed.ts). */
  stretches: Stretch[];
  gaps: Gap[];
  /** What a `collect` recording adds; absent for a bare CPU profile. */
  recording?: RecordingEvidence;
  /** The program's source, where it can be read: places a call the profile names on its line. */
  source?: SourceLookup;
  /** Per stretch (same index), the tasks that filled it, for stretches of at least THRESHOLDS.blockingStretchMs and a recording with a trace. */
  tasks: (StretchTasks | null)[];
}

export type Detector = (evidence: Evidence) => Finding[];

const DETECTORS: Detector[] = [blocking, sequential, contextSwitching, starvation, memory, blockingByShare];

const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Findings of equal severity: time at stake first; memory (bytes at stake) after them. */
const weight = (f: Finding) => f.impactMs ?? -1 / (1 + (f.impactBytes ?? 0));

export function detect(analysis: Analysis, attribution: Attribution, recording?: RecordingEvidence, source?: SourceLookup): Finding[] {
  // Every detector reads time: a profile of bytes or counts (heap, allocation counts) has none.
  if (unitOf(analysis.profile) !== 'ms') return [];
  // A profile without a time order has no stretches or gaps: see src/analysis/untimed.ts.
  const phases = phasesOf(analysis.profile, attribution);
  const tasks = recording?.trace
    ? stretchTasks(recording.trace, phases.stretches, THRESHOLDS.blockingStretchMs)
    : phases.stretches.map(() => null);
  const evidence: Evidence = { analysis, attribution, ...phases, recording, tasks, source: source ?? recording?.source };
  return spawningSteps(DETECTORS.flatMap((detector) => detector(evidence))).sort(
    (a, b) => RANK[a.severity] - RANK[b.severity] || weight(b) - weight(a),
  );
}

/**
 * A line that spawns a flood of tiny tasks may also hold the loop while it creates them (asyncio's
 * gather of 100,000 coroutines, on a loaded machine): that stretch is the same problem, and the
 * context-switching finding's advice fixes it, so the blocking finding at that line stays, as info.
 */
function spawningSteps(findings: Finding[]): Finding[] {
  const spawners = new Set(
    findings.filter((f) => f.kind === 'context-switching' && f.severity !== 'info').map((f) => `${f.location.file}:${f.location.line}`),
  );
  return findings.map((f) =>
    f.kind === 'blocking' && spawners.has(`${f.location.file}:${f.location.line}`) ? { ...f, severity: 'info' } : f,
  );
}
