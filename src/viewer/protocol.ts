// Messages between the viewer page and its Worker, which runs the importer, the WASM core and the
// analysis so the page stays responsive.

import type { Finding, LineStat, TimeOrder, Totals, ValueUnit } from '../model.js';

/** A file as the user gave it, by its name (within its folder). */
export interface NamedBlob {
  name: string;
  file: Blob;
}

export interface AnalyzeRequest {
  id: number;
  /** What to call the input: the profile's file name, or the recording's folder. */
  name: string;
  /** One profile, or the files of a `collect` recording (recording.json and its processes' files). */
  input: { kind: 'profile'; file: Blob } | { kind: 'recording'; files: NamedBlob[] };
  /** The program's source files by name, to place findings on call lines. */
  sources: NamedBlob[];
}

/**
 * The run over time, binned into equal buckets (times in ms from the profile's start). Series a
 * bare profile does not have are null.
 */
export interface TimelineView {
  durationMs: number;
  bucketMs: number;
  /** Share of each bucket the loop was busy (0..1); NaN where the profile has no sample. */
  busy: number[];
  /** Share of the sampled time the loop was busy. */
  busyShare: number;
  /** Busy stretches at least this long are drawn as blocking stretches. */
  stretchMinMs: number;
  /** The longest of them (up to a few hundred) in time order, with the call site that filled most of each. */
  stretches: { startMs: number; endMs: number; site: string }[];
  stretchCount: number;
  /** When each finding (index into the report's findings) was seen, where its detector knows it. */
  findings: { index: number; spans: { startMs: number; endMs: number }[] }[];
  /** Per bucket, how late the recorder's heartbeat timer ran (ms), the most in the bucket; NaN where it did not run. */
  loopDelay: number[] | null;
  /** The largest loop delay of the whole run (the recorder's histogram), when recorded. */
  loopDelayMaxMs: number | null;
  /** Per bucket, the largest heap used and resident set size (bytes). */
  memory: { heapUsed: number[]; rss: number[] } | null;
  /** Per bucket, GC pause time (ms), and the run's totals. */
  gc: { pauseMs: number[]; count: number; totalMs: number; longestMs: number } | null;
}

/** What the page shows of one input (the profile's tables stay in the Worker). */
export interface ViewerReport {
  name: string;
  format: string;
  findings: Finding[];
  /** What the values measure: in a profile of bytes or counts, the `...Ms` fields hold bytes or counts. */
  unit: ValueUnit;
  /** 'none': the format keeps totals per stack only, so there is no timeline to draw. */
  timeOrder: TimeOrder;
  lines: LineStat[];
  totals: Totals;
  /** Null without a time order (the importer's timeline is made up) or without time (bytes, counts). */
  timeline: TimelineView | null;
  /** For a recording: the command recorded and the process analysed. */
  recording?: { command: string; pid: number; processes: number; profile: string };
}

export type WorkerReply =
  | { id: number; type: 'progress'; fraction: number; phase: string }
  | { id: number; type: 'result'; report: ViewerReport; speedscope: Blob }
  | { id: number; type: 'error'; message: string };
