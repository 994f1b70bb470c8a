// `sequential`: independent awaits run one after another. A bare CPU profile shows it only
// indirectly: a train of idle waits, each ended by a short burst of work that resumes the code and
// starts the next wait. Samples rarely catch the user's own frame in such bursts (most of a resumption
// is Node's own code), so the train is credited to the user function seen most across its bursts.
// Without an async trace the awaits may also be dependent, so the finding is `info` and names the
// recording that would confirm it.

import type { Finding } from '../../model.js';
import { round } from '../../reports/json.js';
import { THRESHOLDS } from '../thresholds.js';
import type { Gap, Site, Stretch } from '../timeline.js';
import type { Detector, Evidence } from './index.js';

interface Train {
  waits: number[];
  bursts: Stretch[];
}

/** Runs of long idle gaps separated only by short bursts. */
function trains({ stretches, gaps }: Evidence): Train[] {
  const phases: (Gap | Stretch)[] = [...stretches, ...gaps].sort((a, b) => a.start - b.start);
  const out: Train[] = [];
  let train: Train = { waits: [], bursts: [] };
  const close = () => {
    if (train.waits.length) out.push(train);
    train = { waits: [], bursts: [] };
  };
  for (const phase of phases) {
    if ('sites' in phase) {
      if (phase.duration > THRESHOLDS.sequentialBurstMs) close();
      else train.bursts.push(phase);
    } else if (phase.duration >= THRESHOLDS.sequentialGapMs) train.waits.push(phase.duration);
  }
  close();
  return out;
}

export const sequential: Detector = (evidence) => {
  const { profile, totals } = evidence.analysis;
  const findings: Finding[] = [];
  for (const { waits, bursts } of trains(evidence)) {
    const waited = waits.reduce((a, b) => a + b, 0);
    if (waits.length < THRESHOLDS.sequentialMinGaps || waited < THRESHOLDS.sequentialIdleShare * totals.wallMs) continue;
    const users = new Map<string, { site: Site; ms: number }>();
    for (const burst of bursts) {
      for (const { site, ms } of burst.sites) {
        if (profile.frames[profile.nodeFrame[site.node]].kind !== 'user') continue;
        const key = `${site.file}\u0000${site.function}`;
        const u = users.get(key);
        if (u) u.ms += ms;
        else users.set(key, { site, ms });
      }
    }
    const site = [...users.values()].sort((a, b) => b.ms - a.ms)[0]?.site;
    if (!site) continue;
    // A wake-up too short for any sample merges two waits into one gap: split gaps that are a
    // multiple of the typical wait back into that many waits.
    const typical = [...waits].sort((a, b) => a - b)[waits.length >> 1];
    const parts = waits.map((w) => Math.max(1, Math.round(w / typical)));
    const count = parts.reduce((a, b) => a + b, 0);
    const longest = Math.max(...waits.map((w, i) => w / parts[i]));
    findings.push({
      kind: 'sequential',
      severity: 'info',
      title: `${site.function} seems to await one operation after another`,
      location: { file: site.file, line: site.line, column: site.column, function: site.function },
      impactMs: round(waited - longest),
      evidence: {
        waits: count,
        waitedMs: round(waited),
        longestWaitMs: round(longest),
        medianWaitMs: round(typical),
        wallShare: round(waited / totals.wallMs),
        source: 'cpu-profile',
      },
      suggestion:
        `The loop sat idle ${count} times in a row (typically ${Math.round(typical)} ms), waking only briefly in between. ` +
        `If these awaits are independent, start them together (Promise.all, or a bounded pool) and wait once. ` +
        `A CPU profile cannot see what was awaited: record with \`loopscope collect\` to confirm the awaits never overlap.`,
    });
  }
  return findings;
};
