// The event loop, GC and memory over time: a heartbeat timer (how late it fires, event-loop
// utilization, memory, async activity rates), GC entries, and the loop-delay histogram.
// Times are `performance.now()` milliseconds.

import { executionAsyncId } from 'node:async_hooks';
import {
  constants,
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type EventLoopUtilization,
  type IntervalHistogram,
} from 'node:perf_hooks';

export interface SeriesOptions {
  /** Heartbeat period (ms): one timer-drift sample per beat. */
  heartbeatMs: number;
  /** Memory, utilization and activity rates every this many beats. */
  slowEvery: number;
  /** Resolution of the loop-delay histogram (ms). */
  histogramResolutionMs: number;
}

export const DEFAULT_SERIES: SeriesOptions = { heartbeatMs: 10, slowEvery: 2, histogramResolutionMs: 10 };

export interface GcEntry {
  start: number;
  duration: number;
  kind: string;
  flags: number;
}

export interface Series {
  options: SeriesOptions;
  /** [time, lateMs] per beat: how much later than its period the heartbeat fired. */
  drift: number[];
  /** [time, utilization] over each slow period. */
  utilization: number[];
  /** [time, heapUsed, heapTotal, external, arrayBuffers, rss] in bytes. */
  memory: number[];
  /** [time, resources created, promises created, callbacks run] during each slow period. */
  activity: number[];
  gc: GcEntry[];
  /** Loop-delay histogram summary (ms), filled at stop. */
  loopDelay: Record<string, number> | null;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export interface SeriesRecorder {
  series: Series;
  /** Takes a last sample and stops everything (synchronous). */
  stop(): void;
}

/**
 * `counts` gives running totals of async activity.
 * `ownIds` receives the async ids of the recorder's own callbacks, to leave them out of the trace.
 * `onBeat` runs at the end of every heartbeat.
 */
export function startSeries(
  options: SeriesOptions,
  counts: () => { created: number; promises: number; callbacks: number },
  ownIds: Set<number>,
  onBeat: () => void = () => {},
): SeriesRecorder {
  const series: Series = { options, drift: [], utilization: [], memory: [], activity: [], gc: [], loopDelay: null };
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: options.histogramResolutionMs });
  histogram.enable();

  const takeGc = (entries: PerformanceEntry[]) => {
    for (const entry of entries) {
      const detail = (entry as PerformanceEntry & { detail?: { kind?: number; flags?: number } }).detail;
      const kind = detail?.kind ?? 0;
      series.gc.push({ start: entry.startTime, duration: entry.duration, kind: GC_KINDS[kind] ?? String(kind), flags: detail?.flags ?? 0 });
    }
  };
  const observer = new PerformanceObserver((list) => {
    ownIds.add(executionAsyncId()); // Node delivers entries in an Immediate of its own
    takeGc(list.getEntries());
  });
  observer.observe({ entryTypes: ['gc'] });

  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  let last = counts();
  let beats = 0;
  let previous = performance.now();
  const slow = (now: number, insideBeat: number) => {
    const delta = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    series.utilization.push(now, delta.utilization);
    const m = process.memoryUsage();
    series.memory.push(now, m.heapUsed, m.heapTotal, m.external, m.arrayBuffers, m.rss);
    const c = counts();
    // The heartbeat's own callbacks are not the program's activity.
    series.activity.push(now, c.created - last.created, c.promises - last.promises, c.callbacks - last.callbacks - insideBeat);
    last = c;
  };
  const timer = setInterval(() => {
    const now = performance.now();
    ownIds.add(executionAsyncId());
    series.drift.push(now, Math.max(0, now - previous - options.heartbeatMs));
    previous = now;
    if (++beats % options.slowEvery === 0) slow(now, options.slowEvery);
    onBeat();
  }, options.heartbeatMs);
  timer.unref();

  let stopped = false;
  return {
    series,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      slow(performance.now(), beats % options.slowEvery);
      takeGc(observer.takeRecords());
      observer.disconnect();
      histogram.disable();
      const ms = (ns: number) => ns / 1e6;
      series.loopDelay =
        histogram.count > 0
          ? {
              resolutionMs: options.histogramResolutionMs,
              count: histogram.count,
              min: ms(histogram.min),
              max: ms(histogram.max),
              mean: ms(histogram.mean),
              stddev: ms(histogram.stddev),
              p50: ms(histogram.percentile(50)),
              p90: ms(histogram.percentile(90)),
              p99: ms(histogram.percentile(99)),
            }
          : { resolutionMs: options.histogramResolutionMs, count: 0 };
    },
  };
}
