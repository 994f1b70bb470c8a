// A directory written by `loopscope collect`: the manifest (recording.json) and, per recorded Node
// process, its CPU profile, async trace and heap profile (see src/collector/format.ts), read as one
// input: the CPU profile goes through the importer like any profile; the trace and the heap profile
// become the RecordingEvidence the detectors read. What reads them is src/recording/read.ts, over a
// file lookup; this is its lookup on disk (the browser viewer has one over dropped files).

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST, type Manifest, type ManifestProcess } from './collector/format.js';
import { openFile } from './core/file-source.js';
import { InputError } from './model.js';
import type { RecordingEvidence } from './recording/model.js';
import { openRecording, readLayout, type RecordingFiles } from './recording/read.js';

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

/** The files of a recording directory on disk. */
export function directoryFiles(dir: string): RecordingFiles {
  return {
    name: dir,
    path: (file) => join(dir, file),
    has: (file) => exists(join(dir, file)),
    open: (file) => openFile(join(dir, file)),
  };
}

async function recordingFiles(dir: string): Promise<RecordingFiles> {
  const files = directoryFiles(dir);
  if (!(await files.has(MANIFEST))) throw new InputError(`${dir}: is a directory, not a recording made by \`loopscope collect\``);
  return files;
}

export async function readRecording(dir: string): Promise<Recording> {
  const layout = await readLayout(await recordingFiles(dir));
  const processes = layout.processes.map(({ present, ...p }): RecordedProcess => ({
    ...p,
    paths: Object.fromEntries(Object.entries(present).map(([key, name]) => [key, join(dir, name)])),
  }));
  const main = layout.main ? processes[layout.processes.indexOf(layout.main)] : null;
  return { dir, manifest: layout.manifest, processes, main };
}

export async function isDirectory(path: string): Promise<boolean> {
  if (path === '-') return false;
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // the importer reports a missing file
  }
}

/** A recording read as one input: the main process's CPU profile to import, and what the collector added. */
export async function loadRecording(path: string): Promise<{ profile: string; evidence: RecordingEvidence; recordedCwd: string }> {
  const { profile, evidence, layout } = await openRecording(await recordingFiles(path));
  return { profile: join(path, profile), evidence, recordedCwd: layout.manifest.cwd };
}
