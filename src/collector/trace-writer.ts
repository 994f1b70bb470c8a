// Writes a process's async activity, GC, event-loop and memory series and off-CPU samples as one
// Chrome Trace Event Format file (object form: {"traceEvents": [...], "metadata": {...}}), which
// Perfetto and chrome://tracing open. All `ts`/`dur` are microseconds on the CPU profile's clock.
// The async events are written while the program runs, a batch at a time from the recorder's
// heartbeat (in an I/O-bound program, while the loop would sit idle anyway); the rest, and the
// events since the last batch, synchronously when the process ends. Events are formatted straight
// into a byte buffer (ASCII, numbers digit by digit), without building a string per event. The
// file is written as `<path>.tmp` and renamed into place at the end: whole or not at all.

import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CHUNK, EventKind, THREADPOOL_TYPES, type AsyncRecord } from './async-trace.js';
import type { Series } from './series.js';

export interface TraceStart {
  pid: number;
  processName: string;
  /** `performance.now()` ms -> profile µs. */
  offsetUs: number;
  async: AsyncRecord;
}

export interface TraceEnd {
  /** End of recording on the profile's clock, for callbacks still running when the process ended. */
  endUs: number;
  series: Series;
  /** [timeUs, onCpuNs, runQueueNs] triples. */
  schedstat: Float64Array;
  /** Called once the events are written (own resources are then left out of the counts). */
  metadata: () => Record<string, unknown>;
}

/** The output buffer. */
const BUFFER_BYTES = 1 << 20;
const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

/** Buffered ASCII output to a file descriptor. */
class Out {
  private readonly buf: Uint8Array;
  private at = 0;
  constructor(private readonly fd: number) {
    this.buf = Buffer.allocUnsafeSlow(BUFFER_BYTES);
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

/** Async id -> type index for the traced resources: open addressing over typed arrays, growing. */
class IdTable {
  private keys = new Float64Array(1 << 12); // async ids start at 1: 0 is an empty slot
  private values = new Uint16Array(1 << 12);
  private mask = (1 << 12) - 1;
  private count = 0;
  private slot(id: number): number {
    return Math.imul((id | 0) ^ ((id / 4294967296) | 0), 0x9e3779b1) & this.mask;
  }
  set(id: number, value: number): void {
    if (2 * (this.count + 1) > this.keys.length) this.grow();
    let i = this.slot(id);
    while (this.keys[i] !== 0 && this.keys[i] !== id) i = (i + 1) & this.mask;
    if (this.keys[i] === 0) this.count++;
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
  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Uint16Array(keys.length * 2);
    this.mask = keys.length * 2 - 1;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.set(keys[i], values[i]);
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

const SEPARATOR = bytes(',\n');
const ARGS_ASYNC_ID = bytes(',"args":{"asyncId":');
const TRIGGER = bytes(',"triggerAsyncId":');
const THREADPOOL = bytes(',"threadpool":true');
const WEIGHT = bytes(',"weight":');
const CLOSE2 = bytes('}}');
const RESOLVE = bytes('{"ph":"n","cat":"async","name":"promiseResolve","id":');
const DUR = bytes(',"dur":');
const UNFINISHED = bytes(',"unfinished":true');

/**
 * A trace being written: `start` opens `<path>.tmp` and writes the header, `writeEvents` the async
 * events recorded so far, `finish` the rest and renames the file into place, `abort` removes it.
 * Async resources: "b" at init, "X" per callback (before..after), "n" at promise resolution, "e"
 * at destroy, all with the async id as the event id. The fixed parts are encoded once per type and
 * site, as they first appear.
 */
export class TraceWriter {
  private readonly temp: string;
  private readonly fd: number;
  private readonly out: Out;
  private readonly head: string;
  private readonly headTs: Uint8Array;
  private first = true;
  private closed = false;
  /** Events written so far. */
  private written = 0;
  private row = 0;
  private readonly typeOf = new IdTable();
  // Per type and per site, encoded as they first appear.
  private readonly beginOf: Uint8Array[] = [];
  private readonly endOf: Uint8Array[] = [];
  private readonly callbackHead: Uint8Array[] = [];
  private readonly pool: boolean[] = [];
  private readonly siteArgs: Uint8Array[] = [];
  // Callbacks running: async id, type, start (a stack).
  private readonly runIds: number[] = [];
  private readonly runTypes: number[] = [];
  private readonly runStarts: number[] = [];
  private running = 0;

  constructor(
    private readonly path: string,
    private readonly input: TraceStart,
  ) {
    this.temp = `${path}.tmp`;
    this.fd = openSync(this.temp, 'w');
    this.out = new Out(this.fd);
    this.head = `"pid":${input.pid},"tid":${input.pid}`;
    this.headTs = bytes(`,${this.head},"ts":`);
    this.out.text('{"traceEvents":[');
    this.emit(`{"ph":"M","name":"process_name",${this.head},"args":{"name":${JSON.stringify(input.processName)}}}`);
    this.emit(`{"ph":"M","name":"thread_name",${this.head},"args":{"name":"main"}}`);
  }

  /** Events recorded so far and not written yet. */
  pending(): number {
    return this.input.async.events.length - this.written;
  }

  /** Writes the async events recorded before `upTo` (an event count), at most `max` of them. */
  writeEvents(upTo: number, max = Infinity): void {
    const { events } = this.input.async;
    const end = Math.min(upTo, events.length, this.written + max);
    const offsetUs = this.input.offsetUs;
    while (this.written < end) {
      const c = Math.floor(this.written / CHUNK);
      const kinds = events.kinds[c];
      const ids = events.ids[c];
      const times = events.times[c];
      const stop = Math.min(CHUNK, end - c * CHUNK);
      for (let i = this.written - c * CHUNK; i < stop; i++) this.event(kinds[i] as EventKind, ids[i], us(times[i] * 1000 + offsetUs));
      this.written = c * CHUNK + stop;
    }
    this.out.flush();
  }

  /** Writes everything left and renames the file into place. */
  finish(end: TraceEnd): void {
    this.writeEvents(Infinity);
    // Callbacks still running when the process ended (process.exit or an exception inside one).
    while (this.running > 0) {
      this.running--;
      this.callback(this.runTypes[this.running], this.runIds[this.running], this.runStarts[this.running], us(end.endUs), true);
    }
    this.series(end);
    this.out.text(`\n],\n"displayTimeUnit":"ms",\n"metadata":${JSON.stringify(end.metadata())}}\n`);
    this.out.flush();
    this.closed = true;
    closeSync(this.fd);
    renameSync(this.temp, this.path);
  }

  /** Removes the unfinished file. */
  abort(): void {
    if (!this.closed) {
      this.closed = true;
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    rmSync(this.temp, { force: true });
  }

  /** Starts an event: its separator. */
  private next(): void {
    if (this.first) this.out.byte(10);
    else this.out.raw(SEPARATOR);
    this.first = false;
  }
  private emit(event: string): void {
    this.next();
    this.out.text(event);
  }

  private event(kind: EventKind, id: number, ts: number): void {
    if (kind === EventKind.Init) {
      this.begin(this.row++, id, ts);
      return;
    }
    const type = this.typeOf.get(id);
    if (type < 0) return; // the recorder's own, or created before recording began
    if (kind === EventKind.Before) {
      this.runIds[this.running] = id;
      this.runTypes[this.running] = type;
      this.runStarts[this.running] = ts;
      this.running++;
    } else if (kind === EventKind.After) {
      // Callbacks nest; an exception can skip an `after`, so unwind to the matching `before`.
      let k = this.running - 1;
      while (k >= 0 && this.runIds[k] !== id) k--;
      if (k < 0) return;
      while (this.running > k) {
        this.running--;
        this.callback(this.runTypes[this.running], this.runIds[this.running], this.runStarts[this.running], ts, this.running > k);
      }
    } else if (kind === EventKind.Resolve) {
      this.instant(RESOLVE, id, ts);
    } else if (kind === EventKind.Destroy) {
      this.instant(this.endOf[type], id, ts);
    }
  }

  private encodeType(type: number): void {
    const { types } = this.input.async;
    for (let t = this.beginOf.length; t <= type; t++) {
      const name = JSON.stringify(types[t]);
      this.beginOf.push(bytes(`{"ph":"b","cat":"async","name":${name},"id":`));
      this.endOf.push(bytes(`{"ph":"e","cat":"async","name":${name},"id":`));
      this.callbackHead.push(bytes(`{"ph":"X","cat":"async.callback","name":${name},${this.head},"ts":`));
      this.pool.push(THREADPOOL_TYPES.has(types[t]));
    }
  }
  private encodeSite(site: number): void {
    const { sites } = this.input.async;
    for (let k = this.siteArgs.length; k <= site; k++) {
      const s = sites[k];
      this.siteArgs.push(
        bytes(
          `,"site":${JSON.stringify(`${displayPath(s.url)}:${s.line}:${s.column}`)}` +
            (s.function ? `,"function":${JSON.stringify(s.function)}` : '') +
            (s.dependency ? ',"dependency":true' : '') +
            (s.callee ? `,"callee":${JSON.stringify(s.callee)}` : ''),
        ),
      );
    }
  }

  // One small method per event shape, so that each is optimized on its own.
  private begin(row: number, id: number, ts: number): void {
    const record = this.input.async;
    const { resources, ownIds } = record;
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
    if (type >= this.beginOf.length) this.encodeType(type);
    if (site >= this.siteArgs.length) this.encodeSite(site);
    this.typeOf.set(id, type);
    const out = this.out;
    this.next();
    out.raw(this.beginOf[type]);
    out.num(id);
    out.raw(this.headTs);
    out.tenth(ts);
    out.raw(ARGS_ASYNC_ID);
    out.num(id);
    out.raw(TRIGGER);
    out.num(resources.triggers[chunk][j]);
    if (site >= 0) out.raw(this.siteArgs[site]);
    if (this.pool[type]) out.raw(THREADPOOL);
    if (weight > 1) {
      out.raw(WEIGHT);
      out.num(weight);
    }
    out.raw(CLOSE2);
  }
  private instant(prefix: Uint8Array, id: number, ts: number): void {
    this.next();
    this.out.raw(prefix);
    this.out.num(id);
    this.out.raw(this.headTs);
    this.out.tenth(ts);
    this.out.byte(125); // }
  }
  private callback(type: number, id: number, start: number, end: number, unfinished: boolean): void {
    this.next();
    this.out.raw(this.callbackHead[type]);
    this.out.tenth(start);
    this.out.raw(DUR);
    this.out.tenth(us(end - start));
    this.out.raw(ARGS_ASYNC_ID);
    this.out.num(id);
    if (unfinished) this.out.raw(UNFINISHED);
    this.out.raw(CLOSE2);
  }

  private series({ series, schedstat: sched }: TraceEnd): void {
    const { head } = this;
    const offsetUs = this.input.offsetUs;
    const at = (ms: number) => us(ms * 1000 + offsetUs);
    for (const gc of series.gc) {
      const args = `{"kind":"${gc.kind}","flags":${gc.flags}}`;
      this.emit(`{"ph":"X","cat":"gc","name":"GC",${head},"ts":${at(gc.start)},"dur":${us(gc.duration * 1000)},"args":${args}}`);
    }
    const counter = (name: string, cat: string, ts: number, args: string) =>
      this.emit(`{"ph":"C","cat":"${cat}","name":"${name}",${head},"ts":${ts},"args":{${args}}}`);
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
    const out = this.out;
    for (let i = 0; i < sched.length; i += 3) {
      this.next();
      out.raw(SCHEDSTAT);
      out.tenth(us(sched[i]));
      out.raw(ON_CPU);
      out.num(sched[i + 1]);
      out.raw(RUN_QUEUE);
      out.num(sched[i + 2]);
      out.raw(CLOSE2);
    }
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
