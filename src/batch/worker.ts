// A batch worker thread: loads the WASM core once (on its first analysis) and analyses the inputs
// the pool sends, one at a time, consulting the cache first.

import { parentPort } from 'node:worker_threads';
import { analyzePath, rememberingTextReader } from '../analyze.js';
import { cacheKey, hashFile, hashRecording, readCached, writeCached } from './cache.js';
import { summarize, type Summary } from './row.js';

export interface Task {
  id: number;
  path: string;
  recording: boolean;
  /** Null with --no-cache: every input is analysed and the cache is neither read nor written. */
  cacheDir: string | null;
}

export type Result = { id: number; summary: Summary; cached: boolean } | { id: number; error: string };

/** Source maps' scripts, read once per worker: the inputs of a batch often share them. */
const readText = rememberingTextReader();

export async function runTask(task: Task): Promise<Result> {
  try {
    let key: string | null = null;
    if (task.cacheDir) {
      key = cacheKey(task.recording ? await hashRecording(task.path) : await hashFile(task.path), task.recording);
      const summary = await readCached(task.cacheDir, key);
      if (summary) return { id: task.id, summary, cached: true };
    }
    const { analysis } = await analyzePath(task.path, { readText });
    const summary = summarize(analysis);
    if (task.cacheDir && key) await writeCached(task.cacheDir, key, summary);
    return { id: task.id, summary, cached: false };
  } catch (error) {
    const message = String((error as Error)?.message ?? error).split('\n')[0];
    return { id: task.id, error: message };
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (task: Task) => {
    void runTask(task).then((result) => port.postMessage(result));
  });
}
