// Sniffs the format from the content (not the name) and hands the input to its importer.

import type { ByteSource } from '../core/source.js';
import { readFully } from '../core/source.js';
import type { Core } from '../core/wasm.js';
import { InputError, type ImportOptions, type Profile } from '../model.js';
import { importCpuProfile, isCpuProfile } from './cpuprofile.js';
import { importFolded, looksFolded } from './folded.js';
import { importHeapProfile, isHeapProfile } from './heapprofile.js';
import { scanTopLevel, TopLevelArray } from './json-scan.js';
import { importPprof } from './pprof.js';
import { importScalene, isScalene } from './scalene.js';
import { importSpeedscope, isSpeedscope } from './speedscope.js';
import { importTraceEvents } from './trace-events/index.js';

export async function importProfile(source: ByteSource, core: Core, options: ImportOptions = {}): Promise<Profile> {
  if (source.size === 0) throw new InputError(`${source.name}: empty file`);
  const head = new Uint8Array(Math.min(64 * 1024, source.size));
  await readFully(source, 0, head);
  // pprof writes its profiles gzip-compressed.
  if (head[0] === 0x1f && head[1] === 0x8b) return importPprof(source, core, options);
  const first = head.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf);
  if (first === undefined && head.length === source.size) throw new InputError(`${source.name}: empty file (only whitespace)`);
  if (first !== undefined && first !== 0x7b && first !== 0x5b) {
    if (looksFolded(head, head.length === source.size)) return importFolded(source, core);
    if (isBinary(head)) return importPprof(source, core, options);
    throw new InputError(`${source.name}: not a profile: not JSON, folded stacks or pprof (starts with ${describeStart(head)})`);
  }
  let keys;
  try {
    keys = await scanTopLevel(core, source);
  } catch (error) {
    // A JSON array is Chrome's trace event format (which may lack its closing ']').
    if (error instanceof TopLevelArray) return importTraceEvents(source, core, options);
    throw error;
  }
  // Before the CPU profile: an old-style CPU profile also has a "head" (and times a heap profile lacks).
  if (isHeapProfile(keys)) return importHeapProfile(source, core);
  if (isCpuProfile(keys)) return importCpuProfile(source, core, keys);
  if (isSpeedscope(keys)) return importSpeedscope(source, core, keys);
  if (isScalene(keys)) return importScalene(source, core, keys);
  if (keys.has('traceEvents')) return importTraceEvents(source, core, options, keys);
  if (keys.has('nodes')) throw new InputError(`${source.name}: missing field "samples"`);
  if (keys.has('samples')) throw new InputError(`${source.name}: missing field "nodes"`);
  const some = [...keys.keys()].slice(0, 4).map((k) => `"${k}"`).join(', ');
  throw new InputError(`${source.name}: not a CPU profile: a JSON object with keys ${some || '(none)'}`);
}

/** Control bytes that text does not contain (a protocol buffer has plenty near its start). */
function isBinary(head: Uint8Array): boolean {
  return head.some((b) => b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b));
}

function describeStart(head: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 16));
  return JSON.stringify(text.replace(/[^\x20-\x7e]/g, '.'));
}
