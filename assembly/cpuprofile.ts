// Pass 2 of a V8 .cpuprofile: the `samples` array (node ids) and the `timeDeltas` (or absolute
// `timestamps`) array are streamed side by side, each through its own window, so pairing them needs
// no buffering whatever their order in the file. Samples are put back in time order through a small
// reorder buffer (V8 writes slightly negative deltas now and then), then charged to the tables.

import { alloc } from './alloc';
import { account, direct, directSize, nodeIndex } from './tables';

export const PAIR_NEED_SAMPLES = 1;
export const PAIR_NEED_TIMES = 2;
export const PAIR_DONE = 3;
export const ERR_BAD_NUMBER = -1; // a byte that is not part of a number list (errorStream, errorAt)
export const ERR_UNKNOWN_NODE = -2; // samples[errorSample] names no node (errorValue)
export const ERR_COUNT_MISMATCH = -3; // one array ended before the other (errorSample = its length)

const REORDER = 128; // samples a late one may overtake

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

// The block of samples waiting to be put in order and charged.
const BLOCK = 8192;
let blockTime: usize = 0;
let blockNode: usize = 0;
let blockSize: i32 = 0;
let emitted: f64 = -Infinity; // the time charged up to

export function pairBegin(timestamps: bool, startTime: f64, end: f64): void {
  if (blockTime == 0) {
    blockTime = alloc(BLOCK << 3);
    blockNode = alloc(BLOCK << 2);
  }
  absolute = timestamps;
  clock = startTime;
  endTime = end;
  clamped = 0;
  blockSize = 0;
  emitted = -Infinity;
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
    if (!samples.ready && !times.ready) fastPairs();
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

// The common case, compact JSON well inside both windows, parsed with locals only. Anything else
// (whitespace, fractions, a window's end, an unknown id) is left to the general path above, which
// re-reads the pair from its start.
const MARGIN: usize = 48; // longer than any number this path accepts

function fastPairs(): void {
  if (samples.digits || samples.negative || times.digits || times.negative) return;
  let p = samples.pos;
  let q = times.pos;
  if (samples.end - p < MARGIN || times.end - q < MARGIN) return;
  const pEnd = samples.end - MARGIN;
  const qEnd = times.end - MARGIN;
  let t = clock;
  let n: f64 = 0;
  while (p < pEnd && q < qEnd) {
    // Sample id: up to 9 digits (u32), then a comma.
    let c = <u32>load<u8>(p);
    let d = c - 0x30;
    if (d >= 10) break;
    let id: u32 = d;
    let pi = p + 1;
    c = <u32>load<u8>(pi);
    d = c - 0x30;
    while (d < 10 && pi - p < 9) {
      id = id * 10 + d;
      c = <u32>load<u8>(++pi);
      d = c - 0x30;
    }
    if (c != 0x2c) break;
    // Time: an optional minus and up to 15 digits, then a comma.
    let qi = q;
    c = <u32>load<u8>(qi);
    const negative = c == 0x2d;
    if (negative) c = <u32>load<u8>(++qi);
    d = c - 0x30;
    if (d >= 10) break;
    const q0 = qi;
    let v: i64 = <i64>d;
    c = <u32>load<u8>(++qi);
    d = c - 0x30;
    while (d < 10 && qi - q0 < 15) {
      v = v * 10 + <i64>d;
      c = <u32>load<u8>(++qi);
      d = c - 0x30;
    }
    if (c != 0x2c) break;
    const node = id < <u32>directSize ? load<i32>(direct + (<usize>id << 2)) : nodeIndex(<f64>id);
    if (node < 0) break;
    const value = <f64>(negative ? -v : v);
    t = absolute ? value : t + value;
    insert(node, t);
    p = pi + 1;
    q = qi + 1;
    n += 1;
  }
  samples.pos = p;
  times.pos = q;
  samples.count += n;
  times.count += n;
  clock = t;
}

// Samples collect in a block. Each full block is put in time order (V8's negative deltas are local:
// usually it is sorted already, and insertion sort costs one comparison per sample then), then
// charged run by run, so a run of one stack costs one table update. The last REORDER samples stay
// behind for the next block: a late sample may overtake that many earlier ones.
function insert(node: i32, time: f64): void {
  const i = <usize>blockSize;
  store<i32>(blockNode + (i << 2), node);
  store<f64>(blockTime + (i << 3), time);
  blockSize++;
  if (blockSize == BLOCK) flush(REORDER);
}

function sortBlock(): void {
  for (let i = 1; i < blockSize; i++) {
    const t = load<f64>(blockTime + (<usize>i << 3));
    if (t >= load<f64>(blockTime + (<usize>(i - 1) << 3))) continue;
    const node = load<i32>(blockNode + (<usize>i << 2));
    let j = i;
    while (j > 0 && load<f64>(blockTime + (<usize>(j - 1) << 3)) > t) {
      store<f64>(blockTime + (<usize>j << 3), load<f64>(blockTime + (<usize>(j - 1) << 3)));
      store<i32>(blockNode + (<usize>j << 2), load<i32>(blockNode + (<usize>(j - 1) << 2)));
      j--;
    }
    store<f64>(blockTime + (<usize>j << 3), t);
    store<i32>(blockNode + (<usize>j << 2), node);
  }
}

// Charges all but the last `keep` samples; each lasts until the next one starts, the very last
// (keep = 0) until the profile's end time if that is later.
function flush(keep: i32): void {
  sortBlock();
  const count = blockSize - keep;
  if (count <= 0) return;
  let runNode = -1;
  let runStart: f64 = 0;
  let runTime: f64 = 0;
  let runSamples: f64 = 0;
  let t = max(load<f64>(blockTime), emitted);
  for (let i = 0; i < count; i++) {
    const node = load<i32>(blockNode + (<usize>i << 2));
    let next: f64;
    if (i + 1 < blockSize) {
      next = load<f64>(blockTime + (<usize>(i + 1) << 3));
      if (next < t) {
        next = t; // later than the reorder window allows: keep order, lose its duration
        clamped += 1;
      }
    } else next = max(t, endTime);
    if (node != runNode) {
      if (runNode >= 0) account(runNode, runStart, runTime, runSamples);
      runNode = node;
      runStart = t;
      runTime = 0;
      runSamples = 0;
    }
    runTime += next - t;
    runSamples += 1;
    t = next;
  }
  account(runNode, runStart, runTime, runSamples);
  emitted = t;
  memory.copy(blockNode, blockNode + (<usize>count << 2), <usize>keep << 2);
  memory.copy(blockTime, blockTime + (<usize>count << 3), <usize>keep << 3);
  blockSize = keep;
}

export function pairFinish(): void {
  flush(0);
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
