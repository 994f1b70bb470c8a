// The pipeline in one place: bytes -> importer (through the WASM core) -> ratios and detectors.

import { openFile, openStdin } from './core/file-source.js';
import type { ByteSource } from './core/source.js';
import { DEFAULT_WINDOW_BYTES, loadCore, type Core } from './core/wasm.js';
import { attribute, lineTable } from './analysis/ratios.js';
import { detect } from './analysis/detectors/index.js';
import { importProfile } from './importers/index.js';
import type { Analysis, Profile } from './model.js';

export interface AnalyzeOptions {
  /** Bytes read per chunk (the core's window); tiny values exercise chunk boundaries in tests. */
  windowBytes?: number;
}

const cores = new Map<number, Promise<Core>>();

function coreFor(windowBytes: number): Promise<Core> {
  let core = cores.get(windowBytes);
  if (!core) cores.set(windowBytes, (core = loadCore(windowBytes)));
  return core;
}

export function analyzeProfile(profile: Profile): Analysis {
  const attribution = attribute(profile);
  const { lines, totals } = lineTable(profile, attribution);
  const analysis: Analysis = { profile, nodeShare: attribution.nodeShare, lines, totals, findings: [] };
  analysis.findings = detect(analysis, attribution);
  return analysis;
}

export async function analyzeSource(source: ByteSource, options: AnalyzeOptions = {}): Promise<Analysis> {
  const core = await coreFor(options.windowBytes ?? DEFAULT_WINDOW_BYTES);
  return analyzeProfile(await importProfile(source, core));
}

/** Analyses a file, or standard input when `path` is '-'. */
export async function analyzeFile(path: string, options: AnalyzeOptions = {}): Promise<Analysis> {
  const source = path === '-' ? await openStdin() : await openFile(path);
  try {
    return await analyzeSource(source, options);
  } finally {
    await source.close();
  }
}
