// The recording's timeline as the viewer draws it, computed in the Worker: the loop's busy share,
// its long busy stretches, the loop delay, memory and GC series of a recording, and when each
// finding was seen. Everything is binned to a fixed number of buckets, so what crosses to the page
// stays small however long the run was. Times are ms from the profile's start.

import { attribute } from '../analysis/ratios.js';
import { THRESHOLDS } from '../analysis/thresholds.js';
import { loopPhases } from '../analysis/timeline.js';
import type { Analysis } from '../model.js';
import type { AsyncTrace, Series } from '../recording/model.js';
import type { TimelineView } from './protocol.js';

/** About one per pixel of the drawing. */
export const BUCKETS = 800;
/** Stretches and finding ranges sent to the page, the longest kept. */
const MAX_SPANS = 400;

const shortFile = (file: string) => file.replace(/[?#].*$/, '').split(/[/\\]/).pop() ?? file;

/** Keeps the `max` longest [start, end] spans, in time order. */
function longest<T extends { startMs: number; endMs: number }>(spans: T[], max: number): T[] {
  const kept = spans.length > max ? [...spans].sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs)).slice(0, max) : spans;
  return [...kept].sort((a, b) => a.startMs - b.startMs);
}

/** Per bucket, the largest value of a series' column among its records (NaN: no record). */
function bucketMax(records: Float64Array, stride: number, column: number, t0: number, bucketMs: number): number[] {
  const out = new Array<number>(BUCKETS).fill(NaN);
  for (let k = 0; k + stride <= records.length; k += stride) {
    const b = Math.min(BUCKETS - 1, Math.floor((records[k] - t0) / bucketMs));
    if (b < 0 || b >= BUCKETS) continue;
    const v = records[k + column];
    if (!(v <= out[b])) out[b] = v;
  }
  return out;
}

function seriesViews(series: Series, t0: number, bucketMs: number): Pick<TimelineView, 'loopDelay' | 'memory' | 'gc'> {
  const loopDelay = series.drift.length ? bucketMax(series.drift, 2, 1, t0, bucketMs) : null;
  const memory = series.memory.length
    ? { heapUsed: bucketMax(series.memory, 6, 1, t0, bucketMs), rss: bucketMax(series.memory, 6, 5, t0, bucketMs) }
    : null;
  let gc: TimelineView['gc'] = null;
  if (series.gc.length) {
    const pauseMs = new Array<number>(BUCKETS).fill(0);
    let count = 0;
    let totalMs = 0;
    let longestMs = 0;
    for (let k = 0; k + 2 <= series.gc.length; k += 2) {
      const [start, duration] = [series.gc[k], series.gc[k + 1]];
      count++;
      totalMs += duration;
      longestMs = Math.max(longestMs, duration);
      const b = Math.min(BUCKETS - 1, Math.floor((start - t0) / bucketMs));
      if (b >= 0) pauseMs[b] += duration;
    }
    gc = { pauseMs, count, totalMs, longestMs };
  }
  return { loopDelay, memory, gc };
}

/** The time the series' records span, [first, last] (ms). */
function seriesSpan(series: Series): [number, number] {
  let first = Infinity;
  let last = -Infinity;
  for (const [records, stride] of [[series.drift, 2], [series.memory, 6], [series.gc, 2]] as const) {
    if (records.length < stride) continue;
    first = Math.min(first, records[0]);
    last = Math.max(last, records[records.length - stride]);
  }
  return [first, last];
}

export function timelineView(analysis: Analysis, trace?: AsyncTrace | null): TimelineView {
  const { profile, findings } = analysis;
  const { timeline } = profile;
  // The profile's span, widened to the recorder's series (its last samples often follow the profile's end).
  const [first, last] = trace ? seriesSpan(trace.series) : [Infinity, -Infinity];
  const t0 = Math.min(profile.startMs, first);
  const durationMs = Math.max(Math.max(profile.endMs, last) - t0, 1e-3);
  const bucketMs = durationMs / BUCKETS;
  // Busy and sampled time per bucket; an entry over several buckets is spread evenly across them.
  const busy = new Float64Array(BUCKETS);
  const covered = new Float64Array(BUCKETS);
  for (let k = 0; k < timeline.count; k++) {
    const start = timeline.start[k] - t0;
    const duration = timeline.duration[k];
    if (duration <= 0) continue;
    const busyShare = Math.max(0, duration - timeline.idle[k]) / duration;
    const end = start + duration;
    for (let b = Math.max(0, Math.floor(start / bucketMs)); b < BUCKETS && b * bucketMs < end; b++) {
      const overlap = Math.min(end, (b + 1) * bucketMs) - Math.max(start, b * bucketMs);
      if (overlap <= 0) continue;
      covered[b] += overlap;
      busy[b] += overlap * busyShare;
    }
  }
  const { stretches } = loopPhases(profile, attribute(profile));
  const long = stretches
    .filter((s) => s.duration >= THRESHOLDS.blockingStretchMs)
    .map((s) => {
      const site = s.sites[0]?.site;
      // The function and its file: the line a finding names may be a call inside it, found in the source.
      const where = site ? `${site.function || '(anonymous)'}${site.file ? ` (${shortFile(site.file)})` : ''}` : '';
      return { startMs: s.start - t0, endMs: s.start + s.duration - t0, site: where };
    });
  const marks = findings.map((f, index) => ({
    index,
    spans: longest((f.during ?? []).map(([s, e]) => ({ startMs: s - t0, endMs: e - t0 })), MAX_SPANS),
  }));
  return {
    durationMs,
    bucketMs,
    busy: Array.from(busy, (v, b) => (covered[b] > 0 ? v / covered[b] : NaN)),
    busyShare: busy.reduce((a, b) => a + b, 0) / Math.max(1e-9, covered.reduce((a, b) => a + b, 0)),
    stretchMinMs: THRESHOLDS.blockingStretchMs,
    stretches: longest(long, MAX_SPANS),
    stretchCount: long.length,
    findings: marks.filter((m) => m.spans.length > 0),
    loopDelayMaxMs: trace?.metadata.loopDelay?.max ?? null,
    ...(trace ? seriesViews(trace.series, t0, bucketMs) : { loopDelay: null, memory: null, gc: null }),
  };
}
