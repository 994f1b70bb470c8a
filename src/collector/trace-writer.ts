// Writes a process's async activity, GC, event-loop and memory series and off-CPU samples as one
// Chrome Trace Event Format file (object form: {"traceEvents": [...], "metadata": {...}}), which
// Perfetto and chrome://tracing open. All `ts`/`dur` are microseconds on the CPU profile's clock.
// Synchronous and streamed in pieces: it runs in an exit handler and may write millions of events.

import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CHUNK, EventKind, THREADPOOL_TYPES, type AsyncRecord } from './async-trace.js';
import type { Series } from './series.js';

export interface TraceInput {
  pid: number;
  processName: string;
  /** `performance.now()` ms -> profile µs. */
  offsetUs: number;
  /** End of recording on the profile's clock, for callbacks still running when the process ended. */
  endUs: number;
  async: AsyncRecord;
  series: Series;
  /** [timeUs, onCpuNs, runQueueNs] triples. */
  schedstat: Float64Array;
  /** Called once the events are written (own resources are then left out of the counts). */
  metadata: () => Record<string, unknown>;
}

class Out {
  private pending = '';
  constructor(private readonly fd: number) {}
  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= 1 << 20) this.flush();
  }
  flush(): void {
    if (this.pending) writeSync(this.fd, this.pending);
    this.pending = '';
  }
}

const us = (x: number) => Math.round(x * 10) / 10;

function displayPath(url: string): string {
  if (!url.startsWith('file:')) return url;
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

/** Writes `path` whole or not at all (a temporary file renamed into place). */
export function writeTrace(path: string, input: TraceInput): void {
  const temp = `${path}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    const out = new Out(fd);
    writeEvents(out, input);
    out.flush();
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(temp, { force: true });
    throw error;
  }
}

function writeEvents(out: Out, input: TraceInput): void {
  const { pid, offsetUs, async: record, series } = input;
  const head = `"pid":${pid},"tid":${pid}`;
  const at = (ms: number) => us(ms * 1000 + offsetUs);
  let first = true;
  const emit = (event: string) => {
    out.write(first ? '\n' : ',\n');
    out.write(event);
    first = false;
  };
  out.write('{"traceEvents":[');
  emit(`{"ph":"M","name":"process_name",${head},"args":{"name":${JSON.stringify(input.processName)}}}`);
  emit(`{"ph":"M","name":"thread_name",${head},"args":{"name":"main"}}`);

  // Async resources: "b" at init, "X" per callback (before..after), "n" at promise resolution,
  // "e" at destroy, all with the async id as the event id.
  const typeNames = record.types.map((t) => JSON.stringify(t));
  const pool = record.types.map((t) => THREADPOOL_TYPES.has(t));
  const siteArgs = record.sites.map(
    (s) =>
      `,"site":${JSON.stringify(`${displayPath(s.url)}:${s.line}:${s.column}`)}` +
      (s.function ? `,"function":${JSON.stringify(s.function)}` : '') +
      (s.dependency ? ',"dependency":true' : ''),
  );
  const { events, resources, ownIds } = record;
  const typeOf = new Map<number, number>();
  const running: { id: number; type: number; start: number }[] = [];
  let row = 0;
  for (let c = 0; c < events.kinds.length; c++) {
    const kinds = events.kinds[c];
    const ids = events.ids[c];
    const times = events.times[c];
    const n = Math.min(CHUNK, events.length - c * CHUNK);
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      const ts = at(times[i]);
      const kind = kinds[i] as EventKind;
      if (kind === EventKind.Init) {
        const chunk = Math.floor(row / CHUNK);
        const j = row % CHUNK;
        row++;
        const type = resources.types[chunk][j];
        if (ownIds.has(id)) {
          record.created[type]--;
          record.traced[type]--;
          continue;
        }
        const site = resources.sites[chunk][j];
        const weight = resources.weights[chunk][j];
        typeOf.set(id, type);
        emit(
          `{"ph":"b","cat":"async","name":${typeNames[type]},"id":${id},${head},"ts":${ts},` +
            `"args":{"asyncId":${id},"triggerAsyncId":${resources.triggers[chunk][j]}` +
            (site >= 0 ? siteArgs[site] : '') +
            (pool[type] ? ',"threadpool":true' : '') +
            (weight > 1 ? `,"weight":${weight}` : '') +
            '}}',
        );
        continue;
      }
      const type = typeOf.get(id);
      if (type === undefined) continue; // the recorder's own, or created before recording began
      if (kind === EventKind.Before) {
        running.push({ id, type, start: ts });
      } else if (kind === EventKind.After) {
        // Callbacks nest; an exception can skip an `after`, so unwind to the matching `before`.
        let k = running.length - 1;
        while (k >= 0 && running[k].id !== id) k--;
        if (k < 0) continue;
        while (running.length > k + 1) {
          const lost = running.pop()!;
          emit(callback(lost.type, lost.id, lost.start, ts, true));
        }
        const done = running.pop()!;
        emit(callback(done.type, done.id, done.start, ts, false));
      } else if (kind === EventKind.Resolve) {
        emit(`{"ph":"n","cat":"async","name":"promiseResolve","id":${id},${head},"ts":${ts}}`);
      } else if (kind === EventKind.Destroy) {
        emit(`{"ph":"e","cat":"async","name":${typeNames[type]},"id":${id},${head},"ts":${ts}}`);
      }
    }
  }
  // Callbacks still running when the process ended (process.exit or an exception inside one).
  while (running.length) {
    const lost = running.pop()!;
    emit(callback(lost.type, lost.id, lost.start, us(input.endUs), true));
  }
  function callback(type: number, id: number, start: number, end: number, unfinished: boolean): string {
    return (
      `{"ph":"X","cat":"async.callback","name":${typeNames[type]},${head},"ts":${start},"dur":${us(end - start)},` +
      `"args":{"asyncId":${id}` +
      (unfinished ? ',"unfinished":true' : '') +
      '}}'
    );
  }

  for (const gc of series.gc) {
    const args = `{"kind":"${gc.kind}","flags":${gc.flags}}`;
    emit(`{"ph":"X","cat":"gc","name":"GC",${head},"ts":${at(gc.start)},"dur":${us(gc.duration * 1000)},"args":${args}}`);
  }
  const counter = (name: string, cat: string, ts: number, args: string) =>
    emit(`{"ph":"C","cat":"${cat}","name":"${name}",${head},"ts":${ts},"args":{${args}}}`);
  const { drift, utilization, memory, activity } = series;
  for (let i = 0; i < drift.length; i += 2) counter('timerDrift', 'loop', at(drift[i]), `"lateMs":${round3(drift[i + 1])}`);
  for (let i = 0; i < utilization.length; i += 2) {
    counter('eventLoopUtilization', 'loop', at(utilization[i]), `"utilization":${round3(utilization[i + 1])}`);
  }
  for (let i = 0; i < activity.length; i += 4) {
    const args = `"created":${activity[i + 1]},"promises":${activity[i + 2]},"callbacks":${activity[i + 3]}`;
    counter('asyncActivity', 'loop', at(activity[i]), args);
  }
  for (let i = 0; i < memory.length; i += 6) {
    const args =
      `"heapUsed":${memory[i + 1]},"heapTotal":${memory[i + 2]},"external":${memory[i + 3]},` +
      `"arrayBuffers":${memory[i + 4]},"rss":${memory[i + 5]}`;
    counter('memory', 'memory', at(memory[i]), args);
  }
  const sched = input.schedstat;
  for (let i = 0; i < sched.length; i += 3) {
    counter('schedstat', 'cpu', us(sched[i]), `"onCpuNs":${sched[i + 1]},"runQueueNs":${sched[i + 2]}`);
  }

  out.write(`\n],\n"displayTimeUnit":"ms",\n"metadata":${JSON.stringify(input.metadata())}}\n`);
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
