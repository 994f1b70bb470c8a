// The viewer's Worker: reads a dropped or preloaded profile through the same importer, WASM core and
// analysis as the command line, and answers with the report and the speedscope export as a Blob.

import { analyzeSource } from '../analyze.js';
import { BlobSource } from '../core/browser-source.js';
import { DEFAULT_WINDOW_BYTES, loadCore } from '../core/wasm.js';
import { speedscopeChunks } from '../reports/speedscope.js';
import type { SourceLookup } from '../recording/model.js';
import type { AnalyzeRequest, WorkerReply } from './protocol.js';

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

async function analyze({ id, name, file, sources }: AnalyzeRequest): Promise<void> {
  const post = (reply: WorkerReply) => scope.postMessage(reply);
  // The importer reads the input about twice (a structural scan, then the sample arrays).
  let read = 0;
  let last = 0;
  const onRead = (bytes: number) => {
    read += bytes;
    const now = Date.now();
    if (now - last < 50) return;
    last = now;
    post({ id, type: 'progress', fraction: Math.min(0.9, read / (2 * Math.max(1, file.size))), phase: 'reading' });
  };
  try {
    post({ id, type: 'progress', fraction: 0, phase: 'loading the core' });
    await compileCore();
    const source = await sourceLookup(sources);
    const analysis = await analyzeSource(new BlobSource(file, name, onRead), { source });
    post({ id, type: 'progress', fraction: 0.95, phase: 'building the flame graph' });
    const speedscope = new Blob([...speedscopeChunks(analysis, name)], { type: 'application/json' });
    const { findings, lines, totals } = analysis;
    post({ id, type: 'result', report: { name, format: analysis.profile.format, findings, lines, totals }, speedscope });
  } catch (error) {
    post({ id, type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}

// One input at a time: the core's tables are reused by the next profile.
let queue: Promise<void> = Promise.resolve();
scope.addEventListener('message', (event) => {
  queue = queue.then(() => analyze(event.data));
});
