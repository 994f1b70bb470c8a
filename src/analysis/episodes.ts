// A line's operations from an async trace, merged into episodes: operations that overlap make one
// episode, and episodes that never overlap are waits one after another. Past a code path's first
// resources the recorder traces 1 in K, weighted K; the waits of the ones it skipped are estimated
// from the sample.

import { THRESHOLDS } from './thresholds.js';

/** An operation's [start, end], the resources it stands for (K when traced 1 in K), and its callee. */
export type Op = [number, number, number, number];

export interface Episodes {
  starts: number[];
  ends: number[];
  /** Per episode: traced operations, and the resources they stand for. */
  ops: number[];
  weights: number[];
  /** Per operation (in start order): its episode, -1 for a container. */
  member: Int32Array;
}

/** The site's operations with containers left out, merged into episodes. */
export function episodes(ops: Op[]): Episodes {
  const n = ops.length;
  ops.sort((a, b) => a[0] - b[0]);
  const s = ops.map((o) => o[0]);
  const e = ops.map((o) => o[1]);
  // An operation that contains two disjoint operations of the same site is a container (a promise
  // that lives across the whole loop, the final await of a chain): it would merge every episode
  // into one, so it is left out. minEnd[k]: the earliest end among operations k..n-1.
  const minEnd = new Float64Array(n + 1).fill(Infinity);
  for (let k = n - 1; k >= 0; k--) minEnd[k] = Math.min(minEnd[k + 1], e[k]);
  const firstFrom = (t: number) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const out: Episodes = { starts: [], ends: [], ops: [], weights: [], member: new Int32Array(n).fill(-1) };
  const { starts, ends } = out;
  // The episode's second-latest end: the latest may be the await that started this operation,
  // settling as its continuation (which started the next batch) finished.
  let runnerUp = -Infinity;
  for (let k = 0; k < n; k++) {
    const e1 = minEnd[firstFrom(s[k])];
    if (e1 < e[k] && minEnd[firstFrom(e1)] <= e[k]) continue; // a container
    const last = ends.length - 1;
    const touching = last >= 0 && s[k] >= ends[last] - THRESHOLDS.sequentialTouchMs && s[k] >= runnerUp;
    if (last >= 0 && s[k] <= ends[last] && !touching) {
      runnerUp = Math.max(runnerUp, Math.min(ends[last], e[k]));
      ends[last] = Math.max(ends[last], e[k]);
      out.ops[last]++;
      out.weights[last] += ops[k][2];
      out.member[k] = last;
    } else {
      // Touching the previous episode: the next step of a loop, started as the last one settled.
      if (touching) ends[last] = Math.min(ends[last], s[k]);
      starts.push(s[k]);
      ends.push(e[k]);
      out.ops.push(1);
      out.weights.push(ops[k][2]);
      out.member[k] = starts.length - 1;
      runnerUp = -Infinity;
    }
  }
  return out;
}

/**
 * The time a sampled line's operations waited. Past a code path's first resources the recorder
 * traces 1 in K, weighted K: the weighted sum of the resources' waits estimates theirs all, and the
 * fully traced episodes (the first ones) tell how much the resources of one operation overlap (a
 * call's promise, its fs requests, fetch's dozens). Null when too few were traced in full to tell.
 */
export function sampledWaits(ops: Op[], ep: Episodes, kept: Set<number>): number | null {
  // Traced in full: the episodes before the first sampled resource (a group's later ones, traced
  // in full too, belong to episodes whose other resources were sampled). Any of them, kept or not:
  // how a call's resources overlap does not depend on whether the loop sat idle meanwhile.
  let sampledFrom = Infinity;
  for (const op of ops) if (op[2] > 1) sampledFrom = Math.min(sampledFrom, op[0]);
  const full = new Set(ep.starts.map((_, k) => k).filter((k) => ep.ends[k] < sampledFrom && ep.ends[k] > ep.starts[k]));
  if (full.size < THRESHOLDS.sequentialMinWaits) return null;
  let fullMs = 0;
  for (const k of full) fullMs += ep.ends[k] - ep.starts[k];
  let fullOpsMs = 0;
  let weightedMs = 0;
  for (let i = 0; i < ops.length; i++) {
    const k = ep.member[i];
    const d = ops[i][1] - ops[i][0];
    if (full.has(k)) fullOpsMs += d;
    if (kept.has(k)) weightedMs += ops[i][2] * d;
  }
  return weightedMs / (fullOpsMs / fullMs);
}

/** The time operations waited, each counted for the resources it stands for. */
export const weightedMs = (ops: Op[]) => ops.reduce((sum, [start, end, weight]) => sum + weight * (end - start), 0);
