// Pass 1 over a JSON document: the WASM core checks its structure and reports where each top-level
// value lies, without the host ever holding the document as a string.

import type { Core } from '../core/wasm.js';
import type { ByteSource } from '../core/source.js';
import { readFully, readRange } from '../core/source.js';
import { InputError } from '../model.js';
import { mark } from '../core/timing.js';

export interface JsonValue {
  start: number;
  end: number;
  /** The value's first byte: '[', '{', '"', or the first character of a scalar. */
  first: string;
}

const ERR_UNEXPECTED = 1;
const ERR_TOP_ARRAY = 2;
const ERR_TRAILING = 3;
const ERR_TRUNCATED = 4;
const ERR_EMPTY = 5;

export class TopLevelArray extends Error {}

/** Scans a JSON object's top level; returns its keys and where their values lie. */
export async function scanTopLevel(core: Core, source: ByteSource): Promise<Map<string, JsonValue>> {
  const c = core.exports;
  c.scanBegin();
  const ptr = c.windowPtr(0);
  for (let offset = 0; offset < source.size; ) {
    const n = await readFully(source, offset, core.window(0));
    if (n === 0) break;
    const error = c.scanFeed(ptr, n, offset);
    if (error) break;
    offset += n;
  }
  const error = c.scanFinish(source.size);
  mark('pass 1: structural scan');
  if (error) throw scanError(core, source, error);
  const keys = new Map<string, JsonValue>();
  const decoder = new TextDecoder();
  for (let i = 0; i < c.entriesCount(); i++) {
    const key = decoder.decode(core.bytes(c.entryKeyPtr(i), Math.min(48, c.entryKeyLength(i))));
    if (!keys.has(key)) {
      keys.set(key, {
        start: c.entryValueStart(i),
        end: c.entryValueEnd(i),
        first: String.fromCharCode(c.entryFirstByte(i)),
      });
    }
  }
  return keys;
}

function scanError(core: Core, source: ByteSource, code: number): Error {
  const c = core.exports;
  const at = c.scanErrorOffset();
  const byte = describeByte(c.scanErrorByte());
  switch (code) {
    case ERR_EMPTY:
      return new InputError(`${source.name}: empty file`);
    case ERR_TOP_ARRAY:
      return new TopLevelArray();
    case ERR_TRAILING:
      return new InputError(`${source.name}: unexpected ${byte} at byte ${at} after the end of the JSON document`);
    case ERR_TRUNCATED: {
      const open = c.entriesCount();
      // States 3..8 are inside a key or its value (assembly/scan.ts).
      const inEntry = c.scanState() >= 3 && c.scanState() <= 8;
      const len = inEntry ? c.entryKeyLength(open) : 0;
      const key = len > 0 ? new TextDecoder().decode(core.bytes(c.entryKeyPtr(open), Math.min(48, len))) : '';
      const where = key ? ` inside the value of "${key}"` : '';
      return new InputError(`${source.name}: truncated: the JSON document ends at byte ${source.size}${where}`);
    }
    case ERR_UNEXPECTED:
    default:
      return new InputError(`${source.name}: not valid JSON: unexpected ${byte} at byte ${at}`);
  }
}

export function describeByte(b: number): string {
  if (b >= 0x21 && b < 0x7f) return `'${String.fromCharCode(b)}'`;
  return `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/** Reads and parses one top-level value: only for the small ones (nodes, startTime, ...). */
export async function parseValue(source: ByteSource, key: string, value: JsonValue): Promise<unknown> {
  const size = value.end - value.start;
  // V8 strings stop near 512 MB; metadata this large means the file is not a profile we can read.
  if (size > 400 * 2 ** 20) {
    throw new InputError(`${source.name}: "${key}" is ${Math.round(size / 2 ** 20)} MB, too large to decode`);
  }
  const text = new TextDecoder().decode(await readRange(source, value.start, value.end));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${source.name}: "${key}" at byte ${value.start} is not valid JSON (${(error as Error).message})`);
  }
}
