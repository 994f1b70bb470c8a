// The viewer's Worker: reads a dropped or preloaded profile, or a whole `collect` recording, through
// the same importer, WASM core, recording reader and analysis as the command line, and answers with
// the report, the timeline and the speedscope export as a Blob.

import { analyzeSource } from '../analyze.js';
import { BlobSource, blobRecording } from '../core/browser-source.js';
import { DEFAULT_WINDOW_BYTES, loadCore } from '../core/wasm.js';
import { timeOrderOf, unitOf } from '../model.js';
import { speedscopeChunks } from '../reports/speedscope.js';
import type { SourceLookup } from '../recording/model.js';
import { openRecording } from '../recording/read.js';
import type { AnalyzeRequest, WorkerReply } from './protocol.js';
import { timelineView } from './timeline.js';

interface WorkerScope {
  location: { href: string };
  postMessage(message: WorkerReply): void;
  addEventListener(type: 'message', listener: (event: { data: AnalyzeRequest }) => void): void;
}

const scope = self as unknown as WorkerScope;
const wasmUrl = new URL('core.wasm', scope.location.href).href;

// Compiles the core from the fetched .wasm once; analyzeSource's own loadCore calls then reuse the
// compiled module instead of reading it from disk.
let compiled: Promise<unknown> | undefined;
function compileCore(): Promise<unknown> {
  compiled ??= loadCore(DEFAULT_WINDOW_BYTES, async () => {
    const response = await fetch(wasmUrl);
    if (!response.ok) throw new Error(`could not load the WASM core (${wasmUrl}: HTTP ${response.status})`);
    return response.arrayBuffer();
  });
  return compiled;
}

/**
 * Source files given by name only: a profile's file (an absolute path or a URL) matches the one
 * source of the same base name; with none, or several, the finding points at the function.
 */
async function sourceLookup(sources: AnalyzeRequest['sources']): Promise<SourceLookup> {
  const byName = new Map<string, string[] | null>();
  for (const { name, file } of sources) {
    const text = await file.text();
    if (text.includes('\u0000')) continue;
    byName.set(name, byName.has(name) ? null : text.split('\n'));
  }
  return {
    lines(path: string): string[] | undefined {
      const base = path.replace(/[?#].*$/, '').split(/[/\\]/).pop() ?? '';
      let decoded = base;
      try {
        decoded = decodeURIComponent(base);
      } catch {}
      return byName.get(base) ?? byName.get(decoded) ?? undefined;
    },
  };
}

/** Reads the input (a profile, or a recording's main process with its trace and heap profile) and analyses it. */
async function analyzeInput({ name, input }: AnalyzeRequest, source: SourceLookup, onRead: (bytes: number) => void) {
  if (input.kind === 'profile') {
    const analysis = await analyzeSource(new BlobSource(input.file, name, onRead), { source });
    return { analysis, flameName: name };
  }
  const files = blobRecording(name, input.files, onRead);
  const { layout, main, profile, evidence } = await openRecording(files);
  const cpuprofile = await files.open(profile);
  let analysis;
  try {
    analysis = await analyzeSource(cpuprofile, { source }, evidence);
  } finally {
    await cpuprofile.close();
  }
  const recording = { command: layout.manifest.command.join(' '), pid: main.pid, processes: layout.processes.length, profile };
  return { analysis, flameName: profile, recording, trace: evidence.trace };
}

/** Bytes the importer reads (a profile about twice: a structural scan, then the sample arrays). */
function bytesToRead({ input }: AnalyzeRequest): number {
  if (input.kind === 'profile') return 2 * input.file.size;
  return input.files.reduce((sum, { name, file }) => sum + (/\.cpuprofile$/.test(name) ? 2 : 1) * file.size, 0);
}

async function analyze(request: AnalyzeRequest): Promise<void> {
  const { id, name, sources } = request;
  const post = (reply: WorkerReply) => scope.postMessage(reply);
  const total = Math.max(1, bytesToRead(request));
  let read = 0;
  let last = 0;
  const onRead = (bytes: number) => {
    read += bytes;
    const now = Date.now();
    if (now - last < 50) return;
    last = now;
    post({ id, type: 'progress', fraction: Math.min(0.9, read / total), phase: 'reading' });
  };
  try {
    post({ id, type: 'progress', fraction: 0, phase: 'loading the core' });
    await compileCore();
    const { analysis, flameName, recording, trace } = await analyzeInput(request, await sourceLookup(sources), onRead);
    post({ id, type: 'progress', fraction: 0.95, phase: 'building the flame graph' });
    const speedscope = new Blob([...speedscopeChunks(analysis, flameName)], { type: 'application/json' });
    const { findings, lines, totals, profile } = analysis;
    const [unit, timeOrder] = [unitOf(profile), timeOrderOf(profile)];
    // A timeline needs samples in the order taken, and time along it.
    const timeline = unit === 'ms' && timeOrder === 'real' ? timelineView(analysis, trace) : null;
    const report = { name, format: profile.format, unit, timeOrder, findings, lines, totals, timeline, recording };
    post({ id, type: 'result', report, speedscope });
  } catch (error) {
    post({ id, type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}

// One input at a time: the core's tables are reused by the next profile.
let queue: Promise<void> = Promise.resolve();
scope.addEventListener('message', (event) => {
  queue = queue.then(() => analyze(event.data));
});
