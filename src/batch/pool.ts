// Runs tasks on a pool of worker threads, each analysing many inputs with one WASM core. A worker
// that dies takes only its current input with it: a new worker takes over, tries that input once
// more, and if it dies again the input gets an error row.

import { Worker } from 'node:worker_threads';
import type { Result, Task } from './worker.js';

const WORKER = new URL('./worker.js', import.meta.url);

export async function runPool(
  tasks: Omit<Task, 'id'>[],
  jobs: number,
  onResult: (index: number, result: Result) => void,
): Promise<void> {
  let next = 0;
  const retry: number[] = [];
  const retried = new Set<number>();
  const pending = () => retry.length > 0 || next < tasks.length;
  const lost = (index: number, why: string) => {
    if (retried.has(index)) onResult(index, { id: index, error: `analysis failed: ${why}` });
    else {
      retried.add(index);
      retry.push(index);
    }
  };
  const count = Math.max(1, Math.min(jobs, tasks.length));
  const lane = (): Promise<void> =>
    new Promise((resolve) => {
      let current = -1;
      let worker: Worker;
      const start = () => {
        worker = new Worker(WORKER);
        worker.on('message', (result: Result) => {
          onResult(current, result);
          feed();
        });
        worker.on('error', (error) => {
          if (current >= 0) lost(current, error.message);
          current = -1;
        });
        worker.on('exit', (code) => {
          if (current >= 0) lost(current, `the worker thread exited (code ${code})`);
          current = -1;
          if (pending()) start();
          else resolve();
        });
        feed();
      };
      const feed = () => {
        if (!pending()) {
          current = -1;
          void worker.terminate();
          return;
        }
        current = retry.length ? retry.shift()! : next++;
        worker.postMessage({ id: current, ...tasks[current] } satisfies Task);
      };
      start();
    });
  await Promise.all(Array.from({ length: count }, lane));
}
