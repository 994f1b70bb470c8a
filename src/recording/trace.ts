// Reads a `<pid>.trace.json` written by `loopscope collect` (src/collector/trace-writer.ts): a
// Chrome trace whose events are one per line. The file is read in chunks and line by line, never
// held as one string; each event goes straight into typed-array columns (see model.ts).

import type { ByteSource } from '../core/source.js';
import { frameKind } from '../importers/frames.js';
import { InputError } from '../model.js';
import { Column, Records } from './columns.js';
import type { AsyncResources, AsyncTrace, Callbacks, Series, TraceMetadata, TraceSite } from './model.js';

const CHUNK_BYTES = 1 << 20;
/** A longer line is not the collector's one-event-per-line layout. */
const MAX_LINE_BYTES = 64 << 20;

interface RawEvent {
  ph?: string;
  cat?: string;
  name?: string;
  id?: number;
  ts?: number;
  dur?: number;
  args?: Record<string, unknown>;
}

class ResourceColumns {
  id = new Column(Float64Array);
  trigger = new Column(Float64Array);
  type = new Column(Uint16Array);
  site = new Column(Int32Array);
  callee = new Column(Uint16Array);
  weight = new Column(Uint16Array);
  init = new Column(Float64Array);
  resolveAfter = new Column(Float32Array);
  callbackAfter = new Column(Float32Array);
  callbacks = new Column(Uint32Array);
  callbackMs = new Column(Float32Array);
  /** Async ids arrive ascending (they are handed out at creation); a Map only if they ever do not. */
  private byId: Map<number, number> | null = null;

  get length(): number {
    return this.id.length;
  }

  add(id: number, trigger: number, type: number, site: number, callee: number, weight: number, init: number): void {
    const row = this.length;
    if (!this.byId && row > 0 && id <= this.id.data[row - 1]) {
      this.byId = new Map();
      for (let i = 0; i < row; i++) this.byId.set(this.id.data[i], i);
    }
    this.id.push(id);
    this.byId?.set(id, row);
    this.trigger.push(trigger);
    this.type.push(type);
    this.site.push(site);
    this.callee.push(callee);
    this.weight.push(weight);
    this.init.push(init);
    this.resolveAfter.push(NaN);
    this.callbackAfter.push(NaN);
    this.callbacks.push(0);
    this.callbackMs.push(0);
  }

  /** Row of an async id, -1 when it was not traced. */
  find(id: number): number {
    if (this.byId) return this.byId.get(id) ?? -1;
    const ids = this.id.data;
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid];
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** Splits "/abs/file.mjs:12:5" (or "file:///x.mjs:12:5") into its parts. */
function parseSite(text: string, fn: string, dependency: boolean): TraceSite {
  const c = text.lastIndexOf(':');
  const l = c > 0 ? text.lastIndexOf(':', c - 1) : -1;
  const line = l > 0 ? Number(text.slice(l + 1, c)) : NaN;
  const column = c > 0 ? Number(text.slice(c + 1)) : NaN;
  const file = Number.isInteger(line) && Number.isInteger(column) ? text.slice(0, l) : text;
  const kind = frameKind(fn, file);
  return {
    file,
    line: Number.isInteger(line) ? line : 0,
    column: Number.isInteger(column) ? column : 0,
    function: fn,
    dependency: dependency || kind !== 'user',
  };
}

const num = (v: unknown, fallback = NaN) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

export async function readTrace(source: ByteSource): Promise<AsyncTrace> {
  const res = new ResourceColumns();
  const cb = {
    start: new Column(Float64Array),
    duration: new Column(Float32Array),
    self: new Column(Float32Array),
    resource: new Column(Int32Array),
  };
  // Callbacks are written when they end, so nested ones come before the callback around them: a
  // stack of callbacks not yet claimed by a parent finds each one's direct children.
  const open: number[] = [];
  const drift = new Records(2);
  const utilization = new Records(2);
  const memory = new Records(6);
  const activity = new Records(4);
  const schedstat = new Records(3);
  const gc = new Records(2);
  const types: string[] = [];
  const typeIndex = new Map<string, number>();
  const threadpool: boolean[] = [];
  const sites: TraceSite[] = [];
  const siteIndex = new Map<string, number>();
  let metadata: Record<string, unknown> | null = null;
  let skipped = 0;
  let sawHeader = false;

  const typeOf = (name: string, pool: boolean): number => {
    let t = typeIndex.get(name);
    if (t === undefined) {
      t = types.length;
      typeIndex.set(name, t);
      types.push(name);
      threadpool.push(pool);
    } else if (pool) threadpool[t] = true;
    return t;
  };
  const callees = [''];
  const calleeIndex = new Map<string, number>([['', 0]]);
  const calleeOf = (args: Record<string, unknown>): number => {
    const name = typeof args.callee === 'string' ? args.callee : '';
    let c = calleeIndex.get(name);
    if (c === undefined && callees.length < 65536) {
      c = callees.length;
      calleeIndex.set(name, c);
      callees.push(name);
    }
    return c ?? 0;
  };
  const siteOf = (args: Record<string, unknown>): number => {
    const text = args.site;
    if (typeof text !== 'string') return -1;
    const fn = typeof args.function === 'string' ? args.function : '';
    const key = `${text}\u0000${fn}`;
    let s = siteIndex.get(key);
    if (s === undefined) {
      s = sites.length;
      siteIndex.set(key, s);
      sites.push(parseSite(text, fn, args.dependency === true));
    }
    return s;
  };

  const event = (e: RawEvent) => {
    const ts = num(e.ts) / 1000;
    const args = e.args ?? {};
    switch (e.ph) {
      case 'b': {
        if (e.cat !== 'async' || !Number.isFinite(ts)) break;
        const id = num(args.asyncId, num(e.id));
        if (!Number.isFinite(id)) break;
        const type = typeOf(String(e.name ?? '?'), args.threadpool === true);
        res.add(id, num(args.triggerAsyncId, -1), type, siteOf(args), calleeOf(args), Math.max(1, Math.min(65535, num(args.weight, 1))), ts);
        break;
      }
      case 'n': {
        const row = res.find(num(e.id));
        if (row >= 0 && Number.isNaN(res.resolveAfter.data[row])) res.resolveAfter.data[row] = ts - res.init.data[row];
        break;
      }
      case 'X': {
        const dur = num(e.dur, 0) / 1000;
        if (e.cat === 'async.callback') {
          const row = res.find(num(args.asyncId));
          if (row < 0 || !Number.isFinite(ts)) break;
          let self = dur;
          // A nested callback traced 1 in K stands for K of them.
          while (open.length && cb.start.data[open[open.length - 1]] >= ts) {
            const child = open.pop()!;
            self -= cb.duration.data[child] * res.weight.data[cb.resource.data[child]];
          }
          open.push(cb.start.length);
          // Unclaimed top-level callbacks pile up; a parent reaching back past thousands of them is not a thing.
          if (open.length > 8192) open.splice(0, 4096);
          cb.start.push(ts);
          cb.duration.push(dur);
          cb.self.push(Math.max(0, self));
          cb.resource.push(row);
          res.callbacks.data[row]++;
          res.callbackMs.data[row] += dur;
          if (Number.isNaN(res.callbackAfter.data[row])) res.callbackAfter.data[row] = ts - res.init.data[row];
        } else if (e.cat === 'gc' && Number.isFinite(ts)) gc.push(ts, dur);
        break;
      }
      case 'C': {
        if (!Number.isFinite(ts)) break;
        if (e.name === 'timerDrift') drift.push(ts, num(args.lateMs, 0));
        else if (e.name === 'eventLoopUtilization') utilization.push(ts, num(args.utilization));
        else if (e.name === 'memory') {
          memory.push(ts, num(args.heapUsed), num(args.heapTotal), num(args.external), num(args.arrayBuffers), num(args.rss));
        } else if (e.name === 'asyncActivity') activity.push(ts, num(args.created, 0), num(args.promises, 0), num(args.callbacks, 0));
        else if (e.name === 'schedstat') schedstat.push(ts, num(args.onCpuNs) / 1e6, num(args.runQueueNs) / 1e6);
        break;
      }
      default:
        break; // metadata events ('M'), destroy ('e'): not used by the diagnosis
    }
  };

  const decoder = new TextDecoder();
  const line = (bytes: Uint8Array, start: number, end: number, at: number) => {
    // Trim whitespace and the separating comma.
    while (end > start && (bytes[end - 1] === 0x2c || bytes[end - 1] <= 0x20)) end--;
    while (start < end && bytes[start] <= 0x20) start++;
    if (end <= start) return;
    const text = decoder.decode(bytes.subarray(start, end));
    if (text.startsWith('{"ph"')) {
      try {
        event(JSON.parse(text) as RawEvent);
      } catch {
        skipped++;
      }
    } else if (text.startsWith('{"traceEvents":[')) {
      sawHeader = true;
      if (text.length > 16) skipped++;
    } else if (text.startsWith('"metadata":')) {
      try {
        metadata = (JSON.parse(`{${text.endsWith('}}') ? text.slice(0, -1) : text}}`) as { metadata: Record<string, unknown> }).metadata;
      } catch {
        throw new InputError(`${source.name}: the trace's metadata at byte ${at} is not valid JSON`);
      }
    } else if (text !== '],' && text !== ']' && !text.startsWith('"displayTimeUnit"')) skipped++;
  };

  // Chunked line splitting; a line that spans chunks is carried over.
  let carry = new Uint8Array(0);
  let carryAt = 0;
  const buffer = new Uint8Array(CHUNK_BYTES);
  for (let offset = 0; offset < source.size; ) {
    const n = await source.read(offset, buffer);
    if (n <= 0) break;
    let bytes = buffer.subarray(0, n);
    let base = offset;
    if (carry.length) {
      const joined = new Uint8Array(carry.length + n);
      joined.set(carry);
      joined.set(bytes, carry.length);
      bytes = joined;
      base = carryAt;
    }
    let start = 0;
    for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, start)) {
      line(bytes, start, i, base + start);
      start = i + 1;
    }
    carry = bytes.slice(start);
    carryAt = base + start;
    if (carry.length > MAX_LINE_BYTES) {
      throw new InputError(`${source.name}: a line longer than ${MAX_LINE_BYTES >> 20} MB at byte ${carryAt}: not a trace written by \`loopscope collect\``);
    }
    offset += n;
  }
  if (carry.length) line(carry, 0, carry.length, carryAt);
  if (!sawHeader) throw new InputError(`${source.name}: not a trace written by \`loopscope collect\` (no "traceEvents" on its first line)`);
  if (!metadata) throw new InputError(`${source.name}: truncated: the trace ends at byte ${source.size} before its metadata`);

  const resources: AsyncResources = {
    count: res.length,
    id: res.id.done(),
    trigger: res.trigger.done(),
    type: res.type.done(),
    site: res.site.done(),
    callee: res.callee.done(),
    weight: res.weight.done(),
    init: res.init.done(),
    resolveAfter: res.resolveAfter.done(),
    callbackAfter: res.callbackAfter.done(),
    callbacks: res.callbacks.done(),
    callbackMs: res.callbackMs.done(),
    types,
    threadpool,
    sites,
    callees,
  };
  const callbacks: Callbacks = {
    count: cb.start.length,
    start: cb.start.done(),
    duration: cb.duration.done(),
    self: cb.self.done(),
    resource: cb.resource.done(),
  };
  const series: Series = {
    drift: drift.done(),
    utilization: utilization.done(),
    memory: memory.done(),
    activity: activity.done(),
    schedstat: schedstat.done(),
    gc: gc.done(),
  };
  return { resources, callbacks, series, metadata: readMetadata(metadata), skippedLines: skipped };
}

function readMetadata(raw: Record<string, unknown>): TraceMetadata {
  const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  const async = obj(raw.async);
  const typeCounts = new Map<string, { created: number; traced: number }>();
  for (const [name, counts] of Object.entries(obj(async.types))) {
    const c = obj(counts);
    typeCounts.set(name, { created: num(c.created, 0), traced: num(c.traced, 0) });
  }
  const delay = obj(raw.eventLoopDelay);
  return {
    threadpoolSize: Math.max(1, num(obj(raw.threadpool).size, 4)),
    loopDelay:
      num(delay.count, 0) > 0
        ? { max: num(delay.max, 0), p99: num(delay.p99, 0), mean: num(delay.mean, 0), count: num(delay.count, 0) }
        : null,
    typeCounts,
    callbacksRun: num(async.callbacks, 0),
    schedstatAvailable: obj(raw.schedstat).available === true,
    heartbeatMs: num(obj(raw.series).heartbeatMs, 10),
    raw,
  };
}
