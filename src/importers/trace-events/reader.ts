// Splits a JSON array of trace events into its events without holding the file. The core's
// structural scanner reads each event as if it were a JSON document of its own: it finds where the
// event ends (nested values skipped 16 bytes at a time) and where each top-level value lies, so the
// importer looks at "ph", "name", "pid" and "tid" in the bytes and parses only the events it needs.
// The few bytes between events (commas, whitespace, the closing ']') are checked here. Memory is
// the core's window, plus the event when one is larger than the window.

import type { ByteSource } from '../../core/source.js';
import { readFully } from '../../core/source.js';
import type { Core } from '../../core/wasm.js';
import { InputError } from '../../model.js';
import { describeByte } from '../json-scan.js';

/** An event larger than this is not a trace event a profile could be made of. */
const MAX_EVENT_BYTES = 256 << 20;

// assembly/scan.ts: the error for bytes after the end of the document, and its finished state.
const ERR_TRAILING = 3;
const S_DONE = 10;

export interface EventArray {
  /** Offset of the first byte after the opening '['. */
  start: number;
  /** Offset where reading stops: the closing ']' of an object form's array, or the end of the file. */
  end: number;
  /** The array form may lack its closing ']' (and end in a comma or half an event), as Chrome writes it. */
  mayBeUnterminated: boolean;
}

export interface ReadSummary {
  events: number;
  /** The array had no closing ']'. */
  unterminated: boolean;
  /** Bytes of an incomplete last event that were left out. */
  droppedBytes: number;
}

/** A byte range [start, end) of the file. */
export interface Range {
  start: number;
  end: number;
}

/** JSON.parse of an event's text, failing with the event's place. */
export function parseEvent(name: string, text: string, start: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${name}: the event at byte ${start} is not valid JSON (${(error as Error).message})`);
  }
}

/** The top-level keys an importer looks at without parsing the event. */
export const PH = 0;
export const NAME = 1;
export const PID = 2;
export const TID = 3;
export const TS = 4;
export const ID = 5;
export const ARGS = 6;
const KEY_COUNT = 7;

const utf8 = new TextDecoder();
const encode = (s: string) => new TextEncoder().encode(s);

/**
 * The event being read: valid only during the callback. Its bytes are `bytes[at + (o - start)]`
 * for a file offset o; when the event fits in the core's window they are in the core's memory
 * too (`corePtr`), where `scanObject` can look inside its nested values.
 */
export class TraceEvent {
  start = 0;
  end = 0;
  bytes: Uint8Array = new Uint8Array(0);
  at = 0;
  corePtr = -1;
  /** Start and end offsets of the values of PH..ARGS, -1 when the key is absent. */
  private readonly values = new Float64Array(KEY_COUNT * 2);
  private memory = new Uint8Array(0);

  /** The distance between the scanner's entries when they lie at one (saves a call per key). */
  private readonly entryStride: number;

  constructor(
    readonly core: Core,
    readonly source: string,
  ) {
    const c = core.exports;
    const stride = c.entryKeyPtr(1) - c.entryKeyPtr(0);
    let regular = stride > 0;
    for (const i of [2, 3, 100, 255]) regular &&= c.entryKeyPtr(i) === c.entryKeyPtr(0) + i * stride;
    this.entryStride = regular ? stride : 0;
  }

  /** The range of a top-level value (PH..ARGS), undefined when absent. */
  range(key: number): Range | undefined {
    const start = this.values[2 * key];
    return start < 0 ? undefined : { start, end: this.values[2 * key + 1] };
  }

  byte(offset: number): number {
    return this.bytes[this.at + offset - this.start];
  }

  /** Whether the value of `key` is exactly these bytes (a constant's JSON text). */
  is(key: number, json: Uint8Array): boolean {
    const start = this.values[2 * key];
    if (start < 0 || this.values[2 * key + 1] - start !== json.length) return false;
    const from = this.at + start - this.start;
    for (let i = 0; i < json.length; i++) if (this.bytes[from + i] !== json[i]) return false;
    return true;
  }

  /** The phase: the character code of a one-character string "ph", else 0. */
  phase(): number {
    const start = this.values[2 * PH];
    if (start < 0 || this.values[2 * PH + 1] - start !== 3 || this.byte(start) !== 0x22) return 0;
    return this.byte(start + 1);
  }

  /** The value of `key` as String(value) of the parsed event would give it: for pid, tid, id. */
  string(key: number): string {
    const r = this.range(key);
    if (!r) return '';
    let plain = '';
    for (let o = r.start; o < r.end; o++) {
      const b = this.byte(o);
      // Plain integers and strings without escapes read as they are written.
      if (b === 0x5c || b >= 0x80 || ((b === 0x2e || b === 0x65 || b === 0x45) && this.byte(r.start) !== 0x22)) {
        return String(parseEvent(this.source, this.text(r), this.start) ?? '');
      }
      plain += String.fromCharCode(b);
    }
    if (plain.length >= 2 && plain.charCodeAt(0) === 0x22) return plain.slice(1, -1);
    if (plain === 'null' || plain === '-0' || plain.length > 15) return String(parseEvent(this.source, plain, this.start) ?? '');
    return plain;
  }

  /** The value of `key` when it is a plain integer of up to 9 digits, else -1 (a cheap identity). */
  digits(key: number): number {
    const start = this.values[2 * key];
    const end = this.values[2 * key + 1];
    if (start < 0 || end - start > 9) return -1;
    let value = 0;
    for (let i = this.at + start - this.start, to = i + end - start; i < to; i++) {
      const d = this.bytes[i] - 0x30;
      if (d < 0 || d > 9) return -1;
      value = value * 10 + d;
    }
    return value;
  }

  /** Number(value) of `key` (NaN when absent). */
  number(key: number): number {
    const r = this.range(key);
    if (!r) return NaN;
    return Number(this.byte(r.start) === 0x22 ? parseEvent(this.source, this.text(r), this.start) : this.text(r));
  }

  text(r: Range = this): string {
    return utf8.decode(this.bytes.subarray(this.at + r.start - this.start, this.at + r.end - this.start));
  }

  /** The whole event, parsed. */
  parse(): unknown {
    return parseEvent(this.source, this.text(), this.start);
  }

  /**
   * The common case without the scanner's top-level walk: reads the event's top-level keys from
   * its '{' (at `at` of `bytes`, which hold `n` bytes) up to its first nested value, until "ph",
   * "pid" and "tid" are known. True when they are and it is a B, E or X event: all the importer
   * looks at before parsing one (the other keys then read as absent).
   */
  walkHead(n: number): boolean {
    const bytes = this.bytes;
    const values = this.values;
    values.fill(-1);
    const base = this.start - this.at;
    let i = this.at + 1;
    let b = 0;
    for (;;) {
      while (i < n && (b = bytes[i]) <= 0x20) i++;
      if (i >= n || b !== 0x22) return false;
      const keyStart = ++i;
      while (i < n && (b = bytes[i]) !== 0x22) {
        if (b === 0x5c) return false;
        i++;
      }
      const key = i < n ? keyOf(bytes, keyStart, i - keyStart) : -1;
      i++;
      while (i < n && (b = bytes[i]) <= 0x20) i++;
      if (i >= n || b !== 0x3a) return false;
      i++;
      while (i < n && (b = bytes[i]) <= 0x20) i++;
      const valueStart = i;
      if (b === 0x22) {
        for (i++; i < n && (b = bytes[i]) !== 0x22; i++) if (b === 0x5c) i++;
        i++;
      } else if (b === 0x7b || b === 0x5b) return false;
      else while (i < n && (b = bytes[i]) !== 0x2c && b !== 0x7d && b > 0x20) i++;
      if (i >= n) return false;
      if (key >= 0) {
        values[2 * key] = base + valueStart;
        values[2 * key + 1] = base + i;
        if (values[2 * PH] >= 0 && values[2 * PID] >= 0 && values[2 * TID] >= 0) {
          const ph = this.phase();
          return ph === 0x42 || ph === 0x45 || ph === 0x58;
        }
      }
      while (i < n && (b = bytes[i]) <= 0x20) i++;
      if (i >= n || b !== 0x2c) return false;
      i++;
    }
  }

  /** A view of the core's memory (made again when the memory has grown). */
  coreMemory(): Uint8Array {
    const buffer = this.core.exports.memory.buffer;
    if (this.memory.buffer !== buffer) this.memory = new Uint8Array(buffer);
    return this.memory;
  }

  /** Reads the keys the core's scanner found. */
  readKeys(): void {
    const c = this.core.exports;
    const values = this.values;
    values.fill(-1);
    const memory = this.coreMemory();
    const count = c.entriesCount();
    const stride = this.entryStride;
    const first = stride ? c.entryKeyPtr(0) : 0;
    for (let i = 0; i < count; i++) {
      const length = c.entryKeyLength(i);
      if (length < 2 || length > 4) continue;
      const key = keyOf(memory, stride ? first + i * stride : c.entryKeyPtr(i), length);
      // The last of duplicate keys counts, as for JSON.parse.
      if (key >= 0) {
        values[2 * key] = c.entryValueStart(i);
        values[2 * key + 1] = c.entryValueEnd(i);
      }
    }
  }
}

/** Which of PH..ARGS the key of `length` bytes at `p` is, or -1. */
function keyOf(bytes: Uint8Array, p: number, length: number): number {
  if (length < 2 || length > 4) return -1;
  const k0 = bytes[p];
  const k1 = bytes[p + 1];
  if (length === 2) return k0 === 0x70 && k1 === 0x68 ? PH : k0 === 0x74 && k1 === 0x73 ? TS : k0 === 0x69 && k1 === 0x64 ? ID : -1;
  if (length === 3) return bytes[p + 2] === 0x64 && k1 === 0x69 ? (k0 === 0x70 ? PID : k0 === 0x74 ? TID : -1) : -1;
  const k23 = (bytes[p + 2] << 8) | bytes[p + 3];
  if (k0 === 0x6e && k1 === 0x61 && k23 === 0x6d65) return NAME;
  if (k0 === 0x61 && k1 === 0x72 && k23 === 0x6773) return ARGS;
  return -1;
}

/**
 * The top-level values of the JSON object in [start, end) of an event in the core's memory, for
 * each of `keys` (undefined when absent); undefined when the range is not one object.
 */
export function scanObject(event: TraceEvent, range: Range, keys: Uint8Array[]): (Range | undefined)[] | undefined {
  if (event.corePtr < 0 || event.byte(range.start) !== 0x7b) return undefined;
  const c = event.core.exports;
  c.scanBegin();
  const error = c.scanFeed(event.corePtr + range.start - event.start, range.end - range.start, range.start);
  if (error !== 0 || c.scanState() !== S_DONE) return undefined;
  const memory = event.coreMemory();
  const found: (Range | undefined)[] = new Array(keys.length).fill(undefined);
  const count = c.entriesCount();
  for (let i = 0; i < count; i++) {
    const length = c.entryKeyLength(i);
    const p = c.entryKeyPtr(i);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      if (key.length !== length) continue;
      let same = true;
      for (let j = 0; j < length && same; j++) same = memory[p + j] === key[j];
      if (same) found[k] = { start: c.entryValueStart(i), end: c.entryValueEnd(i) };
    }
  }
  return found;
}

export const keyBytes = (keys: string[]) => keys.map(encode);
export const jsonBytes = (value: string) => encode(JSON.stringify(value));

/** Written before an event so that the scanner reads it as a nested value: `{"":`. */
const NESTED = encode('{"":');

const SPACE = new Uint8Array(256);
for (const b of [0x20, 0x0a, 0x0d, 0x09]) SPACE[b] = 1;

/** Reads the events of `array` in file order. */
export async function readEvents(source: ByteSource, core: Core, array: EventArray, onEvent: (event: TraceEvent) => void): Promise<ReadSummary> {
  const name = source.name;
  const c = core.exports;
  const event = new TraceEvent(core, name);

  let events = 0;
  let closed = false; // the closing ']' was seen
  let expectValue = true; // after '[' or ','
  let sawComma = false;
  let dropped = -1; // offset of an incomplete last event

  const notValid = (at: number) =>
    new InputError(`${name}: the event at byte ${at} is not valid JSON (unexpected ${describeByte(c.scanErrorByte())} at byte ${c.scanErrorOffset()})`);
  const emit = () => {
    event.readKeys();
    onEvent(event);
    events++;
    expectValue = false;
    sawComma = false;
  };

  /** An event that does not fit in the window, from `at`: streamed through the scanner, its bytes kept. */
  const readLarge = async (at: number): Promise<number> => {
    let carry: Uint8Array = new Uint8Array(0);
    let length = 0;
    c.scanBegin();
    for (let offset = at; offset < array.end; ) {
      const window = core.window(0);
      const n = await readFully(source, offset, window.subarray(0, Math.min(window.length, array.end - offset)));
      if (n === 0) break;
      const error = c.scanFeed(c.windowPtr(0), n, offset);
      if (error !== 0 && error !== ERR_TRAILING) throw notValid(at);
      const done = error === ERR_TRAILING || c.scanState() === S_DONE;
      let take = done ? (error ? c.scanErrorOffset() : offset + n) - offset : n;
      while (done && take > 0 && window[take - 1] !== 0x7d) take--;
      if (length + take > MAX_EVENT_BYTES) throw new InputError(`${name}: event ${events} at byte ${at} is larger than ${MAX_EVENT_BYTES >> 20} MB`);
      if (length + take > carry.length) {
        const grown = new Uint8Array(Math.max(length + take, carry.length * 2, 4096));
        grown.set(carry.subarray(0, length));
        carry = grown;
      }
      carry.set(window.subarray(0, take), length);
      length += take;
      if (done) {
        Object.assign(event, { start: at, end: at + length, bytes: carry, at: 0, corePtr: -1 });
        emit();
        return at + length;
      }
      offset += n;
    }
    dropped = at;
    return array.end;
  };

  for (let offset = array.start; offset < array.end && dropped < 0; ) {
    const window = core.window(0);
    const ptr = c.windowPtr(0);
    const n = await readFully(source, offset, window.subarray(0, Math.min(window.length, array.end - offset)));
    if (n === 0) break;
    let next = offset + n; // where the next window starts
    for (let p = 0; p < n; p++) {
      const b = window[p];
      if (SPACE[b]) continue;
      const at = offset + p;
      if (closed) throw new InputError(`${name}: unexpected ${describeByte(b)} at byte ${at} after the end of the event array`);
      if (b === 0x7b && expectValue) {
        event.start = at;
        event.bytes = window;
        event.at = p;
        event.corePtr = ptr + p;
        if (p >= NESTED.length && event.walkHead(n)) {
          // A duration event known from its head: the scanner only needs to find its end, which
          // it does fastest inside a nested value: the event becomes the value of a key (the
          // bytes before it are done with).
          window.set(NESTED, p - NESTED.length);
          c.scanBegin();
          c.scanFeed(ptr + p - NESTED.length, n - p + NESTED.length, at - NESTED.length);
          if (c.entriesCount() > 0) {
            const end = c.entryValueEnd(0) - offset;
            event.end = offset + end;
            onEvent(event);
            events++;
            expectValue = false;
            sawComma = false;
            p = end - 1;
            continue;
          }
          // Incomplete or not valid: the scan below says which.
        }
        c.scanBegin();
        const error = c.scanFeed(ptr + p, n - p, at);
        if (error === ERR_TRAILING || (error === 0 && c.scanState() === S_DONE)) {
          let end = error ? c.scanErrorOffset() - offset : n;
          while (window[end - 1] !== 0x7d) end--;
          event.end = offset + end;
          emit();
          p = end - 1;
          continue;
        }
        if (error !== 0) throw notValid(at);
        // The event runs past the window: read again from its start, or whole when it is larger.
        next = p > 0 && offset + n < array.end ? at : await readLarge(at);
        break;
      }
      if (b === 0x2c && !expectValue) {
        expectValue = true;
        sawComma = true;
      } else if (b === 0x5d && (!expectValue || (events === 0 && !sawComma))) {
        closed = true;
      } else if (expectValue && b !== 0x2c && b !== 0x5d) {
        throw new InputError(`${name}: event ${events} at byte ${at} is not an object (starts with ${describeByte(b)})`);
      } else {
        throw new InputError(`${name}: not valid JSON: unexpected ${describeByte(b)} at byte ${at} in the event array`);
      }
    }
    offset = next;
  }

  if (array.mayBeUnterminated) {
    // Chrome and DevTools write the array as events happen: a file cut short lacks the ']' and may
    // end in a comma or in the middle of an event, which is left out.
    return { events, unterminated: !closed, droppedBytes: dropped >= 0 ? array.end - dropped : 0 };
  }
  if (dropped >= 0) throw new InputError(`${name}: truncated: event ${events} at byte ${dropped} does not end`);
  return { events, unterminated: false, droppedBytes: 0 };
}
