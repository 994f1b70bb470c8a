// The main thread's timeline seen as the loop sees it: busy stretches (the loop never waits) and
// idle gaps, each busy stretch with the call sites that filled it.

import { Share, type Profile } from '../model.js';
import { childOn, mainLine, type Attribution } from './ratios.js';
import { THRESHOLDS } from './thresholds.js';

export interface Site {
  /** The node the time is charged to (a user frame when there is one). */
  node: number;
  file: string;
  line: number;
  function: string;
  column: number;
  /** The frame the site calls into (e.g. scryptSync), when the time is spent below it. */
  callee?: string;
}

export interface Stretch {
  start: number;
  duration: number;
  /** Busy time per site key, heaviest first. */
  sites: { site: Site; ms: number; systemMs: number }[];
  /** Busy time spent loading code (Node compiling a module on first use) and in the recorder. */
  loadingMs: number;
  recorderMs: number;
}

/** Node's module loading: compiling a built-in or a file on first use, a one-time cost (Python's: an import). */
const LOADING = new Set(['compileForInternalLoader', 'requireBuiltin', 'Module._load', 'Module._compile', 'wrapSafe', 'compileFunction', 'loadESM', '_find_and_load']);

/** Per node: 1 when a module-loading frame of Node's is on its stack. */
export function loadingNodes(profile: Profile): Uint8Array {
  const n = profile.nodeParent.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const frame = profile.frames[profile.nodeFrame[i]];
    const parent = profile.nodeParent[i];
    out[i] = (parent >= 0 && out[parent]) || (frame.kind !== 'user' && frame.kind !== 'dependency' && LOADING.has(frame.name)) ? 1 : 0;
  }
  return out;
}

export interface Gap {
  start: number;
  duration: number;
}

export function siteOf(profile: Profile, attribution: Attribution, node: number): Site {
  const target = attribution.charged[node];
  const frame = profile.frames[profile.nodeFrame[target]];
  let callee: string | undefined;
  if (target !== node) {
    // The child of the charged frame on the path down to the running node: the API it called.
    callee = profile.frames[profile.nodeFrame[childOn(profile, target, node)]].name;
  }
  return { node: target, file: frame.file, line: mainLine(profile, target), function: frame.name, column: frame.column, callee };
}

const siteKey = (s: Site) => `${s.file}\u0000${s.line}\u0000${s.function}\u0000${s.callee ?? ''}`;

/** Splits the timeline into busy stretches and idle gaps, in time order. */
export function loopPhases(profile: Profile, attribution: Attribution): { stretches: Stretch[]; gaps: Gap[] } {
  const { timeline } = profile;
  const stretches: Stretch[] = [];
  const gaps: Gap[] = [];
  let bySite: Map<string, { site: Site; ms: number; systemMs: number }> | undefined;
  let start = 0;
  let end = 0;
  let loadingMs = 0;
  let recorderMs = 0;
  const loading = loadingNodes(profile);
  // Sites and their keys per node, made once: the timeline has up to 131 072 entries, nodes far fewer.
  const sites: (Site | undefined)[] = new Array(profile.nodeParent.length);
  const keys: string[] = new Array(profile.nodeParent.length);
  let gapStart = -1;
  let gapEnd = 0;
  const closeStretch = () => {
    if (!bySite) return;
    stretches.push({ start, duration: end - start, sites: [...bySite.values()].sort((a, b) => b.ms - a.ms), loadingMs, recorderMs });
    bySite = undefined;
    loadingMs = 0;
    recorderMs = 0;
  };
  for (let k = 0; k < timeline.count; k++) {
    const duration = timeline.duration[k];
    const t = timeline.start[k];
    if (timeline.idle[k] > THRESHOLDS.idleEntryShare * duration) {
      closeStretch();
      if (gapStart < 0) gapStart = t;
      gapEnd = t + duration;
      continue;
    }
    if (gapStart >= 0) {
      gaps.push({ start: gapStart, duration: gapEnd - gapStart });
      gapStart = -1;
    }
    if (!bySite) {
      bySite = new Map();
      start = t;
    }
    end = t + duration;
    const node = timeline.node[k];
    const busy = duration - timeline.idle[k];
    // Loading code is counted apart: a one-time cost, not a call of the program's to blame.
    if (loading[node]) {
      loadingMs += busy;
      continue;
    }
    let site = sites[node];
    if (!site) {
      site = sites[node] = siteOf(profile, attribution, node);
      keys[node] = siteKey(site);
    }
    const key = keys[node];
    let entry = bySite.get(key);
    if (!entry) bySite.set(key, (entry = { site, ms: 0, systemMs: 0 }));
    if (profile.frames[profile.nodeFrame[site.node]].kind === 'recorder') recorderMs += busy;
    entry.ms += busy;
    if (attribution.nodeShare[node] === Share.System) entry.systemMs += busy;
  }
  closeStretch();
  if (gapStart >= 0) gaps.push({ start: gapStart, duration: gapEnd - gapStart });
  return { stretches, gaps };
}
