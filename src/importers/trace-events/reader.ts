// Splits a JSON array of trace events into its elements without holding the file: a byte loop over
// windows tracks nesting and strings, and each event (a small object) is parsed on its own. Memory is
// one window plus the largest event.

import type { ByteSource } from '../../core/source.js';
import { readFully } from '../../core/source.js';
import { InputError } from '../../model.js';
import { describeByte } from '../json-scan.js';

/** An event larger than this is not a trace event a profile could be made of. */
const MAX_EVENT_BYTES = 256 << 20;

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

/** Called with each event's text and the byte range it came from; `parse` parses it (or a part). */
export type EventHandler = (text: string, start: number, end: number) => void;

/** JSON.parse of an event's text, failing with the event's place. */
export function parseEvent(name: string, text: string, start: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${name}: the event at byte ${start} is not valid JSON (${(error as Error).message})`);
  }
}

const SPACE = new Uint8Array(256);
for (const b of [0x20, 0x0a, 0x0d, 0x09]) SPACE[b] = 1;
// Bytes that matter inside an event: outside strings (quote, brackets), inside them (quote, backslash).
const STRUCTURAL = new Uint8Array(256);
for (const b of [0x22, 0x5b, 0x5d, 0x7b, 0x7d]) STRUCTURAL[b] = 1;
const IN_STRING = new Uint8Array(256);
for (const b of [0x22, 0x5c]) IN_STRING[b] = 1;

/** Reads the events of `array` in file order. */
export async function readEvents(source: ByteSource, array: EventArray, windowBytes: number, onEvent: EventHandler): Promise<ReadSummary> {
  const name = source.name;
  const window = new Uint8Array(Math.max(16, windowBytes));
  const decoder = new TextDecoder();
  let carry = new Uint8Array(0);
  let carryLength = 0;

  let events = 0;
  let closed = false; // the closing ']' was seen
  let expectValue = true; // after '[' or ','
  let sawComma = false;
  let depth = 0; // > 0 inside an event
  let inString = false;
  let escaped = false;
  let eventStart = -1; // absolute offset of the current event's '{'

  const emit = (bytes: Uint8Array, end: number): void => {
    onEvent(decoder.decode(bytes), eventStart, end);
    events++;
  };
  const keep = (bytes: Uint8Array): void => {
    if (carryLength + bytes.length > MAX_EVENT_BYTES) {
      throw new InputError(`${name}: event ${events} at byte ${eventStart} is larger than ${MAX_EVENT_BYTES >> 20} MB`);
    }
    if (carryLength + bytes.length > carry.length) {
      const grown = new Uint8Array(Math.max(carryLength + bytes.length, carry.length * 2, 4096));
      grown.set(carry.subarray(0, carryLength));
      carry = grown;
    }
    carry.set(bytes, carryLength);
    carryLength += bytes.length;
  };

  for (let offset = array.start; offset < array.end; ) {
    const n = await readFully(source, offset, window.subarray(0, Math.min(window.length, array.end - offset)));
    if (n === 0) break;
    const bytes = window;
    let p = 0;
    let from = depth > 0 ? 0 : -1; // where the current event's bytes begin in this window
    while (p < n) {
      if (depth > 0 && !escaped) {
        // Skip the plain run (numbers, names) to the next byte that changes the state.
        const skip = inString ? IN_STRING : STRUCTURAL;
        while (p < n && skip[bytes[p]] === 0) p++;
        if (p === n) break;
      }
      const b = bytes[p];
      if (depth > 0) {
        if (inString) {
          if (escaped) escaped = false;
          else if (b === 0x5c) escaped = true;
          else if (b === 0x22) inString = false;
        } else if (b === 0x22) inString = true;
        else if (b === 0x7b || b === 0x5b) depth++;
        else if (b === 0x7d || b === 0x5d) {
          if (--depth === 0) {
            const end = offset + p + 1;
            if (carryLength > 0) {
              keep(bytes.subarray(from, p + 1));
              emit(carry.subarray(0, carryLength), end);
              carryLength = 0;
            } else emit(bytes.subarray(from, p + 1), end);
            from = -1;
            expectValue = false;
            sawComma = false;
          }
        }
        p++;
        continue;
      }
      if (SPACE[b]) {
        p++;
        continue;
      }
      const at = offset + p;
      if (closed) throw new InputError(`${name}: unexpected ${describeByte(b)} at byte ${at} after the end of the event array`);
      if (b === 0x2c && !expectValue) {
        expectValue = true;
        sawComma = true;
      } else if (b === 0x5d && (!expectValue || (events === 0 && !sawComma))) {
        closed = true;
      } else if (b === 0x7b && expectValue) {
        depth = 1;
        eventStart = at;
        from = p;
      } else if (expectValue && b !== 0x2c && b !== 0x5d) {
        throw new InputError(`${name}: event ${events} at byte ${at} is not an object (starts with ${describeByte(b)})`);
      } else {
        throw new InputError(`${name}: not valid JSON: unexpected ${describeByte(b)} at byte ${at} in the event array`);
      }
      p++;
    }
    if (depth > 0) keep(bytes.subarray(from, n));
    offset += n;
  }

  if (array.mayBeUnterminated) {
    // Chrome and DevTools write the array as events happen: a file cut short lacks the ']' and may
    // end in a comma or in the middle of an event, which is left out.
    return { events, unterminated: !closed, droppedBytes: depth > 0 ? array.end - eventStart : 0 };
  }
  if (depth > 0) throw new InputError(`${name}: truncated: event ${events} at byte ${eventStart} does not end`);
  return { events, unterminated: false, droppedBytes: 0 };
}
