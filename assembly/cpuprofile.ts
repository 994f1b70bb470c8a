// Pass 2 of a V8 .cpuprofile: the `samples` array (node ids) and the `timeDeltas` (or absolute
// `timestamps`) array are streamed side by side, each through its own window, so pairing them needs
// no buffering whatever their order in the file. Samples are put back in time order through a small
// reorder buffer (V8 writes slightly negative deltas now and then), then charged to the tables.

import { alloc } from './alloc';
import { account, direct, directSize, nodeIndex, tablesFinish } from './tables';

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
  exponentState: u8 = 0; // 0: none yet, 1: after the 'e', 2: after its sign, 3: with digits
  exponentNegative: bool = false;
  exponent: i32 = 0;
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
let integral = true; // every time so far is an integer (see chargeRuns)
const EXACT: f64 = 4503599627370496; // 2^52

export function pairBegin(timestamps: bool, startTime: f64, end: f64): void {
  if (blockTime == 0) {
    blockTime = alloc(BLOCK << 3);
    blockNode = alloc(BLOCK << 2);
  }
  absolute = timestamps;
  clock = startTime;
  endTime = end;
  integral = timestamps || startTime == Math.trunc(startTime);
  clamped = 0;
  blockSize = 0;
  emitted = -Infinity;
  lastTime = -Infinity;
  firstLate = BLOCK;
  fastWait = 0;
  fastBackoff = 1;
  batch = FIRST_BATCH;
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
  s.exponentState = 0;
  s.exponentNegative = false;
  s.exponent = 0;
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
      if (s.exponentState != 0) {
        s.exponent = min(s.exponent * 10 + <i32>d, 100000); // past any f64 already
        s.exponentState = 3;
      } else if (s.scale > 0) {
        s.value += <f64>d / s.scale;
        s.scale *= 10;
      } else s.value = s.value * 10 + <f64>d;
      s.digits = true;
    } else if (c == 0x2c || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) {
      if (s.digits) {
        if (s.exponentState == 1 || s.exponentState == 2) return bad(s, p);
        s.pos = p + 1;
        return complete(s);
      }
      if (c == 0x2c || s.negative) return bad(s, p);
    } else if ((c == 0x2d || c == 0x2b) && s.exponentState == 1) {
      s.exponentNegative = c == 0x2d;
      s.exponentState = 2;
    } else if (c == 0x2d && !s.digits && !s.negative) {
      s.negative = true;
    } else if (c == 0x2e && s.digits && s.scale == 0 && s.exponentState == 0) {
      s.scale = 10;
    } else if ((c | 0x20) == 0x65 && s.digits && s.exponentState == 0) {
      s.exponentState = 1; // 'e' or 'E'
    } else return bad(s, p);
    p++;
  }
  s.pos = p;
  if (!s.last) return 0;
  if (s.digits) return s.exponentState == 1 || s.exponentState == 2 ? bad(s, p) : complete(s);
  if (s.negative) return bad(s, p);
  s.ended = true;
  return 2;
}

function complete(s: Stream): i32 {
  let v = s.value;
  if (s.exponentState != 0) v = scaled(v, s.exponentNegative ? -s.exponent : s.exponent);
  s.out = s.negative ? -v : v;
  s.value = 0;
  s.negative = false;
  s.digits = false;
  s.scale = 0;
  s.exponentState = 0;
  s.exponentNegative = false;
  s.exponent = 0;
  s.ready = true;
  s.count += 1;
  return 1;
}

// `v` times 10^e, rounded once while the power of ten is exact (up to 10^22).
function scaled(v: f64, e: i32): f64 {
  if (v == 0 || e == 0) return v;
  const k = abs(e);
  let power: f64 = 1;
  if (k <= 22) for (let i = 0; i < k; i++) power *= 10;
  else power = Math.pow(10, <f64>k);
  return e > 0 ? v * power : v / power;
}

function bad(s: Stream, p: usize): i32 {
  errorStream = s == samples ? 0 : 1;
  errorAt = s.consumed + <f64>(p - s.ptr);
  return ERR_BAD_NUMBER;
}

/** Pairs numbers until a window runs dry (PAIR_NEED_*), both arrays end (PAIR_DONE) or an error. */
export function pairRun(): i32 {
  while (true) {
    if (!samples.ready && !times.ready) {
      // After a try that took nothing (odd input, a window's end), wait longer before the next.
      if (fastWait > 0) fastWait--;
      else if (fastPairs()) fastBackoff = 1;
      else {
        fastWait = fastBackoff;
        fastBackoff = min(fastBackoff << 1, BATCH);
      }
    }
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

// The common case, compact JSON well inside both windows, parsed in batches: first the times, then
// as many sample ids, each stream in a loop of its own (few live values, so they stay in
// registers). Commas are found 64 bytes at a time (SIMD), so where a number ends never waits on
// parsing the number before it, and the same 64 bytes are checked for anything but digits and
// commas; numbers are converted 8 bytes at a time (SWAR), without a branch per digit. The loops
// take plain numbers of up to 8 digits (ids in the direct table) and nothing else: at any other
// number (a minus, more digits, a sparse id, another byte) they stop, it is read on its own, more
// carefully and out of line, and the loop resumes after it. What that cannot read either
// (whitespace, fractions, exponents, a window's end, an unknown id) is left to the general path
// above, which re-reads the pair from its start.
const MARGIN: usize = 72; // a 64-byte chunk plus an 8-byte read of the number ending in it
const ZEROS: u64 = 0x3030303030303030; // '0' in every byte
const BATCH = 1024; // the most pairs per batch
const FIRST_BATCH = 16; // after a short batch: few times are read again when their ids cannot be
let batch = FIRST_BATCH; // doubles after each full batch
let fastWait: i32 = 0; // general-path pairs to take before trying the fast path again
let fastBackoff: i32 = 1; // the next wait after a try without progress

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

// Bit k set: byte k of the 64 at `chunk` is a comma.
@inline function commas(chunk: usize): u64 {
  return commaBits(v128.load(chunk)) | (commaBits(v128.load(chunk, 16)) << 16) |
    (commaBits(v128.load(chunk, 32)) << 32) | (commaBits(v128.load(chunk, 48)) << 48);
}

// Bit k set: byte k of the 64 at `chunk` is neither a digit nor a comma.
@inline function others(chunk: usize): u64 {
  const a = <u64><u32>i8x16.bitmask(digitsOrCommas(v128.load(chunk)));
  const b = <u64><u32>i8x16.bitmask(digitsOrCommas(v128.load(chunk, 16)));
  const c = <u64><u32>i8x16.bitmask(digitsOrCommas(v128.load(chunk, 32)));
  const d = <u64><u32>i8x16.bitmask(digitsOrCommas(v128.load(chunk, 48)));
  return ~(a | (b << 16) | (c << 32) | (d << 48));
}

// The commas of the chunk at `chunk` that end numbers of digits only: those before its first other
// byte (the chunks before it were all digits and commas).
@inline function cleanCommas(chunk: usize): u64 {
  const bits = commas(chunk);
  const other = others(chunk);
  return other == 0 ? bits : bits & ((other & (0 - other)) - 1);
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

/** Parses pairs into the block until one cannot be taken here; false when it took none. */
function fastPairs(): bool {
  if (samples.digits || samples.negative || times.digits || times.negative) return false;
  if (samples.end - samples.pos < MARGIN || times.end - times.pos < MARGIN) return false;
  let progress = false;
  while (true) {
    const from = blockSize;
    const room = min(batch, BLOCK - from);
    // Times first: they are the ones with rarer forms (a fraction), and stop the batch early.
    const start = times.pos;
    const clock0 = clock;
    const last0 = lastTime;
    const late0 = firstLate;
    const taken = takeTimes(from, room);
    if (taken == 0) return progress;
    const n = takeIds(from, taken);
    if (n < taken) {
      // Rare (a window's end, an odd id): give back the times that found no id.
      times.pos = skipNumbers(start, n);
      if (n > 0) clock = lastTime = load<f64>(blockTime + (<usize>(from + n - 1) << 3));
      else {
        clock = clock0;
        lastTime = last0;
      }
      if (firstLate >= from + n) firstLate = late0;
    }
    samples.count += <f64>n;
    times.count += <f64>n;
    blockSize += n;
    if (n > 0) progress = true;
    if (blockSize == BLOCK) flush(REORDER);
    if (n < room) {
      batch = FIRST_BATCH;
      return progress;
    }
    batch = min(batch << 1, BATCH);
  }
}

/** Up to `max` node indices from the samples stream into the block at `from`; how many. */
function takeIds(from: i32, max: i32): i32 {
  const first = blockNode + (<usize>from << 2);
  const stop = first + (<usize>max << 2);
  let out = first;
  while (true) {
    out = fastIds(out, stop);
    if (out == stop || samples.end - samples.pos < MARGIN) break;
    const node = checkedId(samples.pos);
    if (node < 0) break;
    store<i32>(out, node);
    out += 4;
    if (out == stop) break;
  }
  return <i32>((out - first) >> 2);
}

/** Up to `max` times from the times stream into the block at `from`; how many. */
function takeTimes(from: i32, max: i32): i32 {
  const first = blockTime + (<usize>from << 3);
  const stop = first + (<usize>max << 3);
  let out = first;
  while (true) {
    out = fastTimes(out, stop);
    if (out == stop || times.end - times.pos < MARGIN) break;
    const value = checkedTime(times.pos);
    if (isNaN(value)) break;
    const t = absolute ? value : clock + value;
    if (t < lastTime) firstLate = min(firstLate, <i32>((out - blockTime) >> 3)); // as insert()
    lastTime = clock = t;
    store<f64>(out, t);
    out += 8;
    if (out == stop) break;
  }
  return <i32>((out - first) >> 3);
}

// Ids into `out` up to `stop` while they are digits only, 1 to 8 of them, and in the direct table;
// returns where it stopped.
function fastIds(out: usize, stop: usize): usize {
  let p = samples.pos; // where the next id starts
  const last = samples.end - MARGIN; // the last chunk start
  const table = direct;
  const tableSize = <u32>directSize;
  let chunk = p;
  let more = true;
  while (more && chunk <= last) {
    let bits = cleanCommas(chunk); // one per comma not yet passed
    more = others(chunk) == 0; // else stop at the number holding the other byte
    while (bits != 0) {
      const comma = chunk + <usize>ctz(bits);
      const length = comma - p;
      if (length - 1 >= 8) {
        more = false;
        break;
      }
      const id = <u32>leadingDigits(load<u64>(p) ^ ZEROS, length);
      if (id >= tableSize) {
        more = false;
        break;
      }
      const node = load<i32>(table + (<usize>id << 2));
      if (node < 0) {
        more = false;
        break;
      }
      store<i32>(out, node);
      out += 4;
      p = comma + 1;
      bits &= bits - 1;
      if (out == stop) {
        more = false;
        break;
      }
    }
    chunk += 64;
  }
  samples.pos = p;
  return out;
}

// Times into `out` up to `stop` while they are digits only, 1 to 8 of them; returns where it
// stopped. Deltas from an integral clock are summed as integers: the sums are the same (integers
// within 2^53 add exactly in f64 too), but an integer add does not wait four cycles on the one
// before it.
function fastTimes(out: usize, stop: usize): usize {
  if (!absolute && clock == Math.trunc(clock) && abs(clock) <= EXACT) return timesInto<i64>(out, stop);
  return timesInto<f64>(out, stop);
}

// T: the type the running clock is kept in (i64 only for deltas, see fastTimes).
@inline function timesInto<T>(out: usize, stop: usize): usize {
  let q = times.pos; // where the next time starts
  const last = times.end - MARGIN;
  const deltas = !absolute;
  let t = <T>clock;
  let previous = lastTime;
  let chunk = q;
  let more = true;
  while (more && chunk <= last) {
    let bits = cleanCommas(chunk);
    more = others(chunk) == 0;
    while (bits != 0) {
      const comma = chunk + <usize>ctz(bits);
      const length = comma - q;
      if (length - 1 >= 8) {
        more = false;
        break;
      }
      // At most 8 digits: a signed conversion is exact, and cheaper than an unsigned one.
      const value = <T><i64>leadingDigits(load<u64>(q) ^ ZEROS, length);
      t = isInteger<T>() || deltas ? t + value : value;
      const time = <f64>t;
      if (time < previous) firstLate = min(firstLate, <i32>((out - blockTime) >> 3)); // as insert()
      previous = time;
      store<f64>(out, time);
      out += 8;
      q = comma + 1;
      bits &= bits - 1;
      if (out == stop) {
        more = false;
        break;
      }
    }
    chunk += 64;
  }
  if (q != times.pos) clock = <f64>t; // untouched, it keeps its sign of zero
  times.pos = q;
  lastTime = previous;
  return out;
}

// One id at `p` the careful way: 1 to 15 digits, then a comma; its node index, or -1 for anything
// else.
function checkedId(p: usize): i32 {
  const length = numberLength(p);
  if (length == 0) return -1;
  const node = nodeIndex(<f64><i64>numberValue(p, length));
  if (node >= 0) samples.pos = p + length + 1;
  return node;
}

// One time at `q` the careful way: an optional minus, 1 to 15 digits, then a comma; NaN for
// anything else.
function checkedTime(q: usize): f64 {
  const negative = load<u8>(q) == 0x2d;
  const r = negative ? q + 1 : q;
  const length = numberLength(r);
  if (length == 0) return NaN;
  const v = <f64><i64>numberValue(r, length);
  times.pos = r + length + 1;
  return negative ? -v : v;
}

// The number of digits at `p` when 1 to 15 (exact in f64, as in the general path) and followed by a
// comma, else 0. Reads at most 16 bytes.
@inline function numberLength(p: usize): usize {
  let length = digitCount(load<u64>(p) ^ ZEROS);
  if (length == 8) length += digitCount(load<u64>(p + 8) ^ ZEROS);
  return length > 0 && length < 16 && load<u8>(p + length) == 0x2c ? length : 0;
}

// The value of the `length` (1 to 15) digits at `p`.
@inline function numberValue(p: usize, length: usize): u64 {
  if (length <= 8) return leadingDigits(load<u64>(p) ^ ZEROS, length);
  const high = leadingDigits(load<u64>(p) ^ ZEROS, length - 8);
  return high * 100000000 + eightDigits(load<u64>(p + length - 8) ^ ZEROS); // then the last 8
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
  // The fast path only adds integers; the general one may bring a fraction (or NaN).
  if (time != Math.trunc(time)) integral = false;
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
  const first = load<f64>(blockTime);
  if (keep > 0 && integral && emitted <= first && first >= -EXACT &&
    load<f64>(blockTime + (<usize>(blockSize - 1) << 3)) <= EXACT) chargeRuns(count);
  else chargeSamples(count);
  memory.copy(blockNode, blockNode + (<usize>count << 2), <usize>keep << 2);
  memory.copy(blockTime, blockTime + (<usize>count << 3), <usize>keep << 3);
  blockSize = keep;
  lastTime = keep > 0 ? load<f64>(blockTime + (<usize>(keep - 1) << 3)) : -Infinity;
}

// Sample by sample: the general case.
function chargeSamples(count: i32): void {
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
}

// Run by run, when the sample by sample charge is known to give the same: the block is in order,
// starts no earlier than the time charged up to (nothing is clamped) and a sample follows the last
// one charged. Its times are integers within 2^52, so each difference and each partial sum is
// exact: a run's summed sample durations are its end minus its start. Runs begin where the node
// changes, found 64 samples at a time.
function chargeRuns(count: i32): void {
  let run = 0; // the first sample of the current run
  let start = max(load<f64>(blockTime), emitted); // as chargeSamples has it, to the sign of a zero
  for (let g = 0; g < count; g += 64) {
    let starts = runStarts(blockNode + (<usize>g << 2));
    const left = count - 1 - g; // samples after g still in this flush
    if (left < 64) starts &= (<u64>1 << <u64>left) - 1;
    while (starts != 0) {
      const next = g + 1 + <i32>ctz(starts);
      const end = load<f64>(blockTime + (<usize>next << 3));
      chargeRun(run, next, start, end);
      run = next;
      start = end;
      starts &= starts - 1;
    }
  }
  const end = load<f64>(blockTime + (<usize>count << 3));
  chargeRun(run, count, start, end);
  emitted = end;
}

@inline function chargeRun(first: i32, next: i32, start: f64, end: f64): void {
  // 0 + : a sum of zero durations is +0 even where end - start is -0.
  account(load<i32>(blockNode + (<usize>first << 2)), start, 0 + (end - start), <f64>(next - first));
}

// Bit k: the node at `at` + k + 1 differs from the one before it (the block has room to read 64 on).
@inline function runStarts(at: usize): u64 {
  return <u64>changes16(at) | (<u64>changes16(at + 64) << 16) |
    (<u64>changes16(at + 128) << 32) | (<u64>changes16(at + 192) << 48);
}

@inline function changes16(at: usize): u32 {
  const a = i32x4.bitmask(i32x4.eq(v128.load(at, 4), v128.load(at)));
  const b = i32x4.bitmask(i32x4.eq(v128.load(at, 20), v128.load(at, 16)));
  const c = i32x4.bitmask(i32x4.eq(v128.load(at, 36), v128.load(at, 32)));
  const d = i32x4.bitmask(i32x4.eq(v128.load(at, 52), v128.load(at, 48)));
  return ~(<u32>a | (<u32>b << 4) | (<u32>c << 8) | (<u32>d << 12)) & 0xffff;
}

export function pairFinish(): void {
  flush(0);
  tablesFinish();
}

/**
 * One sample of node index `node` at `time` (µs), from an importer that decodes the samples itself
 * (pprof, folded stacks, speedscope): after pairBegin(true, start, end), before pairFinish(). The
 * samples get the same ordering, durations and charging as a V8 profile's.
 */
export function pushSample(node: i32, time: f64): void {
  samples.count += 1;
  insert(node, time);
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
