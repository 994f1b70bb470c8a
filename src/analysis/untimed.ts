// Profiles without a time order (Profile.timeOrder 'none': pprof, folded stacks, heap profiles).
// Such a format keeps one total per stack; its importer lays the stacks end to end, so the timeline
// shows every stack as one run of all its samples. Measured: @datadog/pprof wall profiles of a
// program whose hot() ran 20 times for 30 ms (median call 30-32 ms, a few stretched to 47-154 ms on
// a loaded machine) with the loop idle between calls (test/programs/untimed-bursts.cjs, four
// recordings) made one stretch of all of hot()'s samples, and the blocking detector said "hot runs
// for up to 424-560 ms without yielding".
//
// The rule, applied once in the detectors' entry (detectors/index.ts): an untimed profile has no
// loop phases. What reads stretches and gaps (blocking stretches, trains of idle waits, loop
// starvation) finds nothing; what reads totals per stack (context switching's shares) is unchanged;
// and a blocking call is found by its share of the profile instead (blockingByShare), in words that
// name no length of one call.

import { Share, timeOrderOf, type Finding, type Profile } from '../model.js';
import { round } from '../reports/json.js';
import type { Attribution } from './ratios.js';
import { isPythonFile } from './recorded.js';
import { THRESHOLDS } from './thresholds.js';
import { loopPhases, siteOf, type Gap, type Site, type Stretch } from './timeline.js';
import type { Detector } from './detectors/index.js';

/** The loop's busy stretches and idle gaps, or none when the profile's order is not the order of time. */
export function phasesOf(profile: Profile, attribution: Attribution): { stretches: Stretch[]; gaps: Gap[] } {
  return timeOrderOf(profile) === 'real' ? loopPhases(profile, attribution) : { stretches: [], gaps: [] };
}

/** Synchronous sleeps and waits by name (Node, Python, C): off the CPU, not computing. */
const SLEEP = /(^|[.:])(sleep|usleep|nanosleep|wait|futex|pthread_cond_wait|pthread_cond_timedwait)$/i;

/**
 * `blocking` for an untimed profile: a call outside the program's own code (a native call, a
 * runtime's synchronous API: system share) made from one of its lines, taking a large share of the
 * whole profile. The share is exact whatever the order; whether it was one long call or many short
 * ones is not known, so the finding says neither.
 */
export const blockingByShare: Detector = ({ analysis, attribution }) => {
  const { profile, totals } = analysis;
  if (timeOrderOf(profile) === 'real' || !(totals.wallMs > 0)) return [];
  const bySite = new Map<string, { site: Site; ms: number }>();
  for (let node = 0; node < profile.nodeParent.length; node++) {
    const ms = profile.nodeSelfMs[node];
    const target = attribution.charged[node];
    if (!(ms > 0) || target === node || attribution.nodeShare[node] !== Share.System) continue;
    if (profile.frames[profile.nodeFrame[target]].kind !== 'user') continue;
    const site = siteOf(profile, attribution, node);
    const key = `${site.file}\u0000${site.line}\u0000${site.function}\u0000${site.callee ?? ''}`;
    const entry = bySite.get(key);
    if (entry) entry.ms += ms;
    else bySite.set(key, { site, ms });
  }
  const findings: Finding[] = [];
  for (const { site, ms } of bySite.values()) {
    const share = ms / totals.wallMs;
    if (share < THRESHOLDS.untimedBlockingShare) continue;
    const what = site.callee ?? site.function;
    const sleeps = SLEEP.test(what);
    const percent = `${Math.round(100 * share)}%`;
    const python = isPythonFile(site.file);
    const remedy = sleeps
      ? python
        ? 'Use `await asyncio.sleep(...)`, or run the wait in a thread (`await asyncio.to_thread(...)`).'
        : 'Wait asynchronously instead (await setTimeout from node:timers/promises, Atomics.waitAsync, an event), or wait in a worker thread.'
      : python
        ? 'Use its asynchronous form, or run it in a thread (`await asyncio.to_thread(...)`).'
        : 'Use its asynchronous form, or move it to a worker thread.';
    findings.push({
      kind: 'blocking',
      severity: share >= THRESHOLDS.untimedBlockingWarningShare ? 'warning' : 'info',
      title: `${what} ${sleeps ? 'sleeps synchronously' : 'runs synchronously'} for ${percent} of the profile`,
      location: { file: site.file, line: site.line, column: site.column, function: site.function },
      impactMs: round(ms),
      evidence: { blockedMs: round(ms), wallShare: round(share), systemShare: 1, timeOrder: 'none', source: 'cpu-profile' },
      suggestion:
        `${what} ${sleeps ? 'waits' : 'runs'} synchronously outside the program's own code for ${percent} of the profiled time (${Math.round(ms)} ms), ` +
        `holding the thread meanwhile. ${remedy} This profile keeps totals per stack, not the order of the samples: ` +
        `how long one call held the loop is not known (a CPU profile or a \`loopscope collect\` recording shows it).`,
    });
  }
  return findings;
};
