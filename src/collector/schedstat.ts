// Off-CPU time of the main thread (Linux): a worker thread samples the main thread's
// `/proc/self/task/<tid>/schedstat` (the main thread's tid is the pid). See schedstat-worker.ts.

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { hrtimeUs } from './clock.js';
import { parseSchedstat, workerSource, type SamplerData } from './schedstat-worker.js';

export const CHUNK_SAMPLES = 1 << 14;
export const CONTROL_STOP = 0;

export const newChunk = () => new SharedArrayBuffer(8 + CHUNK_SAMPLES * 3 * 8);

export type SchedstatInfo =
  | { available: true; path: string; intervalUs: number; samples: number; error?: string }
  | { available: false; reason: string };

export interface SchedstatRecorder {
  /** Stops the worker and returns the samples as [timeUs, onCpuNs, runQueueNs] triples, in time order. */
  stop(): { info: SchedstatInfo; samples: Float64Array };
}

function readOnce(path: string): number[] | null {
  const bytes = new Uint8Array(128);
  const fd = openSync(path, 'r');
  try {
    const out = [0, 0];
    return parseSchedstat(bytes, readSync(fd, bytes, 0, bytes.length, 0), out) ? out : null;
  } finally {
    closeSync(fd);
  }
}

export function startSchedstat(intervalUs: number): SchedstatRecorder {
  const path = `/proc/self/task/${process.pid}/schedstat`;
  const unavailable = (reason: string): SchedstatRecorder => ({
    stop: () => ({ info: { available: false, reason }, samples: new Float64Array(0) }),
  });
  if (process.platform !== 'linux') return unavailable(`not Linux (${process.platform}): no /proc schedstat`);
  if (!existsSync(path)) return unavailable(`${path} does not exist (kernel without CONFIG_SCHEDSTATS or /proc not mounted)`);
  let start: number[] | null;
  const startUs = hrtimeUs();
  try {
    start = readOnce(path);
  } catch (error) {
    return unavailable(`${path}: ${(error as Error).message}`);
  }
  if (!start) return unavailable(`${path}: unexpected content`);

  const control = new SharedArrayBuffer(8);
  const chunks: SharedArrayBuffer[] = [newChunk()];
  // Later chunks come through a port that only `stop` reads, synchronously: the main thread may be
  // blocked until it exits, and an exit handler cannot wait for messages.
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  let failure: string | null = null;
  let worker: Worker;
  try {
    const workerData: SamplerData = { path, intervalUs, control, stopAt: CONTROL_STOP, first: chunks[0], chunkSamples: CHUNK_SAMPLES, port: port2 };
    worker = new Worker(workerSource(), {
      eval: true,
      workerData,
      transferList: [port2],
      // It prints nothing: its stdout and stderr are not piped into the process's own.
      stdout: true,
      stderr: true,
    });
  } catch (error) {
    return unavailable(`cannot start the sampling thread: ${(error as Error).message}`);
  }
  worker.unref();
  worker.on('error', (error) => {
    failure = `the sampling thread failed: ${error.message}`;
  });

  return {
    stop() {
      const flag = new Int32Array(control);
      Atomics.store(flag, CONTROL_STOP, 1);
      Atomics.notify(flag, CONTROL_STOP);
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) chunks.push(m.message as SharedArrayBuffer);
      port1.close();
      let end: number[] | null = null;
      try {
        end = readOnce(path);
      } catch {
        // the last sample is the worker's
      }
      const endUs = hrtimeUs();
      const counts = chunks.map((c) => Atomics.load(new Int32Array(c, 0, 1), 0));
      // The first and last samples are read here: the worker takes a while to start, and the
      // program may block the main thread from its first line.
      const total = 1 + counts.reduce((a, b) => a + b, 0) + (end ? 1 : 0);
      const samples = new Float64Array(total * 3);
      samples.set([startUs, start[0], start[1]]);
      let at = 3;
      chunks.forEach((c, k) => {
        samples.set(new Float64Array(c, 8, counts[k] * 3), at);
        at += counts[k] * 3;
      });
      if (end) samples.set([endUs, end[0], end[1]], at);
      if (failure && total === 0) return { info: { available: false, reason: failure }, samples };
      return { info: { available: true, path, intervalUs, samples: total, ...(failure ? { error: failure } : {}) }, samples };
    },
  };
}
