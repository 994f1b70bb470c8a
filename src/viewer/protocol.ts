// Messages between the viewer page and its Worker, which runs the importer, the WASM core and the
// analysis so the page stays responsive.

import type { Finding, LineStat, Totals } from '../model.js';

export interface AnalyzeRequest {
  id: number;
  name: string;
  file: Blob;
  /** The program's source files by name, to place findings on call lines. */
  sources: { name: string; file: Blob }[];
}

/** What the page shows of one input (the profile's tables stay in the Worker). */
export interface ViewerReport {
  name: string;
  format: string;
  findings: Finding[];
  lines: LineStat[];
  totals: Totals;
}

export type WorkerReply =
  | { id: number; type: 'progress'; fraction: number; phase: string }
  | { id: number; type: 'result'; report: ViewerReport; speedscope: Blob }
  | { id: number; type: 'error'; message: string };
