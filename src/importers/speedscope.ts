// speedscope's own file format (https://www.speedscope.app/file-format-schema.json), which many
// profilers write (py-spy, rbspy, Instruments exports...) and loopscope's `--speedscope` export.
//
// One profile is read: the one at `activeProfileIndex` (default 0).
//   - `sampled`: stacks of frame indices with a weight each. They have no timestamps: each sample
//     follows the previous one (time = running sum of the weights).
//   - `evented`: open (O) and close (C) events of frames with their time `at`. Every interval in
//     which some frame is open becomes a sample of the open stack; intervals with nothing open are
//     left out, so the profile's total is the time covered by frames, as in speedscope.
// Weights in a time unit (nanoseconds, microseconds, milliseconds, seconds) become µs; a profile
// with unit `none` or `bytes` is read as 1 unit = 1 ms, which the format string says.
//
// Frames without a file count as the program's own code, as in folded stacks (speedscope writes
// no file for the frames it read from them), except in loopscope's own export, where a frame's
// kind follows from its name and file as in a V8 profile (no file: a native frame).

import type { ByteSource } from '../core/source.js';
import type { Core } from '../core/wasm.js';
import { InputError, type Profile } from '../model.js';
import { internForeign } from './folded.js';
import type { JsonValue } from './json-scan.js';
import { parseValue } from './json-scan.js';
import { ProfileBuilder } from './tables.js';

const UNIT_US: Record<string, number> = {
  nanoseconds: 1e-3,
  microseconds: 1,
  milliseconds: 1e3,
  seconds: 1e6,
};

export function isSpeedscope(keys: Map<string, JsonValue>): boolean {
  return keys.has('profiles') && (keys.has('shared') || keys.has('$schema'));
}

interface SpeedscopeFrame {
  name?: unknown;
  file?: unknown;
  line?: unknown;
  col?: unknown;
}

type Obj = Record<string, unknown>;

export async function importSpeedscope(source: ByteSource, core: Core, keys: Map<string, JsonValue>): Promise<Profile> {
  const name = source.name;
  const read = async (key: string): Promise<unknown> => {
    const value = keys.get(key);
    return value === undefined ? undefined : parseValue(source, key, value);
  };
  const exporter = await read('exporter');
  const shared = await read('shared');
  const profiles = await read('profiles');
  const active = (await read('activeProfileIndex')) ?? 0;

  if (!Array.isArray(profiles)) throw new InputError(`${name}: "profiles" is not an array`);
  if (profiles.length === 0) throw new InputError(`${name}: "profiles" is empty`);
  if (!Number.isInteger(active) || (active as number) < 0 || (active as number) >= profiles.length) {
    throw new InputError(`${name}: "activeProfileIndex" ${JSON.stringify(active)} is not the index of one of the ${profiles.length} profiles`);
  }
  const index = active as number;
  const where = `profiles[${index}]`;
  const profile = profiles[index] as Obj;
  if (typeof profile !== 'object' || profile === null) throw new InputError(`${name}: ${where} is not an object`);
  if (typeof shared !== 'object' || shared === null || !Array.isArray((shared as Obj).frames)) {
    throw new InputError(`${name}: "shared.frames" is missing or not an array`);
  }
  const rawFrames = (shared as Obj).frames as SpeedscopeFrame[];

  const unit = typeof profile.unit === 'string' ? profile.unit : 'none';
  const timeUnit = Object.hasOwn(UNIT_US, unit) ? UNIT_US[unit] : undefined;
  const toUs = timeUnit ?? 1000;
  const ours = typeof exporter === 'string' && exporter.startsWith('loopscope');

  const builder = new ProfileBuilder();
  const frameIndex = new Int32Array(rawFrames.length).fill(-1);
  const frameOf = (i: unknown, field: string): number => {
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= rawFrames.length) {
      throw new InputError(`${name}: ${field} is ${JSON.stringify(i)}, not the index of one of the ${rawFrames.length} frames`);
    }
    const k = i as number;
    if (frameIndex[k] < 0) {
      const f = rawFrames[k];
      if (typeof f !== 'object' || f === null || typeof f.name !== 'string') {
        throw new InputError(`${name}: shared.frames[${k}] has no "name"`);
      }
      const file = typeof f.file === 'string' ? f.file : '';
      const line = typeof f.line === 'number' && f.line > 0 ? f.line - 1 : -1;
      const col = typeof f.col === 'number' && f.col > 0 ? f.col - 1 : -1;
      frameIndex[k] = ours ? builder.frames.intern(f.name, file, line, col) : internForeign(builder.frames, f.name, file, line, col, 'user');
    }
    return frameIndex[k];
  };

  const type = profile.type;
  let timeUs = 0;
  let count = 0;
  if (type === 'sampled') {
    const samples = profile.samples;
    const weights = profile.weights;
    if (!Array.isArray(samples)) throw new InputError(`${name}: ${where}.samples is missing or not an array`);
    if (!Array.isArray(weights)) throw new InputError(`${name}: ${where}.weights is missing or not an array`);
    if (weights.length !== samples.length) {
      throw new InputError(`${name}: ${where} has ${samples.length} samples but ${weights.length} weights`);
    }
    const stack: number[] = [];
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      const w = weights[i];
      if (!Array.isArray(s)) throw new InputError(`${name}: ${where}.samples[${i}] is not an array of frame indices`);
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
        throw new InputError(`${name}: ${where}.weights[${i}] is ${JSON.stringify(w)}, not a non-negative number`);
      }
      stack.length = 0;
      for (let k = 0; k < s.length; k++) stack.push(frameOf(s[k], `${where}.samples[${i}][${k}]`));
      // An empty stack: time outside any frame, as in V8's (root).
      if (stack.length === 0) stack.push(builder.frames.intern('(root)', '', -1, -1));
      builder.sample(builder.stack(stack), timeUs);
      timeUs += w * toUs;
      count++;
    }
  } else if (type === 'evented') {
    const events = profile.events;
    if (!Array.isArray(events)) throw new InputError(`${name}: ${where}.events is missing or not an array`);
    const open: { frame: number; node: number; at: number; event: number }[] = [];
    let last = -Infinity;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as Obj;
      const field = `${where}.events[${i}]`;
      if (typeof e !== 'object' || e === null) throw new InputError(`${name}: ${field} is not an object`);
      const at = e.at;
      if (typeof at !== 'number' || !Number.isFinite(at)) throw new InputError(`${name}: ${field}.at is ${JSON.stringify(at)}, not a number`);
      if (at < last) throw new InputError(`${name}: ${field}.at is ${at}, before the previous event's ${last}: events out of order`);
      // The interval since the previous event belongs to the stack open during it.
      if (open.length && at > last) {
        builder.sample(open[open.length - 1].node, timeUs);
        timeUs += (at - last) * toUs;
        count++;
      }
      last = at;
      const frame = frameOf(e.frame, `${field}.frame`);
      if (e.type === 'O') {
        const parent = open.length ? open[open.length - 1].node : -1;
        open.push({ frame: e.frame as number, node: builder.node(parent, frame), at, event: i });
      } else if (e.type === 'C') {
        const top = open[open.length - 1];
        if (!top) throw new InputError(`${name}: ${field} closes frame ${e.frame as number} at ${at}, but no frame is open`);
        if (top.frame !== e.frame) {
          throw new InputError(
            `${name}: ${field} closes frame ${e.frame as number} at ${at}, but the innermost open frame is ${top.frame} (opened at ${top.at}): events out of order`,
          );
        }
        open.pop();
      } else {
        throw new InputError(`${name}: ${field}.type is ${JSON.stringify(e.type)}, not "O" or "C"`);
      }
    }
    if (open.length) {
      const top = open[open.length - 1];
      throw new InputError(`${name}: ${where}.events[${top.event}] opens frame ${top.frame} at ${top.at}, which is never closed (incomplete profile)`);
    }
  } else {
    throw new InputError(`${name}: ${where}.type is ${JSON.stringify(type)}, not "sampled" or "evented"`);
  }
  if (count === 0) throw new InputError(`${name}: ${where} has no samples`);

  const unitText = timeUnit === undefined ? `unit ${unit}: 1 = 1 ms` : unit;
  const title = typeof profile.name === 'string' && profile.name ? ` "${profile.name}"` : '';
  const of = profiles.length > 1 ? ` (${index + 1} of ${profiles.length})` : '';
  return builder.finish(core, {
    source: name,
    format: `speedscope ${type} profile${title}${of}, ${unitText}`,
    startUs: 0,
    endUs: timeUs,
  });
}
