// Reads a recording written by `loopscope collect` through a file lookup (name -> ByteSource), so
// the same code reads a directory on disk (src/recording.ts) and the files dropped on the browser
// viewer: the manifest picks the process to analyse; its trace and heap profile become the
// RecordingEvidence the detectors read. No I/O of its own.

import { FORMAT, MANIFEST, type Manifest, type ManifestProcess } from '../collector/format.js';
import { readFully, type ByteSource } from '../core/source.js';
import { InputError } from '../model.js';
import { readHeapProfile } from './heap.js';
import type { AsyncTrace, HeapSummary, RecordingEvidence } from './model.js';
import { readTrace } from './trace.js';

/** The files of one recording, by the names the manifest gives them. */
export interface RecordingFiles {
  /** The recording as the user named it (a directory, a dropped folder), for messages. */
  readonly name: string;
  /** How to name one of its files in messages. */
  path(file: string): string;
  has(file: string): Promise<boolean>;
  /** Throws InputError when the file cannot be read. */
  open(file: string): Promise<ByteSource>;
}

export type RecordedFile = 'cpuprofile' | 'trace' | 'heapprofile';

export interface RecordedProcessFiles extends ManifestProcess {
  /** Names (as in the manifest) of the process's files the recording holds. */
  present: Partial<Record<RecordedFile, string>>;
}

export interface RecordingLayout {
  manifest: Manifest;
  /** In start order. */
  processes: RecordedProcessFiles[];
  /** The process to analyse (see Manifest.main), or null when no Node process was recorded. */
  main: RecordedProcessFiles | null;
}

/** A manifest is a few KB per process; anything this big is not one. */
const MAX_MANIFEST_BYTES = 64 << 20;

async function readManifest(files: RecordingFiles): Promise<Manifest> {
  const where = files.path(MANIFEST);
  if (!(await files.has(MANIFEST))) throw new InputError(`${files.name}: has no ${MANIFEST}: not a recording made by \`loopscope collect\``);
  const source = await files.open(MANIFEST);
  let text: string;
  try {
    if (source.size > MAX_MANIFEST_BYTES) throw new InputError(`${where}: ${source.size} bytes: too big for a recording manifest`);
    const bytes = new Uint8Array(source.size);
    await readFully(source, 0, bytes);
    text = new TextDecoder().decode(bytes);
  } finally {
    await source.close();
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (error) {
    throw new InputError(`${where}: not valid JSON (${(error as Error).message})`);
  }
  if (manifest?.format !== FORMAT || !Array.isArray(manifest.processes)) {
    throw new InputError(`${where}: not a loopscope recording manifest (no "format": "${FORMAT}")`);
  }
  return manifest;
}

export async function readLayout(files: RecordingFiles): Promise<RecordingLayout> {
  const manifest = await readManifest(files);
  const processes: RecordedProcessFiles[] = [];
  for (const p of manifest.processes) {
    const present: RecordedProcessFiles['present'] = {};
    for (const key of ['cpuprofile', 'trace', 'heapprofile'] as const) {
      const name = p.files?.[key];
      if (name && (await files.has(name))) present[key] = name;
    }
    processes.push({ ...p, present });
  }
  return { manifest, processes, main: processes.find((p) => p.pid === manifest.main) ?? null };
}

/** The process a recording is analysed for, with its CPU profile (or why there is none). */
export function mainProcess(name: string, layout: RecordingLayout): RecordedProcessFiles & { present: { cpuprofile: string } } {
  const main = layout.main;
  if (!main) {
    throw new InputError(`${name}: the recording holds no Node process (did the command start node with NODE_OPTIONS intact?)`);
  }
  if (!main.present.cpuprofile) {
    // The manifest lists files only once the process wrote them all: listed but absent was lost since.
    const listed = main.files?.cpuprofile;
    throw new InputError(
      listed
        ? `${name}: ${listed}, the CPU profile of process ${main.pid}, is missing from the recording`
        : `${name}: process ${main.pid} ended before it wrote its CPU profile (killed by SIGKILL, or crashed?)`,
    );
  }
  return main as RecordedProcessFiles & { present: { cpuprofile: string } };
}

/** What the collector recorded besides the CPU profile for one process: its trace and heap profile. */
export async function readEvidence(files: RecordingFiles, process: RecordedProcessFiles): Promise<RecordingEvidence> {
  let trace: AsyncTrace | null = null;
  if (process.present.trace) {
    const source = await files.open(process.present.trace);
    try {
      trace = await readTrace(source);
    } finally {
      await source.close();
    }
  }
  let heap: HeapSummary | null = null;
  let skipped: string | undefined;
  if (process.present.heapprofile) {
    const interval = Number((trace?.metadata.raw.heapProfile as { samplingIntervalBytes?: number } | undefined)?.samplingIntervalBytes ?? 0);
    const source = await files.open(process.present.heapprofile);
    try {
      heap = await readHeapProfile(source, interval);
    } catch (error) {
      // Only the memory finding's allocation line needs it: analyse the rest without it.
      if (!(error instanceof InputError)) throw error;
      heap = null;
      skipped = `${error.message}; analysed without it (memory findings get no allocation line)`;
    } finally {
      await source.close();
    }
  }
  return { dir: files.name, pid: process.pid, trace, heap, ...(skipped ? { skipped } : {}) };
}

/** A recording read as one input: the main process, the name of its CPU profile, and the evidence. */
export async function openRecording(
  files: RecordingFiles,
): Promise<{ layout: RecordingLayout; main: RecordedProcessFiles; profile: string; evidence: RecordingEvidence }> {
  const layout = await readLayout(files);
  const main = mainProcess(files.name, layout);
  return { layout, main, profile: main.present.cpuprofile, evidence: await readEvidence(files, main) };
}
