// Writes a process's async activity, GC, event-loop and memory series and off-CPU samples as one
// Chrome Trace Event Format file (object form: {"traceEvents": [...], "metadata": {...}}), which
// Perfetto and chrome://tracing open. All `ts`/`dur` are microseconds on the CPU profile's clock.
// Synchronous: it runs in an exit handler and may write millions of events, so the events are
// formatted straight into a large byte buffer (ASCII, numbers digit by digit) and written in a few
// big writes, without building a string per event.

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

/** The output buffer: large enough for the expected output, up to this. */
const MAX_BUFFER_BYTES = 1 << 22;
const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

/** Buffered ASCII output to a file descriptor. */
class Out {
  private readonly buf: Uint8Array;
  private at = 0;
  constructor(
    private readonly fd: number,
    expectedBytes: number,
  ) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(1 << 16, Math.min(MAX_BUFFER_BYTES, expectedBytes)));
  }

  flush(): void {
    let done = 0;
    while (done < this.at) done += writeSync(this.fd, this.buf, done, this.at - done);
    this.at = 0;
  }
  raw(piece: Uint8Array): void {
    if (piece.length > this.buf.length - this.at) {
      this.flush();
      if (piece.length > this.buf.length) {
        let done = 0;
        while (done < piece.length) done += writeSync(this.fd, piece, done, piece.length - done);
        return;
      }
    }
    if (piece.length > 32) {
      this.buf.set(piece, this.at);
      this.at += piece.length;
      return;
    }
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < piece.length; i++) buf[at++] = piece[i];
    this.at = at;
  }
  text(text: string): void {
    this.raw(bytes(text));
  }
  byte(c: number): void {
    if (this.at >= this.buf.length) this.flush();
    this.buf[this.at++] = c;
  }
  /** A number as JavaScript prints it; integers digit by digit. */
  num(x: number): void {
    if (this.at + 24 > this.buf.length) this.flush();
    if (x >= 0 && x < 2147483648 && (x | 0) === x) {
      this.int31(x);
      return;
    }
    if (x !== Math.floor(x) || Math.abs(x) > Number.MAX_SAFE_INTEGER) {
      this.text(String(x));
      return;
    }
    if (x < 0) {
      this.buf[this.at++] = 45; // -
      x = -x;
    }
    if (x < 2147483648) {
      this.int31(x);
      return;
    }
    // Above 2^31 (timestamps, nanosecond counters): the high digits, then the low 8.
    const high = Math.floor(x / 1e8);
    this.int31(high);
    this.digits8(x - high * 1e8);
  }
  /** 0 <= x < 2^31, an integer. */
  private int31(x: number): void {
    const buf = this.buf;
    let n = 1;
    for (let p = 10; p <= x && n < 10; p *= 10) n++;
    let at = this.at + n;
    this.at = at;
    do {
      const q = (x / 10) | 0;
      buf[--at] = 48 + x - q * 10;
      x = q;
    } while (x > 0);
  }
  /** 0 <= x < 10^8, an integer, as exactly 8 digits. */
  private digits8(x: number): void {
    const buf = this.buf;
    let at = this.at + 8;
    this.at = at;
    for (let i = 0; i < 8; i++) {
      const q = (x / 10) | 0;
      buf[--at] = 48 + x - q * 10;
      x = q;
    }
  }
  /** A number already rounded to a tenth (`us`), as JavaScript prints it: 12, 12.5, -0.5. */
  tenth(x: number): void {
    let t = Math.round(x * 10);
    if (!Number.isFinite(t) || Math.abs(t) > Number.MAX_SAFE_INTEGER) {
      this.text(String(x));
      return;
    }
    if (this.at + 24 > this.buf.length) this.flush();
    if (t < 0) {
      this.buf[this.at++] = 45;
      t = -t;
    }
    const whole = Math.floor(t / 10);
    const fraction = t - whole * 10;
    this.num(whole);
    if (fraction !== 0) {
      this.buf[this.at++] = 46; // .
      this.buf[this.at++] = 48 + fraction;
    }
  }
}

const us = (x: number) => Math.round(x * 10) / 10;

/** Async id -> type index for the traced resources: open addressing over typed arrays. */
class IdTable {
  private readonly keys: Float64Array;
  private readonly values: Uint16Array;
  private readonly mask: number;
  constructor(count: number) {
    let size = 16;
    while (size < count * 2) size *= 2;
    this.keys = new Float64Array(size); // async ids start at 1: 0 is an empty slot
    this.values = new Uint16Array(size);
    this.mask = size - 1;
  }
  private slot(id: number): number {
    return Math.imul((id | 0) ^ ((id / 4294967296) | 0), 0x9e3779b1) & this.mask;
  }
  set(id: number, value: number): void {
    let i = this.slot(id);
    while (this.keys[i] !== 0 && this.keys[i] !== id) i = (i + 1) & this.mask;
    this.keys[i] = id;
    this.values[i] = value;
  }
  /** The value, or -1. */
  get(id: number): number {
    for (let i = this.slot(id); ; i = (i + 1) & this.mask) {
      const key = this.keys[i];
      if (key === id) return this.values[i];
      if (key === 0) return -1;
    }
  }
}

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
    // About 150 bytes an event, plus the series.
    const out = new Out(fd, input.async.events.length * 150 + input.schedstat.length * 40 + (1 << 16));
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
  const SEPARATOR = bytes(',\n');
  let first = true;
  /** Starts an event: its separator. */
  const next = () => {
    if (first) out.byte(10);
    else out.raw(SEPARATOR);
    first = false;
  };
  const emit = (event: string) => {
    next();
    out.text(event);
  };
  out.text('{"traceEvents":[');
  emit(`{"ph":"M","name":"process_name",${head},"args":{"name":${JSON.stringify(input.processName)}}}`);
  emit(`{"ph":"M","name":"thread_name",${head},"args":{"name":"main"}}`);

  // Async resources: "b" at init, "X" per callback (before..after), "n" at promise resolution,
  // "e" at destroy, all with the async id as the event id. The fixed parts are encoded once.
  const typeNames = record.types.map((t) => JSON.stringify(t));
  const pool = record.types.map((t) => THREADPOOL_TYPES.has(t));
  const siteArgs = record.sites.map((s) =>
    bytes(
      `,"site":${JSON.stringify(`${displayPath(s.url)}:${s.line}:${s.column}`)}` +
        (s.function ? `,"function":${JSON.stringify(s.function)}` : '') +
        (s.dependency ? ',"dependency":true' : ''),
    ),
  );
  const beginOf = typeNames.map((name) => bytes(`{"ph":"b","cat":"async","name":${name},"id":`));
  const end = typeNames.map((name) => bytes(`{"ph":"e","cat":"async","name":${name},"id":`));
  const callbackHead = typeNames.map((name) => bytes(`{"ph":"X","cat":"async.callback","name":${name},${head},"ts":`));
  const HEAD_TS = bytes(`,${head},"ts":`);
  const ARGS_ASYNC_ID = bytes(',"args":{"asyncId":');
  const TRIGGER = bytes(',"triggerAsyncId":');
  const THREADPOOL = bytes(',"threadpool":true');
  const WEIGHT = bytes(',"weight":');
  const CLOSE2 = bytes('}}');
  const RESOLVE = bytes('{"ph":"n","cat":"async","name":"promiseResolve","id":');
  const DUR = bytes(',"dur":');
  const UNFINISHED = bytes(',"unfinished":true');

  const { events, resources, ownIds } = record;
  const typeOf = new IdTable(resources.length);
  // Callbacks running: async id, type, start (a stack).
  const runIds: number[] = [];
  const runTypes: number[] = [];
  const runStarts: number[] = [];
  let running = 0;
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
        begin(row++, id, ts);
        continue;
      }
      const type = typeOf.get(id);
      if (type < 0) continue; // the recorder's own, or created before recording began
      if (kind === EventKind.Before) {
        runIds[running] = id;
        runTypes[running] = type;
        runStarts[running] = ts;
        running++;
      } else if (kind === EventKind.After) {
        // Callbacks nest; an exception can skip an `after`, so unwind to the matching `before`.
        let k = running - 1;
        while (k >= 0 && runIds[k] !== id) k--;
        if (k < 0) continue;
        while (running > k) {
          running--;
          callback(runTypes[running], runIds[running], runStarts[running], ts, running > k);
        }
      } else if (kind === EventKind.Resolve) {
        instant(RESOLVE, id, ts);
      } else if (kind === EventKind.Destroy) {
        instant(end[type], id, ts);
      }
    }
  }
  // Callbacks still running when the process ended (process.exit or an exception inside one).
  while (running > 0) {
    running--;
    callback(runTypes[running], runIds[running], runStarts[running], us(input.endUs), true);
  }
  // One small function per event shape, so that each is optimized on its own.
  function begin(row: number, id: number, ts: number): void {
    const chunk = Math.floor(row / CHUNK);
    const j = row % CHUNK;
    const type = resources.types[chunk][j];
    if (ownIds.has(id)) {
      record.created[type]--;
      record.traced[type]--;
      return;
    }
    const site = resources.sites[chunk][j];
    const weight = resources.weights[chunk][j];
    typeOf.set(id, type);
    const args = site >= 0 ? siteArgs[site] : null;
    next();
    out.raw(beginOf[type]);
    out.num(id);
    out.raw(HEAD_TS);
    out.tenth(ts);
    out.raw(ARGS_ASYNC_ID);
    out.num(id);
    out.raw(TRIGGER);
    out.num(resources.triggers[chunk][j]);
    if (args) out.raw(args);
    if (pool[type]) out.raw(THREADPOOL);
    if (weight > 1) {
      out.raw(WEIGHT);
      out.num(weight);
    }
    out.raw(CLOSE2);
  }
  function instant(prefix: Uint8Array, id: number, ts: number): void {
    next();
    out.raw(prefix);
    out.num(id);
    out.raw(HEAD_TS);
    out.tenth(ts);
    out.byte(125); // }
  }
  function callback(type: number, id: number, start: number, end: number, unfinished: boolean): void {
    next();
    out.raw(callbackHead[type]);
    out.tenth(start);
    out.raw(DUR);
    out.tenth(us(end - start));
    out.raw(ARGS_ASYNC_ID);
    out.num(id);
    if (unfinished) out.raw(UNFINISHED);
    out.raw(CLOSE2);
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
  // One a millisecond: formatted like the async events.
  const SCHEDSTAT = bytes(`{"ph":"C","cat":"cpu","name":"schedstat",${head},"ts":`);
  const ON_CPU = bytes(',"args":{"onCpuNs":');
  const RUN_QUEUE = bytes(',"runQueueNs":');
  const sched = input.schedstat;
  for (let i = 0; i < sched.length; i += 3) {
    next();
    out.raw(SCHEDSTAT);
    out.tenth(us(sched[i]));
    out.raw(ON_CPU);
    out.num(sched[i + 1]);
    out.raw(RUN_QUEUE);
    out.num(sched[i + 2]);
    out.raw(CLOSE2);
  }

  out.text(`\n],\n"displayTimeUnit":"ms",\n"metadata":${JSON.stringify(input.metadata())}}\n`);
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
