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
let lastTime: f64 = -Infinity; // the time of the block's last sample
let firstLate: i32 = BLOCK; // the first sample earlier than the one before it (BLOCK: none)

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
  lastTime = -Infinity;
  firstLate = BLOCK;
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
    if (!samples.ready && !times.ready) while (fastPairs()) {}
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

// The common case, compact JSON well inside both windows, parsed a block at a time: first the
// sample ids, then as many times, each stream in a loop of its own. Commas are found 64 bytes at a
// time (SIMD), so where a number ends never waits on parsing the number before it, and the same
// 64 bytes are checked for anything but digits and commas; numbers are converted 8 bytes at a time
// (SWAR), without a branch per digit. Anything else (whitespace, fractions, long numbers, a
// window's end, an unknown id) is left to the general path above, which re-reads the pair.
const MARGIN: usize = 72; // a 64-byte chunk plus an 8-byte read of the number ending in it
const ZEROS: u64 = 0x3030303030303030; // '0' in every byte

// One bit per byte of `v` that is a comma.
@inline function commaBits(v: v128): u64 {
  return <u64><u32>i8x16.bitmask(i8x16.eq(v, i8x16.splat(0x2c)));
}

// All ones in the bytes of `v` that are digits or commas.
@inline function digitsOrCommas(v: v128): v128 {
  // '0'..'9' move to -128..-119, so one signed comparison finds them.
  const digit = i8x16.lt_s(i8x16.add(v, i8x16.splat(0x50)), i8x16.splat(-118));
  return v128.or(digit, i8x16.eq(v, i8x16.splat(0x2c)));
}

// The number of leading digit bytes in `x` (8 bytes xor ZEROS, the first byte lowest): 0 to 8.
@inline function digitCount(x: u64): usize {
  // A byte is a digit when x is 0..9: adding 0x76 to its low 7 bits sets its high bit otherwise.
  const other = (((x & 0x7f7f7f7f7f7f7f7f) + 0x7676767676767676) | x) & 0x8080808080808080;
  return <usize>(ctz(other) >> 3);
}

// The value of 8 digits (bytes 0..9, the most significant lowest): pairs, then fours, then all 8.
@inline function eightDigits(x: u64): u64 {
  x = x * 10 + (x >> 8);
  return ((x & 0x000000ff000000ff) * 0x000f424000000064 + ((x >> 16) & 0x000000ff000000ff) * 0x0000271000000001) >> 32;
}

// The value of the `n` (1..8) digits that begin `x`: the others are shifted out, zeros come in.
@inline function leadingDigits(x: u64, n: usize): u64 {
  return eightDigits(x << (64 - (<u64>n << 3)));
}

/** Parses pairs into the block until one cannot be taken here; true when the block filled up. */
function fastPairs(): bool {
  if (samples.digits || samples.negative || times.digits || times.negative) return false;
  if (samples.end - samples.pos < MARGIN || times.end - times.pos < MARGIN) return false;
  const start = samples.pos;
  const ids = fastIds(blockSize, BLOCK - blockSize);
  if (ids == 0) return false;
  const n = fastTimes(blockSize, ids);
  // Rare (a window's end, an odd time): give back the ids that found no time.
  if (n < ids) samples.pos = skipNumbers(start, n);
  samples.count += <f64>n;
  times.count += <f64>n;
  blockSize += n;
  if (blockSize < BLOCK) return false;
  // One call per block lets the engine switch to optimized code early in a long window.
  flush(REORDER);
  return true;
}

/** Up to `max` node indices from the samples stream into the block at `from`; how many. */
function fastIds(from: i32, max: i32): i32 {
  let p = samples.pos; // where the next id starts
  const last = samples.end - MARGIN; // the last chunk start
  const table = direct;
  const tableSize = <u32>directSize;
  const first = blockNode + (<usize>from << 2);
  const stop = first + (<usize>max << 2);
  let out = first;
  let chunk = p - 64; // the chunk being read; the first is loaded at p
  let bits: u64 = 0; // its commas not yet reached
  let clean = false; // every number ending in it holds only digits
  let wasClean = true;
  while (out < stop) {
    if (bits == 0) {
      chunk += 64;
      if (chunk > last) break;
      const a = v128.load(chunk);
      const b = v128.load(chunk, 16);
      const c = v128.load(chunk, 32);
      const d = v128.load(chunk, 48);
      bits = commaBits(a) | (commaBits(b) << 16) | (commaBits(c) << 32) | (commaBits(d) << 48);
      if (bits == 0) break; // more than 64 bytes without a comma
      const ok = i8x16.all_true(v128.and(
        v128.and(digitsOrCommas(a), digitsOrCommas(b)), v128.and(digitsOrCommas(c), digitsOrCommas(d))));
      clean = ok && wasClean; // a number may begin in the chunk before
      wasClean = ok;
    }
    const comma = chunk + <usize>ctz(bits);
    const length = comma - p;
    const x = load<u64>(p) ^ ZEROS;
    if (length - 1 >= 8 || (!clean && digitCount(x) != length)) break;
    const id = <u32>leadingDigits(x, length);
    const node = id < tableSize ? load<i32>(table + (<usize>id << 2)) : nodeIndex(<f64>id);
    if (node < 0) break;
    store<i32>(out, node);
    out += 4;
    bits &= bits - 1;
    p = comma + 1;
  }
  samples.pos = p;
  return <i32>((out - first) >> 2);
}

/** Up to `max` times from the times stream into the block at `from`; how many. */
function fastTimes(from: i32, max: i32): i32 {
  let q = times.pos; // where the next time starts
  const last = times.end - MARGIN;
  const stop = from + max;
  let i = from;
  let t = clock;
  let previous = lastTime;
  let late = firstLate;
  let chunk = q - 64;
  let bits: u64 = 0;
  let clean = false;
  let wasClean = true;
  while (i < stop) {
    if (bits == 0) {
      chunk += 64;
      if (chunk > last) break;
      const a = v128.load(chunk);
      const b = v128.load(chunk, 16);
      const c = v128.load(chunk, 32);
      const d = v128.load(chunk, 48);
      bits = commaBits(a) | (commaBits(b) << 16) | (commaBits(c) << 32) | (commaBits(d) << 48);
      if (bits == 0) break;
      const ok = i8x16.all_true(v128.and(
        v128.and(digitsOrCommas(a), digitsOrCommas(b)), v128.and(digitsOrCommas(c), digitsOrCommas(d))));
      clean = ok && wasClean;
      wasClean = ok;
    }
    const comma = chunk + <usize>ctz(bits);
    let length = comma - q;
    let x = load<u64>(q) ^ ZEROS;
    let value: f64;
    if (clean && length - 1 < 8) value = <f64>leadingDigits(x, length);
    else {
      // An optional minus, 1 to 15 digits (exact in f64, as in the general path), the comma.
      const negative = load<u8>(q) == 0x2d;
      if (negative) {
        length--;
        x = load<u64>(q + 1) ^ ZEROS;
      }
      let v: u64;
      if (length - 1 < 8) {
        if (digitCount(x) != length) break;
        v = leadingDigits(x, length);
      } else {
        if (length > 15) break;
        const z = load<u64>(comma - 8) ^ ZEROS; // the last 8 digits
        if (digitCount(x) != 8 || digitCount(z) != 8) break;
        v = leadingDigits(x, length - 8) * 100000000 + eightDigits(z);
      }
      value = negative ? -<f64>v : <f64>v;
    }
    t = absolute ? value : t + value;
    // As insert() below.
    if (t < previous) late = min(late, i);
    previous = t;
    store<f64>(blockTime + (<usize>i << 3), t);
    i++;
    bits &= bits - 1;
    q = comma + 1;
  }
  times.pos = q;
  clock = t;
  lastTime = previous;
  firstLate = late;
  return i - from;
}

// The position after the `n`-th comma from `p`.
function skipNumbers(p: usize, n: i32): usize {
  while (n > 0) {
    if (load<u8>(p) == 0x2c) n--;
    p++;
  }
  return p;
}

// Samples collect in a block. Each full block is put in time order (V8's negative deltas are local:
// usually it is sorted already), then charged run by run, so a run of one stack costs one table
// update. The last REORDER samples stay behind for the next block: a late sample may overtake that
// many earlier ones.
function insert(node: i32, time: f64): void {
  const i = blockSize;
  store<i32>(blockNode + (<usize>i << 2), node);
  store<f64>(blockTime + (<usize>i << 3), time);
  // Insertion sort leaves everything before the first sample earlier than its predecessor as it is.
  if (time < lastTime) firstLate = min(firstLate, i);
  lastTime = time;
  blockSize++;
  if (blockSize == BLOCK) flush(REORDER);
}

function sortBlock(): void {
  for (let i = firstLate; i < blockSize; i++) {
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
  firstLate = BLOCK;
}

// Charges all but the last `keep` samples; each lasts until the next one starts, the very last
// (keep = 0) until the profile's end time if that is later.
function flush(keep: i32): void {
  if (firstLate < blockSize) sortBlock();
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
  lastTime = keep > 0 ? load<f64>(blockTime + (<usize>(keep - 1) << 3)) : -Infinity;
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
