// The streaming side of the pprof importer: bytes in windows (gunzipped by DecompressionStream, the
// same in Node and in the browser), the top-level `Profile` message walked field by field on the
// protobuf wire format, and samples added up by stack as they pass. Nothing here holds more than
// one top-level field of the input at a time: memory grows with the profile's distinct stacks (and
// its names), not with its size.

import type { ByteSource } from '../core/source.js';
import { readFully } from '../core/source.js';
import { InputError } from '../model.js';

/** Something wrong in the wire format: `subject` (at `offset` in the decompressed stream) `problem`. */
export class WireError extends Error {
  constructor(
    readonly subject: string,
    readonly problem: string,
    readonly offset: number,
    /** The data ends inside a field (rather than holding something that is not protobuf). */
    readonly truncated = false,
  ) {
    super(`${subject} ${problem}`);
  }
}

/** The longest top-level field read (a sample, a location, a string): far beyond real ones. */
const MAX_FIELD_BYTES = 64 * 2 ** 20;

// ---------------------------------------------------------------------------------------------
// Bytes

/** The source's bytes, decompressed when `gzipped`, in chunks of about `windowBytes`. */
export async function* pprofChunks(source: ByteSource, windowBytes: number, gzipped: boolean): AsyncGenerator<Uint8Array> {
  const size = Math.max(1, windowBytes);
  if (!gzipped) {
    // One window, reused: the reader copies what it keeps.
    const window = new Uint8Array(Math.min(size, source.size));
    for (let offset = 0; offset < source.size; ) {
      const n = await readFully(source, offset, window.subarray(0, Math.min(window.length, source.size - offset)));
      if (n <= 0) break;
      offset += n;
      yield window.subarray(0, n);
    }
    return;
  }
  let offset = 0;
  const compressed = new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      const window = new Uint8Array(Math.min(size, source.size - offset));
      const n = window.length > 0 ? await readFully(source, offset, window) : 0;
      offset += n;
      if (n > 0) controller.enqueue(window.subarray(0, n));
      if (n < window.length || offset >= source.size) controller.close();
    },
  });
  const reader = compressed.pipeThrough(new DecompressionStream('gzip')).getReader();
  let decompressed = 0;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new InputError(
          `${source.name}: corrupt or truncated gzip data at byte ${decompressed} of the decompressed data (${offset} bytes of the file read): ${(error as Error).message}`,
        );
      }
      if (chunk.done) return;
      decompressed += chunk.value.length;
      yield chunk.value;
    }
  } finally {
    // The consumer stopped early (an error): let go of the file and the decompressor.
    await reader.cancel().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Varints

/** Where the last varint read ends; -1 when the bytes ended inside it. */
let next = 0;

/** Thrown by `varint` (which knows no stream offset) for a varint of more than 10 bytes. */
class Overlong extends Error {}
const OVERLONG = new Overlong('a varint longer than 10 bytes');

/** A varint as a JS number: int64 (`signed`, two's complement over 10 bytes) or uint64. */
function varint(buf: Uint8Array, p: number, end: number, signed: boolean): number {
  let lo = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (p >= end) return ((next = -1), 0);
    const b = buf[p++];
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) return ((next = p), lo);
  }
  // Past 28 bits: the low and high 32-bit halves, as protobufjs reads a long.
  if (p >= end) return ((next = -1), 0);
  let b = buf[p++];
  lo = (lo | ((b & 0x7f) << 28)) >>> 0;
  let hi = (b & 0x7f) >>> 4;
  for (let shift = 3; b >= 0x80; shift += 7) {
    if (shift > 31) throw OVERLONG;
    if (p >= end) return ((next = -1), 0);
    b = buf[p++];
    hi |= (b & 0x7f) << shift;
  }
  next = p;
  hi >>>= 0;
  if (signed && hi >>> 31) {
    const nlo = (~lo + 1) >>> 0;
    const nhi = nlo === 0 ? (~hi + 1) >>> 0 : ~hi >>> 0;
    return -(nlo + nhi * 4294967296);
  }
  return lo + hi * 4294967296;
}

/** Appends `v` (>= 0, < 2^31) as a varint at `p`; returns the end. */
function putVarint(buf: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    buf[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

const WIRE_TYPES = ['varint', '64-bit', 'length-delimited', 'group start', 'group end', '32-bit', 'wire type 6', 'wire type 7'];

/** Where field `field` of wire type `wt` ends (`p`: after its tag); -1 when past `end`. */
function skip(buf: Uint8Array, p: number, end: number, field: number, wt: number, at: number): number {
  switch (wt) {
    case 0:
      varint(buf, p, end, false);
      return next;
    case 1:
      return p + 8 <= end ? p + 8 : -1;
    case 2: {
      const len = varint(buf, p, end, false);
      return next < 0 || next + len > end ? -1 : next + len;
    }
    case 5:
      return p + 4 <= end ? p + 4 : -1;
    default:
      throw new WireError(`field ${field}`, `has wire type ${wt} (${WIRE_TYPES[wt]}), which pprof does not use`, at);
  }
}

// ---------------------------------------------------------------------------------------------
// The top-level message

/** Receives the top-level fields, in the order of the stream. */
export interface FieldSink {
  /** A length-delimited field: its body is buf[start, end), at stream offset `at`. */
  bytes(field: number, buf: Uint8Array, start: number, end: number, at: number): void;
  varint(field: number, value: number, at: number): void;
}

/** profile.proto's Profile fields: name and wire type (0 varint, 2 length-delimited, -1 either: packed or not). */
const PROFILE_FIELDS: Record<number, [string, number]> = {
  1: ['sample_type', 2],
  2: ['sample', 2],
  3: ['mapping', 2],
  4: ['location', 2],
  5: ['function', 2],
  6: ['string_table', 2],
  7: ['drop_frames', 0],
  8: ['keep_frames', 0],
  9: ['time_nanos', 0],
  10: ['duration_nanos', 0],
  11: ['period_type', 2],
  12: ['period', 0],
  13: ['comment', -1],
  14: ['default_sample_type', 0],
};

function profileFieldName(field: number): string {
  return `${PROFILE_FIELDS[field]?.[0] ?? 'unknown field'} (field ${field})`;
}

/**
 * Walks the top-level fields of a `Profile` fed in chunks of any size. A field cut by a chunk's end
 * waits in `carry` (a copy) for exactly the bytes it still needs.
 */
export class ProfileReader {
  /** Stream offset of the first byte not yet handed to the sink (carry[0] when carrying). */
  private consumed = 0;
  private carry = new Uint8Array(256);
  private carryLen = 0;
  /** How many bytes from `consumed` the next field needs, at least. */
  private need = 1;
  /** The field being read, and where it starts (for errors). */
  private field = 0;
  private fieldAt = 0;

  constructor(private readonly sink: FieldSink) {}

  push(chunk: Uint8Array): void {
    let from = 0;
    while (this.carryLen > 0) {
      const take = Math.min(this.need - this.carryLen, chunk.length - from);
      this.append(chunk.subarray(from, from + take));
      from += take;
      if (this.carryLen < this.need) return;
      const stop = this.fields(this.carry, 0, this.carryLen);
      this.carry.copyWithin(0, stop, this.carryLen);
      this.carryLen -= stop;
      this.consumed += stop;
    }
    const stop = this.fields(chunk, from, chunk.length);
    this.consumed += stop - from;
    this.append(chunk.subarray(stop));
  }

  /** The stream's end: a field still waiting is cut short. */
  end(): void {
    if (this.carryLen === 0) return;
    const size = this.consumed + this.carryLen;
    const tag = varint(this.carry, 0, this.carryLen, false);
    if (next < 0) throw new WireError("a field's tag", `is cut off: the data ends at byte ${size}`, this.consumed, true);
    const problem = `is ${this.need} bytes long with its tag, but the data ends ${this.carryLen} bytes into it (at byte ${size})`;
    throw new WireError(profileFieldName(tag >>> 3), problem, this.consumed, true);
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.carryLen + bytes.length > this.carry.length) {
      const grown = new Uint8Array(Math.max(this.carry.length * 2, this.carryLen + bytes.length));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
    }
    this.carry.set(bytes, this.carryLen);
    this.carryLen += bytes.length;
  }

  /** Hands the whole fields in buf[start, end) to the sink; returns where the first partial one starts. */
  private fields(buf: Uint8Array, start: number, end: number): number {
    try {
      return this.walk(buf, start, end);
    } catch (error) {
      if (error === OVERLONG) throw new WireError(this.field ? profileFieldName(this.field) : "a field's tag", `has ${OVERLONG.message}`, this.fieldAt);
      throw error;
    }
  }

  private walk(buf: Uint8Array, start: number, end: number): number {
    const sink = this.sink;
    const base = this.consumed - start;
    let p = start;
    while (p < end) {
      const fieldStart = p;
      const at = base + p;
      this.fieldAt = at;
      this.field = 0;
      const tag = varint(buf, p, end, false);
      if (next < 0) return this.wait(fieldStart, end - fieldStart + 1);
      p = next;
      const field = tag >>> 3;
      const wt = tag & 7;
      this.field = field;
      if (field === 0) throw new WireError('a field', 'has field number 0, which protobuf does not allow', at);
      const known = PROFILE_FIELDS[field];
      if (known && known[1] !== wt && !(known[1] === -1 && (wt === 0 || wt === 2))) {
        throw new WireError(profileFieldName(field), `has wire type ${wt} (${WIRE_TYPES[wt]}), not ${WIRE_TYPES[known[1]]}`, at);
      }
      if (wt === 0) {
        const value = varint(buf, p, end, true);
        if (next < 0) return this.wait(fieldStart, end - fieldStart + 1);
        p = next;
        if (known) sink.varint(field, value, at);
      } else if (wt === 2) {
        const len = varint(buf, p, end, false);
        if (next < 0) return this.wait(fieldStart, end - fieldStart + 1);
        if (len > MAX_FIELD_BYTES) {
          throw new WireError(profileFieldName(field), `is ${len} bytes long: over ${MAX_FIELD_BYTES / 2 ** 20} MB, more than any pprof record`, at);
        }
        p = next;
        if (p + len > end) return this.wait(fieldStart, p - fieldStart + len);
        if (known) sink.bytes(field, buf, p, p + len, base + p);
        p += len;
      } else {
        const after = skip(buf, p, end, field, wt, at);
        if (after < 0) return this.wait(fieldStart, (wt === 1 ? 8 : 4) + p - fieldStart);
        p = after;
      }
    }
    return p;
  }

  private wait(fieldStart: number, need: number): number {
    this.need = need;
    return fieldStart;
  }
}

// ---------------------------------------------------------------------------------------------
// Samples, added up by stack

/**
 * The samples, one record per distinct key: the location ids (as their varint bytes), which of the
 * values are positive, and (when asked) the labels that may name a thread. Per record: each value's
 * sum, each value's sum of max(1, v) (a sample count that counts a record as one at least), how many
 * samples it holds and the index of its first. Records keep the order they were first seen in.
 *
 * The sign pattern is part of the key so that whatever value is picked at the end, a record's
 * samples either all carry it (> 0) or none does; the sample type and the count type are only
 * known once the string table has been read, which Go writes last.
 *
 * A key is laid out in 32-bit words, hashed and compared a word at a time: its length in bytes, the
 * length of its location bytes, the location bytes, the number of values, the sign bits, the labels'
 * length and the labels; zeros up to the next word.
 */
export class StackTable {
  /** Values per sample (the first sample's count; others are counted in `valueCounts`). */
  columns = -1;
  /** Each number of values seen and the first sample that had it. */
  readonly valueCounts = new Map<number, number>();
  /** Per value: how many samples had it negative. */
  negative: number[] = [];
  samples = 0;
  count = 0;

  /** The keys, one after the other; record r's starts at word keyStart[r]. */
  private arena = new Int32Array(1 << 14);
  private arenaBytes = new Uint8Array(this.arena.buffer);
  private arenaLen = 0;
  private keyStart = new Int32Array(1024);
  private keyHash = new Int32Array(1024);
  private table = new Int32Array(2048);
  /** Per record: `columns` sums, then `columns` sums of max(1, v). */
  sums = new Float64Array(0);
  records = new Float64Array(1024);
  firstSample = new Float64Array(1024);

  /** The key being built. */
  private key = new Int32Array(64);
  private keyBytes = new Uint8Array(this.key.buffer);
  private values = new Float64Array(16);
  private labelBytes = new Uint8Array(64);

  /** `labelKey(key)`: whether to keep a label with that key in the stack's key (none when absent). */
  constructor(private readonly labelKey?: (key: number) => boolean) {}

  /** Adds the Sample message in buf[start, end); `at` is the stream offset of buf[start]. */
  add(buf: Uint8Array, start: number, end: number, at: number): void {
    try {
      this.read(buf, start, end, at);
    } catch (error) {
      if (error === OVERLONG) throw new WireError(`sample[${this.samples - 1}]`, `has ${OVERLONG.message}`, at);
      throw error;
    }
  }

  private read(buf: Uint8Array, start: number, end: number, at: number): void {
    const index = this.samples++;
    const base = at - start;
    let locLen = 0;
    let nv = 0;
    let labelLen = 0;
    let labels = 0;
    let p = start;
    while (p < end) {
      const tagAt = p;
      let tag = buf[p++];
      if (tag >= 0x80) {
        tag = varint(buf, tagAt, end, false);
        if (next < 0) throw this.cut(index, 'a tag', tagAt + base, end + base);
        p = next;
      }
      if (tag === 0x0a || tag === 0x12 || tag === 0x1a) {
        const len = varint(buf, p, end, false);
        if (next < 0 || next + len > end) throw this.cut(index, SAMPLE_FIELDS[tag >>> 3], tagAt + base, end + base);
        p = next;
        const bodyEnd = p + len;
        if (tag === 0x0a) {
          // location_id, packed: the varints' bytes are the key's.
          if (len > 0 && buf[bodyEnd - 1] >= 0x80) throw new WireError(`sample[${index}].location_id`, 'ends inside a varint', tagAt + base);
          locLen = this.appendLocations(buf, p, bodyEnd, locLen);
        } else if (tag === 0x12) {
          // value, packed int64.
          while (p < bodyEnd) {
            const v = varint(buf, p, bodyEnd, true);
            if (next < 0) throw new WireError(`sample[${index}].value`, 'ends inside a varint', tagAt + base);
            p = next;
            if (nv === this.values.length) this.values = grow(this.values, nv * 2);
            this.values[nv++] = v;
          }
        } else {
          if (this.labelKey) labelLen = this.addLabel(buf, p, bodyEnd, labels, labelLen, index, tagAt + base);
          labels++;
        }
        p = bodyEnd;
      } else if (tag === 0x08) {
        // One location_id, not packed.
        varint(buf, p, end, false);
        if (next < 0) throw this.cut(index, 'location_id', tagAt + base, end + base);
        locLen = this.appendLocations(buf, p, next, locLen);
        p = next;
      } else if (tag === 0x10) {
        const v = varint(buf, p, end, true);
        if (next < 0) throw this.cut(index, 'value', tagAt + base, end + base);
        p = next;
        if (nv === this.values.length) this.values = grow(this.values, nv * 2);
        this.values[nv++] = v;
      } else {
        const field = tag >>> 3;
        const wt = tag & 7;
        if (field === 0) throw new WireError(`a field of sample[${index}]`, 'has field number 0, which protobuf does not allow', tagAt + base);
        if (field <= 3) throw new WireError(`sample[${index}].${SAMPLE_FIELDS[field]}`, `has wire type ${wt} (${WIRE_TYPES[wt]})`, tagAt + base);
        const after = skip(buf, p, end, field, wt, tagAt + base);
        if (after < 0) throw this.cut(index, `field ${field}`, tagAt + base, end + base);
        p = after;
      }
    }

    if (this.columns < 0) {
      this.columns = nv;
      this.valueCounts.set(nv, index);
      this.negative = new Array<number>(nv).fill(0);
    }
    if (nv !== this.columns) {
      // An error once the sample types are known (there is one value per type).
      if (!this.valueCounts.has(nv)) this.valueCounts.set(nv, index);
      return;
    }

    // The rest of the key, after the location bytes.
    const signBytes = (nv + 7) >>> 3;
    this.reserve(8 + locLen + 5 + signBytes + 5 + labelLen + 4);
    const kb = this.keyBytes;
    let h = putVarint(kb, 8 + locLen, nv);
    for (let k = 0; k < signBytes; k++) kb[h + k] = 0;
    for (let k = 0; k < nv; k++) {
      const v = this.values[k];
      if (v > 0) kb[h + (k >>> 3)] |= 1 << (k & 7);
      else if (v < 0) this.negative[k]++;
    }
    h = putVarint(kb, h + signBytes, labelLen);
    if (labelLen > 0) kb.set(this.labelBytes.subarray(0, labelLen), h);
    h += labelLen;
    const words = (h + 3) >>> 2;
    for (let i = h; i < words * 4; i++) kb[i] = 0;
    this.key[0] = h;
    this.key[1] = locLen;

    const record = this.intern(words, index);
    this.records[record]++;
    const sums = this.sums;
    const o = record * 2 * nv;
    for (let k = 0; k < nv; k++) {
      const v = this.values[k];
      sums[o + k] += v;
      sums[o + nv + k] += v > 1 ? v : 1;
    }
  }

  /** Where record `r`'s key continues after its location bytes. */
  private afterLocations(r: number): number {
    return this.keyStart[r] * 4 + 8 + this.arena[this.keyStart[r] + 1];
  }

  /** Whether record `r`'s samples all have value `k` positive. */
  positive(r: number, k: number): boolean {
    const bytes = this.arenaBytes;
    varint(bytes, this.afterLocations(r), bytes.length, false);
    return (bytes[next + (k >>> 3)] & (1 << (k & 7))) !== 0;
  }

  /** Record `r`'s location ids, leaf first (into `out`). */
  locationIds(r: number, out: number[]): number[] {
    const bytes = this.arenaBytes;
    const end = this.afterLocations(r);
    out.length = 0;
    for (let p = this.keyStart[r] * 4 + 8; p < end; p = next) out.push(varint(bytes, p, end, false));
    return out;
  }

  /** Record `r`'s kept labels: their index in the sample and their (key, str, num). */
  labels(r: number): { index: number; key: number; str: number; num: number }[] {
    const bytes = this.arenaBytes;
    const nv = varint(bytes, this.afterLocations(r), bytes.length, false);
    const end = varint(bytes, next + ((nv + 7) >>> 3), bytes.length, false) + next;
    const out = [];
    for (let p = next; p < end; ) {
      const index = varint(bytes, p, end, false);
      const len = varint(bytes, next, end, false);
      p = next;
      out.push({ index, ...readLabel(bytes, p, p + len, 0) });
      p += len;
    }
    return out;
  }

  private cut(index: number, what: string, at: number, end: number): WireError {
    return new WireError(`sample[${index}]'s ${what}`, `runs past the sample's end at byte ${end}`, at);
  }

  /** Room for `bytes` bytes of key. */
  private reserve(bytes: number): void {
    if (bytes <= this.keyBytes.length) return;
    const key = new Int32Array(Math.max(bytes >>> 1, this.key.length * 2));
    key.set(this.key);
    this.key = key;
    this.keyBytes = new Uint8Array(key.buffer);
  }

  private appendLocations(buf: Uint8Array, start: number, end: number, len: number): number {
    this.reserve(8 + len + end - start);
    if (end - start > 32) this.keyBytes.set(buf.subarray(start, end), 8 + len);
    else {
      // Short runs by hand: cheaper than a subarray.
      const kb = this.keyBytes;
      const o = 8 + len - start;
      for (let i = start; i < end; i++) kb[o + i] = buf[i];
    }
    return len + end - start;
  }

  /** Appends the label in buf[start, end) to the key's labels when its key may name a thread. */
  private addLabel(buf: Uint8Array, start: number, end: number, index: number, labelLen: number, sample: number, at: number): number {
    let label;
    try {
      label = readLabel(buf, start, end, at);
    } catch (error) {
      if (error instanceof WireError) throw new WireError(`sample[${sample}].label[${index}]`, error.problem, at);
      throw error;
    }
    if (!this.labelKey!(label.key)) return labelLen;
    const need = labelLen + 10 + end - start;
    if (need > this.labelBytes.length) this.labelBytes = growBytes(this.labelBytes, need * 2);
    let h = putVarint(this.labelBytes, labelLen, index);
    h = putVarint(this.labelBytes, h, end - start);
    this.labelBytes.set(buf.subarray(start, end), h);
    return h + end - start;
  }

  /** The record of the key in key[0, words), added when new. */
  private intern(words: number, sample: number): number {
    const key = this.key;
    let hash = 0x9747b28c;
    for (let i = 0; i < words; i++) {
      let k = Math.imul(key[i], 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      hash ^= k;
      hash = (Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64) | 0;
    }
    // murmur3's finaliser: every input bit reaches the low bits the table indexes by.
    hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
    hash = (hash ^ (hash >>> 16)) | 0;
    const mask = this.table.length - 1;
    const arena = this.arena;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot];
      if (entry === 0) break;
      const r = entry - 1;
      if (this.keyHash[r] !== hash) continue;
      const o = this.keyStart[r];
      // Word 0 is the length in bytes: equal lengths, equal word counts.
      let i = 0;
      while (i < words && arena[o + i] === key[i]) i++;
      if (i === words) return r;
    }
    return this.insert(hash, words, sample);
  }

  private insert(hash: number, words: number, sample: number): number {
    const r = this.count++;
    if (r === this.keyStart.length) {
      this.keyStart = growInt(this.keyStart, r * 2);
      this.keyHash = growInt(this.keyHash, r * 2);
      this.records = grow(this.records, r * 2);
      this.firstSample = grow(this.firstSample, r * 2);
    }
    if (this.sums.length < this.keyStart.length * 2 * this.columns) this.sums = grow(this.sums, this.keyStart.length * 2 * this.columns);
    if (this.arenaLen + words > this.arena.length) {
      this.arena = growInt(this.arena, (this.arenaLen + words) * 2);
      this.arenaBytes = new Uint8Array(this.arena.buffer);
    }
    this.arena.set(this.key.subarray(0, words), this.arenaLen);
    this.keyStart[r] = this.arenaLen;
    this.arenaLen += words;
    this.keyHash[r] = hash;
    this.firstSample[r] = sample;
    if (this.count * 2 > this.table.length) this.rehash();
    else this.place(r);
    return r;
  }

  private place(r: number): void {
    const mask = this.table.length - 1;
    let slot = this.keyHash[r] & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = r + 1;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2);
    for (let r = 0; r < this.count; r++) this.place(r);
  }
}

const SAMPLE_FIELDS = ['', 'location_id', 'value', 'label'];

/** A Label message's key, str and num (int64 string indices and number). */
function readLabel(buf: Uint8Array, start: number, end: number, at: number): { key: number; str: number; num: number } {
  const label = { key: 0, str: 0, num: 0 };
  let p = start;
  while (p < end) {
    const tag = varint(buf, p, end, false);
    if (next < 0) throw new WireError('a label', 'ends inside a tag', at);
    p = next;
    const field = tag >>> 3;
    if ((tag & 7) === 0 && field <= 3) {
      const v = varint(buf, p, end, true);
      if (next < 0) throw new WireError('a label', 'ends inside a varint', at);
      p = next;
      if (field === 1) label.key = v;
      else if (field === 2) label.str = v;
      else if (field === 3) label.num = v;
    } else {
      const after = skip(buf, p, end, field, tag & 7, at);
      if (after < 0) throw new WireError('a label', `has a field ${field} that runs past its end`, at);
      p = after;
    }
  }
  return label;
}

function grow(a: Float64Array, size: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}
function growInt(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}
function growBytes(a: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(size);
  b.set(a);
  return b;
}
