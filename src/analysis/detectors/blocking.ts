// `blocking`: one synchronous call holds the event loop. Evidence: busy stretches of the loop (no
// idle between samples) at least THRESHOLDS.blockingStretchMs long, most of whose time one call site
// of the user's code accounts for.

import type { Finding } from '../../model.js';
import { round } from '../../reports/json.js';
import { THRESHOLDS } from '../thresholds.js';
import type { Site } from '../timeline.js';
import type { Detector } from './index.js';

interface Culprit {
  site: Site;
  stretches: number;
  longestMs: number;
  blockedMs: number;
  systemMs: number;
}

export const blocking: Detector = ({ analysis, stretches }) => {
  const { profile, totals } = analysis;
  const culprits = new Map<string, Culprit>();
  for (const stretch of stretches) {
    if (stretch.duration < THRESHOLDS.blockingStretchMs) continue;
    const top = stretch.sites[0];
    if (!top || top.ms < THRESHOLDS.culpritShare * stretch.duration) continue;
    if (profile.frames[profile.nodeFrame[top.site.node]].kind !== 'user') continue;
    const key = `${top.site.file}\u0000${top.site.line}\u0000${top.site.function}`;
    let c = culprits.get(key);
    if (!c) culprits.set(key, (c = { site: top.site, stretches: 0, longestMs: 0, blockedMs: 0, systemMs: 0 }));
    c.stretches++;
    c.longestMs = Math.max(c.longestMs, stretch.duration);
    c.blockedMs += top.ms;
    c.systemMs += top.systemMs;
  }
  return [...culprits.values()].map((c): Finding => {
    const warning = c.longestMs >= THRESHOLDS.blockingWarningStretchMs || c.stretches >= THRESHOLDS.blockingRepeats;
    const critical =
      c.longestMs >= THRESHOLDS.blockingCriticalStretchMs ||
      (warning && c.blockedMs >= THRESHOLDS.blockingCriticalShare * totals.wallMs);
    const what = c.site.callee ?? c.site.function;
    return {
      kind: 'blocking',
      severity: critical ? 'critical' : warning ? 'warning' : 'info',
      title: `${what} blocks the event loop`,
      location: { file: c.site.file, line: c.site.line, column: c.site.column, function: c.site.function },
      impactMs: round(c.blockedMs),
      evidence: {
        longestStretchMs: round(c.longestMs),
        stretches: c.stretches,
        blockedMs: round(c.blockedMs),
        systemShare: round(c.systemMs / c.blockedMs),
        wallShare: round(c.blockedMs / totals.wallMs),
        source: 'cpu-profile',
      },
      suggestion: suggestion(c),
    };
  });
};

function suggestion(c: Culprit): string {
  const longest = `${Math.round(c.longestMs)} ms`;
  const callee = c.site.callee;
  if (callee && /Sync$/.test(callee)) {
    return `${callee} is synchronous and held the loop for up to ${longest}: use ${callee.replace(/Sync$/, '')} (callback or promise form) so the loop keeps serving other work, or move the call to a worker thread.`;
  }
  if (c.systemMs > 0.5 * c.blockedMs) {
    return `The loop waits outside JavaScript here for up to ${longest} at a time: use the asynchronous form of ${callee ?? 'this call'}, or move it to a worker thread.`;
  }
  return `${c.site.function} runs for up to ${longest} without yielding (JavaScript, or a synchronous wait such as Atomics.wait that a CPU profile shows as JavaScript): move the work to a worker thread, or split it into chunks that yield between them (await new Promise(setImmediate)).`;
}
