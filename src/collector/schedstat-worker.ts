// Runs in a worker thread: reads the main thread's scheduler statistics at a fixed interval, so that
// time the main thread spends off the CPU (a synchronous sleep, a blocking read, waiting for a child
// process) can be told apart from time it computes. `/proc/self/task/<tid>/schedstat` holds the
// thread's time on the CPU and its time waiting on a run queue, both in nanoseconds.
//
// Samples go into SharedArrayBuffer chunks that the main thread reads synchronously when it exits:
// [count: Int32 (padded to 8 bytes)] then `count` triples of Float64 (timeUs, onCpuNs, runQueueNs).
//
// The worker runs `workerSource()`: these functions' own text, evaluated as a script. A worker
// started from a module file would load the recorder's preload (NODE_OPTIONS=--import applies to
// workers too) and the module loader: several milliseconds of startup for nothing. So the functions
// here use no imports and nothing outside themselves.

import type { MessagePort } from 'node:worker_threads';

export interface SamplerData {
  path: string;
  intervalUs: number;
  /** Int32 flags; index `stopAt` set to 1 asks the sampler to stop. */
  control: SharedArrayBuffer;
  stopAt: number;
  first: SharedArrayBuffer;
  chunkSamples: number;
  port: MessagePort;
}

/** Parses the first two decimal fields of a schedstat line into `out`; false when malformed. */
export function parseSchedstat(bytes: Uint8Array, length: number, out: number[]): boolean {
  let field = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < length && field < 2; i++) {
    const c = bytes[i];
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (digits > 0) {
      out[field++] = value;
      value = 0;
      digits = 0;
    }
  }
  if (field < 2 && digits > 0) out[field++] = value;
  return field === 2;
}

type Require = (id: string) => any;

/** The sampling loop, until the main thread sets the stop flag. */
export function sampler(data: SamplerData, load: Require, parse: typeof parseSchedstat): void {
  const { closeSync, openSync, readSync } = load('node:fs') as typeof import('node:fs');
  const { path, intervalUs, stopAt, chunkSamples, port } = data;
  const control = new Int32Array(data.control);
  const fd = openSync(path, 'r');
  const bytes = new Uint8Array(128);
  const values = [0, 0];
  let chunk = data.first;
  let count = new Int32Array(chunk, 0, 1);
  let samples = new Float64Array(chunk, 8, chunkSamples * 3);
  let next = Number(process.hrtime.bigint()) / 1000;
  try {
    while (Atomics.load(control, stopAt) === 0) {
      const n = readSync(fd, bytes, 0, bytes.length, 0);
      const now = Number(process.hrtime.bigint()) / 1000;
      if (parse(bytes, n, values)) {
        let i = Atomics.load(count, 0);
        if (i === chunkSamples) {
          chunk = new SharedArrayBuffer(8 + chunkSamples * 3 * 8);
          port.postMessage(chunk);
          count = new Int32Array(chunk, 0, 1);
          samples = new Float64Array(chunk, 8, chunkSamples * 3);
          i = 0;
        }
        samples[i * 3] = now;
        samples[i * 3 + 1] = values[0];
        samples[i * 3 + 2] = values[1];
        Atomics.store(count, 0, i + 1);
      }
      // A steady rate: sleep until the next tick; ticks missed (the thread was not scheduled) are skipped.
      next += intervalUs;
      const after = Number(process.hrtime.bigint()) / 1000;
      if (next <= after) next = after + intervalUs;
      Atomics.wait(control, stopAt, 0, (next - after) / 1000);
    }
  } finally {
    closeSync(fd);
    port.close();
  }
}

/** The worker's script (CommonJS, `eval: true`): runs `sampler` on the worker's `workerData`. */
export function workerSource(): string {
  return `'use strict';\nconst parse = ${parseSchedstat.toString()};\n(${sampler.toString()})(require('node:worker_threads').workerData, require, parse);\n`;
}
