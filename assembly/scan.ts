// Pass 1: a streaming scan of a JSON document's top level. It validates the structure (brackets,
// strings, commas) and records, for each top-level key, where its value starts and ends, so the host
// can read small values (nodes, startTime) itself and stream the bulk arrays into pass 2. Input
// arrives in windows of any size; all state lives in globals between calls.

import { alloc } from './alloc';

export const ERR_NONE = 0;
export const ERR_UNEXPECTED = 1; // a byte that cannot appear here (errorByte says which)
export const ERR_TOP_ARRAY = 2; // the document is a JSON array, not an object
export const ERR_TRAILING = 3; // data after the end of the document
export const ERR_TRUNCATED = 4; // the document ends early (errorState says inside what)
export const ERR_EMPTY = 5; // nothing but whitespace

// States of the top-level machine.
const S_START = 0;
const S_KEY_OR_END = 1; // after '{'
const S_KEY_START = 2; // after ','
const S_KEY = 3;
const S_COLON = 4;
const S_VALUE = 5;
const S_NESTED = 6; // inside an object or array value, `depth` deep
const S_STRING_VALUE = 7;
const S_SCALAR = 8;
const S_COMMA_OR_END = 9;
const S_DONE = 10;

export const MAX_ENTRIES = 256;
export const KEY_BYTES: u32 = 48;
// Entry record: key bytes, key length, first byte of the value, value start and end offsets.
const ENTRY_SIZE = 64 + 24;

let entries: usize = 0;
let entryCount: i32 = 0;
let state: i32 = S_START;
let depth: i32 = 0;
let inString = false;
let escaped = false;
let error: i32 = ERR_NONE;
let errorOffset: f64 = 0;
let errorByte: i32 = 0;
// Byte classes: 1 for bytes that change the nesting state outside strings, 2 inside strings.
let classes: usize = 0;

function setupClasses(): void {
  classes = alloc(256);
  store<u8>(classes + 0x22, 3); // "
  store<u8>(classes + 0x5c, 2); // backslash
  store<u8>(classes + 0x5b, 1); // [
  store<u8>(classes + 0x5d, 1); // ]
  store<u8>(classes + 0x7b, 1); // {
  store<u8>(classes + 0x7d, 1); // }
}

// All ones in the bytes of `v` that change the nesting state: a quote or a bracket. Setting bit 5
// maps '[' onto '{' and ']' onto '}', so three comparisons find all five.
@inline function structural(v: v128): v128 {
  const folded = v128.or(v, i8x16.splat(0x20));
  return v128.or(
    i8x16.eq(v, i8x16.splat(0x22)),
    v128.or(i8x16.eq(folded, i8x16.splat(0x7b)), i8x16.eq(folded, i8x16.splat(0x7d))),
  );
}

@inline function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

export function scanBegin(): void {
  if (entries == 0) {
    entries = alloc(MAX_ENTRIES * ENTRY_SIZE);
    setupClasses();
  }
  entryCount = 0;
  state = S_START;
  depth = 0;
  inString = false;
  escaped = false;
  error = ERR_NONE;
  errorOffset = 0;
  errorByte = 0;
}

function fail(code: i32, offset: f64, c: i32): i32 {
  error = code;
  errorOffset = offset;
  errorByte = c;
  return code;
}

@inline function entry(i: i32): usize {
  return entries + <usize>i * ENTRY_SIZE;
}

function beginEntry(): void {
  if (entryCount < MAX_ENTRIES) {
    const e = entry(entryCount);
    store<u32>(e + 48, 0); // key length
  }
}

function keyByte(c: u32): void {
  if (entryCount >= MAX_ENTRIES) return;
  const e = entry(entryCount);
  const n = load<u32>(e + 48);
  if (n < KEY_BYTES) store<u8>(e + n, <u8>c);
  store<u32>(e + 48, n + 1);
}

function startValue(offset: f64, c: u32): void {
  if (entryCount >= MAX_ENTRIES) return;
  const e = entry(entryCount);
  store<u32>(e + 52, c);
  store<f64>(e + 56, offset);
}

function endValue(offset: f64): void {
  if (entryCount < MAX_ENTRIES) store<f64>(entry(entryCount) + 64, offset);
  entryCount++;
}

/** Scans `n` bytes at `ptr`, which sit at absolute offset `base` of the document. */
export function scanFeed(ptr: usize, n: i32, base: f64): i32 {
  if (error != ERR_NONE) return error;
  const end = ptr + <usize>n;
  let p = ptr;
  while (p < end) {
    const c = <u32>load<u8>(p);
    switch (state) {
      case S_NESTED: {
        if (inString) {
          if (escaped) {
            escaped = false;
          } else if (c == 0x5c) {
            escaped = true;
          } else if (c == 0x22) {
            inString = false;
          } else {
            // Skip the plain run of the string in one tight loop.
            p++;
            while (p < end && (load<u8>(classes + load<u8>(p)) & 2) == 0) p++;
            continue;
          }
        } else if (c == 0x22) {
          inString = true;
        } else if (c == 0x5b || c == 0x7b) {
          depth++;
        } else if (c == 0x5d || c == 0x7d) {
          depth--;
          if (depth == 0) {
            endValue(base + <f64>(p - ptr) + 1);
            state = S_COMMA_OR_END;
          }
        } else {
          // Numbers, commas, literals, whitespace: skip to the next structural byte, 16 at a time
          // (the bulk arrays are nothing else).
          p++;
          while (p + 64 <= end && !v128.any_true(v128.or(
            v128.or(structural(v128.load(p)), structural(v128.load(p, 16))),
            v128.or(structural(v128.load(p, 32)), structural(v128.load(p, 48))),
          ))) p += 64;
          while (p + 16 <= end && !v128.any_true(structural(v128.load(p)))) p += 16;
          while (p < end && load<u8>(classes + load<u8>(p)) == 0) p++;
          continue;
        }
        break;
      }
      case S_STRING_VALUE: {
        if (escaped) escaped = false;
        else if (c == 0x5c) escaped = true;
        else if (c == 0x22) {
          endValue(base + <f64>(p - ptr) + 1);
          state = S_COMMA_OR_END;
        }
        break;
      }
      case S_KEY: {
        if (escaped) {
          escaped = false;
          keyByte(c);
        } else if (c == 0x5c) {
          escaped = true;
          keyByte(c);
        } else if (c == 0x22) state = S_COLON;
        else keyByte(c);
        break;
      }
      case S_SCALAR: {
        if (c == 0x2c || c == 0x7d || isSpace(c)) {
          endValue(base + <f64>(p - ptr));
          state = S_COMMA_OR_END;
          continue; // the delimiter is handled in S_COMMA_OR_END
        }
        if (c == 0x22 || c == 0x5b || c == 0x5d || c == 0x7b || c == 0x3a) {
          return fail(ERR_UNEXPECTED, base + <f64>(p - ptr), c);
        }
        break;
      }
      case S_START: {
        if (isSpace(c) || (c == 0xef || c == 0xbb || c == 0xbf)) break; // whitespace, UTF-8 BOM
        if (c == 0x7b) state = S_KEY_OR_END;
        else if (c == 0x5b) return fail(ERR_TOP_ARRAY, base + <f64>(p - ptr), c);
        else return fail(ERR_UNEXPECTED, base + <f64>(p - ptr), c);
        break;
      }
      case S_KEY_OR_END:
      case S_KEY_START: {
        if (isSpace(c)) break;
        if (c == 0x22) {
          beginEntry();
          state = S_KEY;
        } else if (c == 0x7d && state == S_KEY_OR_END) state = S_DONE;
        else return fail(ERR_UNEXPECTED, base + <f64>(p - ptr), c);
        break;
      }
      case S_COLON: {
        if (isSpace(c)) break;
        if (c == 0x3a) state = S_VALUE;
        else return fail(ERR_UNEXPECTED, base + <f64>(p - ptr), c);
        break;
      }
      case S_VALUE: {
        if (isSpace(c)) break;
        startValue(base + <f64>(p - ptr), c);
        if (c == 0x7b || c == 0x5b) {
          depth = 1;
          inString = false;
          state = S_NESTED;
        } else if (c == 0x22) state = S_STRING_VALUE;
        else if (c == 0x2c || c == 0x7d || c == 0x5d || c == 0x3a) {
          return fail(ERR_UNEXPECTED, base + <f64>(p - ptr), c);
        } else state = S_SCALAR;
        break;
      }
      case S_COMMA_OR_END: {
        if (isSpace(c)) break;
        if (c == 0x2c) state = S_KEY_START;
        else if (c == 0x7d) state = S_DONE;
        else return fail(ERR_UNEXPECTED, base + <f64>(p - ptr), c);
        break;
      }
      default: {
        // S_DONE: only whitespace (and NUL padding) may follow.
        if (!isSpace(c) && c != 0) return fail(ERR_TRAILING, base + <f64>(p - ptr), c);
      }
    }
    p++;
  }
  return ERR_NONE;
}

/** Ends the scan of a document of `size` bytes. */
export function scanFinish(size: f64): i32 {
  if (error != ERR_NONE) return error;
  if (state == S_SCALAR) {
    endValue(size);
    state = S_COMMA_OR_END;
  }
  if (state == S_START) return fail(ERR_EMPTY, size, 0);
  if (state != S_DONE) return fail(ERR_TRUNCATED, size, state);
  return ERR_NONE;
}

export function scanError(): i32 {
  return error;
}
export function scanErrorOffset(): f64 {
  return errorOffset;
}
export function scanErrorByte(): i32 {
  return errorByte;
}
/** Where the scan stopped: 3 inside a key, 6 inside a nested value, 7 inside a string. */
export function scanState(): i32 {
  return state;
}
export function scanInString(): bool {
  return inString || state == S_STRING_VALUE || state == S_KEY;
}
export function entriesCount(): i32 {
  return entryCount < MAX_ENTRIES ? entryCount : MAX_ENTRIES;
}
export function entryKeyPtr(i: i32): usize {
  return entry(i);
}
export function entryKeyLength(i: i32): u32 {
  return load<u32>(entry(i) + 48);
}
export function entryFirstByte(i: i32): u32 {
  return load<u32>(entry(i) + 52);
}
export function entryValueStart(i: i32): f64 {
  return load<f64>(entry(i) + 56);
}
export function entryValueEnd(i: i32): f64 {
  return load<f64>(entry(i) + 64);
}
