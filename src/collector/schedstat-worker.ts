// Runs in a worker thread: reads the main thread's scheduler statistics at a fixed interval, so that
// time the main thread spends off the CPU (a synchronous sleep, a blocking read, waiting for a child
// process) can be told apart from time it computes. `/proc/self/task/<tid>/schedstat` holds the
// thread's time on the CPU and its time waiting on a run queue, both in nanoseconds.
//
// Samples go into SharedArrayBuffer chunks that the main thread reads synchronously when it exits:
// [count: Int32 (padded to 8 bytes)] then `count` triples of Float64 (timeUs, onCpuNs, runQueueNs).

import { closeSync, openSync, readSync } from 'node:fs';
import { type MessagePort, workerData } from 'node:worker_threads';
import { CHUNK_SAMPLES, CONTROL_STOP, newChunk, parseSchedstat } from './schedstat.js';

interface Data {
  path: string;
  intervalUs: number;
  control: SharedArrayBuffer;
  first: SharedArrayBuffer;
  port: MessagePort;
}

const { path, intervalUs, control: controlBuffer, first, port } = workerData as Data;
const control = new Int32Array(controlBuffer);
const fd = openSync(path, 'r');
const bytes = new Uint8Array(128);
const values = [0, 0];
let chunk = first;
let count = new Int32Array(chunk, 0, 1);
let samples = new Float64Array(chunk, 8, CHUNK_SAMPLES * 3);
let next = Number(process.hrtime.bigint()) / 1000;

try {
  while (Atomics.load(control, CONTROL_STOP) === 0) {
    const n = readSync(fd, bytes, 0, bytes.length, 0);
    const now = Number(process.hrtime.bigint()) / 1000;
    if (parseSchedstat(bytes, n, values)) {
      let i = Atomics.load(count, 0);
      if (i === CHUNK_SAMPLES) {
        chunk = newChunk();
        port.postMessage(chunk);
        count = new Int32Array(chunk, 0, 1);
        samples = new Float64Array(chunk, 8, CHUNK_SAMPLES * 3);
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
    Atomics.wait(control, CONTROL_STOP, 0, (next - after) / 1000);
  }
} finally {
  closeSync(fd);
  port.close();
}
