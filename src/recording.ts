// A directory written by `loopscope collect`: the manifest (recording.json) and, per recorded Node
// process, its CPU profile, async trace and heap profile (see src/collector/format.ts), read as one
// input: the CPU profile goes through the importer like any profile; the trace and the heap profile
// become the RecordingEvidence the detectors read (src/recording/).

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FORMAT, MANIFEST, type Manifest, type ManifestProcess } from './collector/format.js';
import { openFile } from './core/file-source.js';
import { InputError } from './model.js';
import { readHeapProfile } from './recording/heap.js';
import type { AsyncTrace, HeapSummary, RecordingEvidence } from './recording/model.js';
import { readTrace } from './recording/trace.js';

export interface RecordedProcess extends ManifestProcess {
  /** Absolute (or cwd-relative, as the directory was given) paths of the files that exist. */
  paths: { cpuprofile?: string; trace?: string; heapprofile?: string };
}

export interface Recording {
  dir: string;
  manifest: Manifest;
  /** In start order. */
  processes: RecordedProcess[];
  /** The process to analyse (see Manifest.main), or null when no Node process was recorded. */
  main: RecordedProcess | null;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function readRecording(dir: string): Promise<Recording> {
  const manifestPath = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new InputError(`${dir}: is a directory, not a recording made by \`loopscope collect\``);
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (error) {
    throw new InputError(`${manifestPath}: not valid JSON (${(error as Error).message})`);
  }
  if (manifest?.format !== FORMAT || !Array.isArray(manifest.processes)) {
    throw new InputError(`${manifestPath}: not a loopscope recording manifest (no "format": "${FORMAT}")`);
  }
  const processes: RecordedProcess[] = [];
  for (const p of manifest.processes) {
    const paths: RecordedProcess['paths'] = {};
    for (const key of ['cpuprofile', 'trace', 'heapprofile'] as const) {
      const name = p.files?.[key];
      if (name && (await exists(join(dir, name)))) paths[key] = join(dir, name);
    }
    processes.push({ ...p, paths });
  }
  return { dir, manifest, processes, main: processes.find((p) => p.pid === manifest.main) ?? null };
}

export async function isDirectory(path: string): Promise<boolean> {
  if (path === '-') return false;
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // the importer reports a missing file
  }
}

/** The process a recording is analysed for, with its CPU profile (or why there is none). */
function mainProcess(path: string, recording: Recording): RecordedProcess & { paths: { cpuprofile: string } } {
  const main = recording.main;
  if (!main) {
    throw new InputError(`${path}: the recording holds no Node process (did the command start node with NODE_OPTIONS intact?)`);
  }
  if (!main.paths.cpuprofile) {
    throw new InputError(`${path}: process ${main.pid} ended before it wrote its CPU profile (killed by SIGKILL, or crashed?)`);
  }
  return main as RecordedProcess & { paths: { cpuprofile: string } };
}

/** A recording read as one input: the main process's CPU profile to import, and what the collector added. */
export async function loadRecording(path: string): Promise<{ profile: string; evidence: RecordingEvidence }> {
  const recording = await readRecording(path);
  const main = mainProcess(path, recording);
  let trace: AsyncTrace | null = null;
  if (main.paths.trace) {
    const source = await openFile(main.paths.trace);
    try {
      trace = await readTrace(source);
    } finally {
      await source.close();
    }
  }
  let heap: HeapSummary | null = null;
  if (main.paths.heapprofile) {
    const interval = Number((trace?.metadata.raw.heapProfile as { samplingIntervalBytes?: number } | undefined)?.samplingIntervalBytes ?? 0);
    const source = await openFile(main.paths.heapprofile);
    try {
      heap = await readHeapProfile(source, interval);
    } catch (error) {
      // Only the memory finding's allocation line needs it: analyse the rest without it.
      if (!(error instanceof InputError)) throw error;
      heap = null;
    } finally {
      await source.close();
    }
  }
  return { profile: main.paths.cpuprofile, evidence: { dir: path, pid: main.pid, trace, heap } };
}
