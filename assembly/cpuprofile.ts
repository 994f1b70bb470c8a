// Pass 2 of a V8 .cpuprofile: the `samples` array (node ids) and the `timeDeltas` (or absolute
// `timestamps`) array are streamed side by side, each through its own window, so pairing them needs
// no buffering whatever their order in the file. Samples are put back in time order through a small
// reorder buffer (V8 writes slightly negative deltas now and then), then charged to the tables.

import { alloc } from './alloc';
import { account, nodeIndex } from './tables';

export const PAIR_NEED_SAMPLES = 1;
export const PAIR_NEED_TIMES = 2;
export const PAIR_DONE = 3;
export const ERR_BAD_NUMBER = -1; // a byte that is not part of a number list (errorStream, errorAt)
export const ERR_UNKNOWN_NODE = -2; // samples[errorSample] names no node (errorValue)
export const ERR_COUNT_MISMATCH = -3; // one array ended before the other (errorSample = its length)

const REORDER = 128; // samples a late one may overtake; a power of two

// One number stream: a window and the parse state of the number being read. Unmanaged: it lives in
// the core's own raw memory like every other table.
@unmanaged class Stream {
  ptr: usize = 0;
  pos: usize = 0;
  end: usize = 0;
  consumed: f64 = 0; // bytes of the array consumed before this window
  last: bool = false; // the window holds the array's final bytes
  value: f64 = 0;
  scale: f64 = 0; // > 0 while reading a fraction
  negative: bool = false;
  digits: bool = false; // the current number has digits
  ready: bool = false; // `out` holds a complete number not yet paired
  out: f64 = 0;
  ended: bool = false;
  count: f64 = 0; // numbers read
}

const samples = changetype<Stream>(alloc(offsetof<Stream>()));
const times = changetype<Stream>(alloc(offsetof<Stream>()));
let absolute = false; // times are timestamps, not deltas
let clock: f64 = 0;
let endTime: f64 = 0;
export let clamped: f64 = 0;
let errorStream: i32 = 0;
let errorAt: f64 = 0;
let errorValue: f64 = 0;
let errorIndex: f64 = 0;

// Reorder ring, sorted by time from head to tail.
let ringTime: usize = 0;
let ringNode: usize = 0;
let ringHead: i32 = 0;
let ringSize: i32 = 0;
let emitted: f64 = -Infinity;
let pendingNode: i32 = -1;
let pendingTime: f64 = 0;

export function pairBegin(timestamps: bool, startTime: f64, end: f64): void {
  if (ringTime == 0) {
    ringTime = alloc(REORDER << 3);
    ringNode = alloc(REORDER << 2);
  }
  absolute = timestamps;
  clock = startTime;
  endTime = end;
  clamped = 0;
  ringHead = 0;
  ringSize = 0;
  emitted = -Infinity;
  pendingNode = -1;
  reset(samples);
  reset(times);
}

function reset(s: Stream): void {
  s.ptr = s.pos = s.end = 0;
  s.consumed = 0;
  s.last = false;
  s.value = 0;
  s.scale = 0;
  s.negative = false;
  s.digits = false;
  s.ready = false;
  s.ended = false;
  s.count = 0;
}

/** Hands the core a window of `n` bytes at `ptr` of stream 0 (samples) or 1 (times). */
export function pairWindow(stream: i32, ptr: usize, n: i32, last: bool): void {
  const s = stream == 0 ? samples : times;
  s.consumed += <f64>(s.end - s.ptr);
  s.ptr = s.pos = ptr;
  s.end = ptr + <usize>n;
  s.last = last;
}

// Reads one number: 1 when complete (in s.out), 0 when the window ran out first, 2 when the array
// has ended, -1 on a byte that does not belong in a list of numbers.
function next(s: Stream): i32 {
  let p = s.pos;
  const end = s.end;
  while (p < end) {
    const c = <u32>load<u8>(p);
    const d = c - 0x30;
    if (d < 10) {
      if (s.scale > 0) {
        s.value += <f64>d / s.scale;
        s.scale *= 10;
      } else s.value = s.value * 10 + <f64>d;
      s.digits = true;
    } else if (c == 0x2c || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) {
      if (s.digits) {
        s.pos = p + 1;
        return complete(s);
      }
      if (c == 0x2c || s.negative) return bad(s, p);
    } else if (c == 0x2d && !s.digits && !s.negative) {
      s.negative = true;
    } else if (c == 0x2e && s.digits && s.scale == 0) {
      s.scale = 10;
    } else return bad(s, p);
    p++;
  }
  s.pos = p;
  if (!s.last) return 0;
  if (s.digits) return complete(s);
  if (s.negative) return bad(s, p);
  s.ended = true;
  return 2;
}

function complete(s: Stream): i32 {
  s.out = s.negative ? -s.value : s.value;
  s.value = 0;
  s.negative = false;
  s.digits = false;
  s.scale = 0;
  s.ready = true;
  s.count += 1;
  return 1;
}

function bad(s: Stream, p: usize): i32 {
  errorStream = s == samples ? 0 : 1;
  errorAt = s.consumed + <f64>(p - s.ptr);
  return ERR_BAD_NUMBER;
}

/** Pairs numbers until a window runs dry (PAIR_NEED_*), both arrays end (PAIR_DONE) or an error. */
export function pairRun(): i32 {
  while (true) {
    if (!samples.ready && !samples.ended) {
      const r = next(samples);
      if (r == 0) return PAIR_NEED_SAMPLES;
      if (r < 0) return r;
    }
    if (!times.ready && !times.ended) {
      const r = next(times);
      if (r == 0) return PAIR_NEED_TIMES;
      if (r < 0) return r;
    }
    if (samples.ended || times.ended) {
      if (samples.ended && times.ended) return PAIR_DONE;
      errorStream = samples.ended ? 0 : 1;
      errorIndex = samples.ended ? samples.count : times.count;
      return ERR_COUNT_MISMATCH;
    }
    samples.ready = times.ready = false;
    const node = nodeIndex(samples.out);
    if (node < 0) {
      errorValue = samples.out;
      errorIndex = samples.count - 1;
      return ERR_UNKNOWN_NODE;
    }
    clock = absolute ? times.out : clock + times.out;
    insert(node, clock);
  }
}

// Keeps the last REORDER samples sorted by time; the earliest leaves when the ring is full.
function insert(node: i32, time: f64): void {
  if (ringSize == REORDER) {
    const h = <usize>ringHead;
    emit(load<i32>(ringNode + (h << 2)), load<f64>(ringTime + (h << 3)));
    ringHead = (ringHead + 1) & (REORDER - 1);
    ringSize--;
  }
  let i = ringSize;
  // Move later samples one slot towards the tail (stable: equal times keep their order).
  while (i > 0) {
    const prev = <usize>((ringHead + i - 1) & (REORDER - 1));
    const t = load<f64>(ringTime + (prev << 3));
    if (t <= time) break;
    const slot = <usize>((ringHead + i) & (REORDER - 1));
    store<f64>(ringTime + (slot << 3), t);
    store<i32>(ringNode + (slot << 2), load<i32>(ringNode + (prev << 2)));
    i--;
  }
  const slot = <usize>((ringHead + i) & (REORDER - 1));
  store<f64>(ringTime + (slot << 3), time);
  store<i32>(ringNode + (slot << 2), node);
  ringSize++;
}

// Each sample lasts until the next one starts; the pending sample waits for its successor.
function emit(node: i32, time: f64): void {
  if (time < emitted) {
    time = emitted; // later than the reorder window allows: keep order, lose its duration
    clamped += 1;
  }
  emitted = time;
  if (pendingNode >= 0) account(pendingNode, pendingTime, time - pendingTime);
  pendingNode = node;
  pendingTime = time;
}

/** Flushes the reorder ring; the last sample lasts until the profile's end time (if later). */
export function pairFinish(): void {
  while (ringSize > 0) {
    const h = <usize>ringHead;
    emit(load<i32>(ringNode + (h << 2)), load<f64>(ringTime + (h << 3)));
    ringHead = (ringHead + 1) & (REORDER - 1);
    ringSize--;
  }
  if (pendingNode >= 0) account(pendingNode, pendingTime, max(0, endTime - pendingTime));
  pendingNode = -1;
}

export function pairSamples(): f64 {
  return samples.count;
}
export function pairErrorStream(): i32 {
  return errorStream;
}
export function pairErrorAt(): f64 {
  return errorAt;
}
export function pairErrorValue(): f64 {
  return errorValue;
}
export function pairErrorIndex(): f64 {
  return errorIndex;
}
