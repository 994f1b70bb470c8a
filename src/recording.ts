// A directory written by `loopscope collect`: the manifest (recording.json) and, per recorded Node
// process, its CPU profile, async trace and heap profile. See src/collector/format.ts.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FORMAT, MANIFEST, type Manifest, type ManifestProcess } from './collector/format.js';
import { InputError } from './model.js';

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

/** The CPU profile to analyse for `path`: itself, or the main process's profile when it is a recording. */
export async function profileOf(path: string): Promise<string> {
  if (path === '-') return path;
  try {
    if (!(await stat(path)).isDirectory()) return path;
  } catch {
    return path; // the importer reports a missing file
  }
  const recording = await readRecording(path);
  const main = recording.main;
  if (!main) {
    throw new InputError(`${path}: the recording holds no Node process (did the command start node with NODE_OPTIONS intact?)`);
  }
  if (!main.paths.cpuprofile) {
    throw new InputError(`${path}: process ${main.pid} ended before it wrote its CPU profile (killed by SIGKILL, or crashed?)`);
  }
  return main.paths.cpuprofile;
}
