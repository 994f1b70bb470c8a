// The pipeline in one place: bytes -> importer (through the WASM core) -> ratios and detectors. A
// `collect` recording is one input: its main process's CPU profile through the importer, and what
// the collector added (async trace, series, heap profile) as evidence beside it.

import { readFile, stat } from 'node:fs/promises';
import { openFile, openStdin } from './core/file-source.js';
import type { ByteSource } from './core/source.js';
import { DEFAULT_WINDOW_BYTES, loadCore, type Core } from './core/wasm.js';
import { attribute, lineTable, offCpuByNode, type CallSite } from './analysis/ratios.js';
import { callLine, cpuWindow } from './analysis/recorded.js';
import { detect } from './analysis/detectors/index.js';
import { chargeIdle } from './analysis/idle.js';
import { importProfile } from './importers/index.js';
import { isScaleneProfile, scaleneMemoryFindings } from './importers/scalene.js';
import { applySourceMaps, type ReadText } from './importers/source-maps.js';
import type { Analysis, Finding, ImportOptions, Profile } from './model.js';
import { isDirectory, loadRecording } from './recording.js';
import type { RecordingEvidence, SourceLookup } from './recording/model.js';
import { fileSources, relocator } from './recording/source.js';

export interface AnalyzeOptions extends ImportOptions {
  /** Bytes read per chunk (the core's window); tiny values exercise chunk boundaries in tests. */
  windowBytes?: number;
  /** The program's source files, to place a finding on the line of the call a profile names. */
  source?: SourceLookup;
  /** Reads a script's or a source map's text; without it, source maps are not looked for. */
  readText?: ReadText;
  /** Renames the files a recording names (a recording that moved with its program: see relocator). */
  relocate?: (file: string) => string;
}

const cores = new Map<number, Promise<Core>>();

function coreFor(windowBytes: number): Promise<Core> {
  let core = cores.get(windowBytes);
  if (!core) cores.set(windowBytes, (core = loadCore(windowBytes)));
  return core;
}

export function analyzeProfile(profile: Profile, recording?: RecordingEvidence, source?: SourceLookup): Analysis {
  const attribution = attribute(profile);
  const series = recording?.trace?.series;
  // Busy samples while the thread was off the CPU are system time, wherever V8 sampled them.
  const offCpu =
    series && series.schedstat.length
      ? offCpuByNode(profile, attribution, (t0, t1) => cpuWindow(series, t0, t1)?.asleepMs ?? 0)
      : undefined;
  const callSite: CallSite | undefined = source
    ? (caller, callee) => {
        const frame = profile.frames[profile.nodeFrame[caller]];
        return callLine(source, frame.file, frame.line, profile.frames[profile.nodeFrame[callee]].name)?.line;
      }
    : undefined;
  const table = lineTable(profile, attribution, offCpu, callSite);
  const { totals } = table;
  const resources = recording?.trace?.resources;
  const lines = resources ? chargeIdle(table.lines, profile, resources) : table.lines;
  const analysis: Analysis = { profile, nodeShare: attribution.nodeShare, lines, totals, findings: [] };
  analysis.findings = detect(analysis, attribution, recording, source);
  if (isScaleneProfile(profile)) analysis.findings = withFindings(analysis.findings, scaleneMemoryFindings(profile.scalene));
  return analysis;
}

const RANK = { critical: 0, warning: 1, info: 2 };

/** Adds findings (memory ones, by bytes) after the detectors' of the same severity, keeping their order. */
function withFindings(findings: Finding[], added: Finding[]): Finding[] {
  return added.length ? [...findings, ...added].sort((a, b) => RANK[a.severity] - RANK[b.severity]) : findings;
}

export async function analyzeSource(source: ByteSource, options: AnalyzeOptions = {}, recording?: RecordingEvidence): Promise<Analysis> {
  const core = await coreFor(options.windowBytes ?? DEFAULT_WINDOW_BYTES);
  const imported = await importProfile(source, core, options);
  if (options.relocate) for (const frame of imported.frames) if (frame.file) frame.file = options.relocate(frame.file);
  const profile = options.readText ? await applySourceMaps(imported, { read: options.readText, dir: options.sourceMaps }) : imported;
  return analyzeProfile(profile, recording, options.source);
}

/** Scripts and source maps are read whole: larger ones are not looked at. */
const MAX_SCRIPT_BYTES = 256 << 20;

/** A file's text from disk, for source maps. */
async function readTextFile(path: string): Promise<string | undefined> {
  try {
    if ((await stat(path)).size > MAX_SCRIPT_BYTES) return undefined;
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A reader for source maps that remembers what it read, for `batch`: it meets the same scripts in
 * profile after profile, and most of them are not on this machine (a failed stat per script and per
 * `.map` candidate, one after another, doubled the time of a batch of 1,000 small profiles).
 * Missing files are remembered always, texts up to 64 MB in all; files are taken not to change
 * while it lives.
 */
export function rememberingTextReader(): ReadText {
  const texts = new Map<string, Promise<string | undefined>>();
  const MAX_BYTES = 64 << 20;
  const MAX_FILES = 100_000;
  let bytes = 0;
  return (path) => {
    let text = texts.get(path);
    if (!text) {
      if (texts.size >= MAX_FILES) {
        texts.clear();
        bytes = 0;
      }
      text = readTextFile(path);
      texts.set(path, text);
      void text.then((t) => {
        if (t === undefined) return;
        if (bytes + t.length > MAX_BYTES) texts.delete(path);
        else bytes += t.length;
      });
    }
    return text;
  };
}

/** Analyses a file, or standard input when `path` is '-', with the source maps its scripts have on disk. */
export async function analyzeFile(path: string, options: AnalyzeOptions = {}, recording?: RecordingEvidence): Promise<Analysis> {
  const source = path === '-' ? await openStdin() : await openFile(path);
  try {
    return await analyzeSource(source, { readText: readTextFile, ...options }, recording);
  } finally {
    await source.close();
  }
}

/**
 * Analyses a profile file, standard input ('-'), or a directory written by `loopscope collect`,
 * reading the program's source files where they are (the command line's view of one input).
 */
export async function analyzePath(
  path: string,
  options: AnalyzeOptions = {},
): Promise<{ analysis: Analysis; profilePath: string; skipped?: string }> {
  const withSource = { ...options, source: options.source ?? fileSources() };
  if (await isDirectory(path)) {
    const { profile, evidence, recordedCwd } = await loadRecording(path);
    const relocate = relocator(recordedCwd, path);
    for (const site of [...(evidence.trace?.resources.sites ?? []), ...(evidence.heap?.sites ?? [])]) site.file = relocate(site.file);
    return { analysis: await analyzeFile(profile, { ...withSource, relocate }, evidence), profilePath: profile, skipped: evidence.skipped };
  }
  return { analysis: await analyzeFile(path, withSource), profilePath: path };
}
