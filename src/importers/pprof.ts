// pprof profiles (github.com/google/pprof, proto/profile.proto): Go's runtime/pprof, @datadog/pprof
// (Node's wall and cpu profiles), C++ profilers and others; gzip-compressed (as pprof writes them)
// or not.
//
// A sample's locations are leaf first; a location's lines are its inlined frames, innermost first.
// Both are reversed into stacks outermost first. A frame is a function at one line, as `pprof -lines`
// shows them: the leaf's line is where the value was taken, a caller's the line of its call, so the
// per-line table needs no call-site lookup. A location without lines (a binary without symbols) is
// named by its address and the file its mapping maps: `0x4005d0 (libfoo.so)`.
//
// The value read is the sample type pprof picks (`default_sample_type` when set, else the last) or
// the one asked for. Time types become ms; bytes and counts stay in their unit (Profile.unit), the
// detectors then stay silent. The samples have no timestamps: they are added up by stack as they
// stream past (pprof-stream.ts), and each stack's sum follows the previous one's on the "time" axis,
// in the order the stacks first appear (Profile.timeOrder 'none'). Labels are kept for one choice:
// `--thread` keeps the samples whose thread label names that thread.
//
// Samples may come before the locations, functions and strings they name (Go writes them first), so
// all of those are resolved once the stream has ended.

import protobuf from 'protobufjs/light.js';
import type { ByteSource } from '../core/source.js';
import { readRange } from '../core/source.js';
import type { Core } from '../core/wasm.js';
import { InputError, type ImportOptions, type Profile, type ValueUnit } from '../model.js';
import { internForeign } from './folded.js';
import { type FieldSink, pprofChunks, ProfileReader, StackTable, WireError } from './pprof-stream.js';
import { ProfileBuilder } from './tables.js';

/** The largest input read, compressed or decompressed: bounds the time a decompression bomb takes. */
export const MAX_PPROF_BYTES = 400 * 2 ** 20;

// int64 fields decode to plain numbers (exact up to 2^53, which covers times, counts and ids).
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

const U64 = 'uint64';
const I64 = 'int64';
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const one = (type: string, id: number) => ({ type, id });

/** The parts of profile.proto loopscope reads and writes (unknown fields are skipped when decoding). */
const root = protobuf.Root.fromJSON({
  nested: {
    Profile: {
      fields: {
        sampleType: repeated('ValueType', 1),
        sample: repeated('Sample', 2),
        mapping: repeated('Mapping', 3),
        location: repeated('Location', 4),
        function: repeated('Function', 5),
        stringTable: repeated('string', 6),
        timeNanos: one(I64, 9),
        durationNanos: one(I64, 10),
        periodType: one('ValueType', 11),
        period: one(I64, 12),
        defaultSampleType: one(I64, 14),
      },
    },
    ValueType: { fields: { type: one(I64, 1), unit: one(I64, 2) } },
    Sample: { fields: { locationId: repeated(U64, 1), value: repeated(I64, 2), label: repeated('Label', 3) } },
    Label: { fields: { key: one(I64, 1), str: one(I64, 2), num: one(I64, 3), numUnit: one(I64, 4) } },
    Mapping: { fields: { id: one(U64, 1), memoryStart: one(U64, 2), memoryLimit: one(U64, 3), fileOffset: one(U64, 4), filename: one(I64, 5) } },
    Location: { fields: { id: one(U64, 1), mappingId: one(U64, 2), address: one(U64, 3), line: repeated('Line', 4) } },
    Line: { fields: { functionId: one(U64, 1), line: one(I64, 2), column: one(I64, 3) } },
    Function: { fields: { id: one(U64, 1), name: one(I64, 2), systemName: one(I64, 3), filename: one(I64, 4), startLine: one(I64, 5) } },
  },
});
/** The Profile message of that schema (the `--pprof` export writes it too). */
export const ProfileType = root.lookupType('Profile');

interface ValueType {
  type: number;
  unit: number;
}
interface Mapping {
  id: number;
  filename: number;
}
interface Location {
  id: number;
  mappingId: number;
  address: number;
  line: { functionId: number; line: number; column: number }[];
}
interface PprofFunction {
  id: number;
  name: number;
  systemName: number;
  filename: number;
  startLine: number;
}

/** Microseconds per unit of each time unit pprof writers use. */
const TIME_UNITS_US: Record<string, number> = {
  nanoseconds: 1e-3,
  ns: 1e-3,
  microseconds: 1,
  us: 1,
  milliseconds: 1e3,
  ms: 1e3,
  seconds: 1e6,
  s: 1e6,
};

/** A label key that names the thread a sample was taken on (@datadog/pprof: "thread name", "thread id"). */
const THREAD_LABEL = /^thread([ _.-]?(name|id))?$/i;

/**
 * Everything but the samples, kept as it streams past (bounded by the profile's distinct
 * locations, functions and names); the samples go to `stacks` as they come, when it is set.
 */
class PprofParts implements FieldSink {
  readonly sampleType: ValueType[] = [];
  readonly mapping: Mapping[] = [];
  readonly location: Location[] = [];
  readonly function: PprofFunction[] = [];
  readonly stringTable: string[] = [];
  defaultSampleType = 0;
  /** Whether a field of a profile has been read (errors before it say the input is no profile). */
  profileSeen = false;
  private readonly text = new TextDecoder();

  constructor(readonly stacks?: StackTable) {}

  bytes(field: number, buf: Uint8Array, start: number, end: number, at: number): void {
    if (field === 2) this.stacks?.add(buf, start, end, at);
    else if (field === 6) this.stringTable.push(this.text.decode(buf.subarray(start, end)));
    else if (field === 4) this.location.push(decodePart('Location', buf, start, end, at));
    else if (field === 5) this.function.push(decodePart('Function', buf, start, end, at));
    else if (field === 3) this.mapping.push(decodePart('Mapping', buf, start, end, at));
    else if (field === 1) this.sampleType.push(decodePart('ValueType', buf, start, end, at));
    else return;
    this.profileSeen = true;
  }

  varint(field: number, value: number): void {
    if (field === 14) this.defaultSampleType = value;
  }
}

/** The samples alone, for a second pass. */
class SamplesOnly implements FieldSink {
  constructor(readonly stacks: StackTable) {}
  bytes(field: number, buf: Uint8Array, start: number, end: number, at: number): void {
    if (field === 2) this.stacks.add(buf, start, end, at);
  }
  varint(): void {}
}

const PART_TYPES = new Map(['Location', 'Function', 'Mapping', 'ValueType'].map((name) => [name, root.lookupType(name)]));

/** One small message of the profile, decoded with its protobufjs type. */
function decodePart<T>(name: string, buf: Uint8Array, start: number, end: number, at: number): T {
  const type = PART_TYPES.get(name)!;
  try {
    return type.toObject(type.decode(buf.subarray(start, end)), { defaults: true, arrays: true }) as T;
  } catch (error) {
    throw new WireError(`a ${name}`, `that protobufjs cannot decode (${(error as Error).message})`, at);
  }
}

export async function importPprof(source: ByteSource, core: Core, options: ImportOptions = {}): Promise<Profile> {
  const name = source.name;
  if (source.size > MAX_PPROF_BYTES) {
    throw new InputError(`${name}: ${Math.round(source.size / 2 ** 20)} MB, too large for a pprof profile (at most ${MAX_PPROF_BYTES / 2 ** 20} MB)`);
  }
  const magic = await readRange(source, 0, Math.min(2, source.size));
  const gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
  let parts: PprofParts;
  let stacks: StackTable;
  if (options.thread === undefined) {
    stacks = new StackTable();
    parts = new PprofParts(stacks);
    await readStream(source, core, gzipped, parts, () => parts.profileSeen);
  } else {
    // Which label keys name a thread is only known from the string table, which may come after
    // the samples (Go and @datadog/pprof write it later): a first pass reads all but the samples,
    // a second the samples, keeping only the thread labels (others, such as span ids, would make
    // nearly every sample a stack of its own).
    parts = new PprofParts();
    await readStream(source, core, gzipped, parts, () => parts.profileSeen);
    const threadKeys = new Set<number>();
    for (let i = 0; i < parts.stringTable.length; i++) if (THREAD_LABEL.test(parts.stringTable[i])) threadKeys.add(i);
    stacks = new StackTable((key) => threadKeys.has(key));
    await readStream(source, core, gzipped, new SamplesOnly(stacks), () => true);
  }
  if (parts.sampleType.length === 0 && stacks.samples === 0) {
    throw new InputError(`${name}: not a profile: ${gzipped ? 'gzip-compressed ' : ''}binary data that is not a pprof profile (no sample_type)`);
  }
  return buildProfile(parts, stacks, name, core, options);
}

/** Streams the source's top-level fields to `sink`; `isProfile()`: whether errors may call it a pprof profile. */
async function readStream(source: ByteSource, core: Core, gzipped: boolean, sink: FieldSink, isProfile: () => boolean): Promise<void> {
  const name = source.name;
  const reader = new ProfileReader(sink);
  let size = 0;
  try {
    for await (const chunk of pprofChunks(source, core.windowBytes, gzipped)) {
      size += chunk.length;
      if (size > MAX_PPROF_BYTES) {
        throw new InputError(`${name}: gzip data over ${MAX_PPROF_BYTES / 2 ** 20} MB once decompressed, too large to decode`);
      }
      reader.push(chunk);
    }
    reader.end();
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    const what = `${error.subject} at byte ${error.offset}${gzipped ? ' of the decompressed data' : ''} ${error.problem}`;
    if (!isProfile()) {
      throw new InputError(`${name}: not a profile: ${gzipped ? 'gzip-compressed ' : ''}binary data that is not a pprof profile (${what})`);
    }
    throw new InputError(`${name}: ${error.truncated ? 'truncated' : 'corrupt'} pprof profile: ${what}`);
  }
}

/** The unit loopscope reports a pprof unit in, and the factor to the core's µs (its "time" axis). */
export function pprofUnit(unit: string): { unit: ValueUnit; toUs: number } {
  const us = Object.hasOwn(TIME_UNITS_US, unit.toLowerCase()) ? TIME_UNITS_US[unit.toLowerCase()] : undefined;
  if (us !== undefined) return { unit: 'ms', toUs: us };
  // Non-time values pass through the core as if µs were ms: the Profile's "ms" then hold the value.
  return { unit: unit.toLowerCase() === 'bytes' ? 'bytes' : 'count', toUs: 1000 };
}

function buildProfile(p: PprofParts, stacks: StackTable, name: string, core: Core, options: ImportOptions): Profile {
  const strings = p.stringTable;
  const str = (index: number, field: string): string => {
    if (!Number.isInteger(index) || index < 0 || index >= strings.length) {
      throw new InputError(`${name}: ${field} is string ${index}, beyond string_table (${strings.length} strings)`);
    }
    return strings[index];
  };
  if (p.sampleType.length === 0) throw new InputError(`${name}: pprof profile without sample_type`);
  const types = p.sampleType.map((t, i) => ({
    type: str(t.type, `sample_type[${i}].type`),
    unit: str(t.unit, `sample_type[${i}].unit`),
  }));
  // One value per sample type: the first sample that has another number of values.
  let wrong = -1;
  for (const [count, sample] of stacks.valueCounts) if (count !== types.length && (wrong < 0 || sample < wrong)) wrong = sample;
  if (wrong >= 0) {
    const count = [...stacks.valueCounts].find(([, sample]) => sample === wrong)![0];
    throw new InputError(`${name}: sample[${wrong}].value has ${count} values for ${types.length} sample types`);
  }
  const typeIndex = chooseType(types, p.defaultSampleType ? str(p.defaultSampleType, 'default_sample_type') : '', options.sampleType, name);
  const { type, unit } = types[typeIndex];
  const { unit: valueUnit, toUs } = pprofUnit(unit);
  // The number of samples a record stands for, where the profile counts them (Go, @datadog/pprof).
  const countIndex = types.findIndex((t) => /^samples?$/i.test(t.type) && t.unit.toLowerCase() === 'count');
  const keep = threadFilter(stacks, strings, str, options.thread, name);

  const functions = new Map<number, PprofFunction>();
  p.function.forEach((f) => functions.set(f.id, f));
  const mappings = new Map<number, Mapping>();
  p.mapping.forEach((m) => mappings.set(m.id, m));
  const locationIndex = new Map<number, number>();
  p.location.forEach((l, i) => locationIndex.set(l.id, i));

  const builder = new ProfileBuilder();
  // Frames of each location, outermost first.
  const locationFrames = new Map<number, number[]>();
  const framesOf = (id: number, where: string): number[] => {
    let frames = locationFrames.get(id);
    if (frames) return frames;
    const li = locationIndex.get(id);
    if (li === undefined) throw new InputError(`${name}: ${where} is ${id}: no location with that id`);
    const loc = p.location[li];
    const mapping = mappings.get(loc.mappingId);
    const object = mapping ? str(mapping.filename, `mapping (id ${mapping.id}).filename`).split(/[\\/]/).pop() : '';
    const address = `0x${loc.address.toString(16)}${object ? ` (${object})` : ''}`;
    frames = [];
    for (let k = loc.line.length - 1; k >= 0; k--) {
      const line = loc.line[k];
      const f = functions.get(line.functionId);
      if (!f) throw new InputError(`${name}: location[${li}].line[${k}].function_id is ${line.functionId}: no function with that id`);
      const fn = str(f.name, `function (id ${f.id}).name`) || str(f.systemName, `function (id ${f.id}).system_name`) || address;
      const file = str(f.filename, `function (id ${f.id}).filename`);
      const at = line.line > 0 ? line.line : f.startLine;
      frames.push(internForeign(builder.frames, fn, file, at - 1, line.line > 0 ? line.column - 1 : -1, 'native'));
    }
    if (frames.length === 0) frames.push(internForeign(builder.frames, address, '', -1, -1, 'native'));
    locationFrames.set(id, frames);
    return frames;
  };

  // Each stack's samples as one run (pprof has no time order), in the order stacks first appear.
  let timeUs = 0;
  let records = 0;
  const sampleCounts: number[] = [];
  const stack: number[] = [];
  const ids: number[] = [];
  const columns = stacks.columns;
  for (let r = 0; r < stacks.count; r++) {
    if (!stacks.positive(r, typeIndex) || !keep(r)) continue;
    stack.length = 0;
    stacks.locationIds(r, ids);
    for (let k = ids.length - 1; k >= 0; k--) {
      for (const f of framesOf(ids[k], `sample[${stacks.firstSample[r]}].location_id[${k}]`)) stack.push(f);
    }
    if (stack.length === 0) stack.push(internForeign(builder.frames, '(unknown)', '', -1, -1, 'native'));
    const node = builder.stack(stack);
    builder.sample(node, timeUs);
    const sums = r * 2 * columns;
    timeUs += stacks.sums[sums + typeIndex] * toUs;
    records += stacks.records[r];
    // A record that carries a value stands for at least one sample.
    sampleCounts[node] = (sampleCounts[node] ?? 0) + (countIndex >= 0 ? stacks.sums[sums + columns + countIndex] : stacks.records[r]);
  }
  if (records === 0 && options.thread !== undefined) throw new InputError(`${name}: thread ${options.thread} has no samples of ${type}`);

  const negative = stacks.negative[typeIndex] ?? 0;
  const parts = [`${type}/${unit}`, `${stacks.samples} samples`];
  if (negative) parts.push(`${negative} negative samples skipped`);
  if (options.thread !== undefined) parts.push(`thread ${options.thread}`);
  const profile = builder.finish(core, { source: name, format: `pprof (${parts.join(', ')})`, startUs: 0, endUs: timeUs });
  for (let node = 0; node < profile.nodeSamples.length; node++) profile.nodeSamples[node] = sampleCounts[node] ?? 0;
  if (valueUnit !== 'ms') profile.unit = valueUnit;
  profile.timeOrder = 'none';
  return profile;
}

/** pprof's choice (default_sample_type, else the last), or the type asked for by name or type/unit. */
function chooseType(types: { type: string; unit: string }[], defaultType: string, wanted: string | undefined, name: string): number {
  if (wanted !== undefined) {
    const i = types.findIndex((t) => t.type === wanted || `${t.type}/${t.unit}` === wanted);
    if (i < 0) {
      const available = types.map((t) => `${t.type} (${t.unit})`).join(', ');
      throw new InputError(`${name}: no sample type "${wanted}"; the profile has ${available}`);
    }
    return i;
  }
  const i = defaultType ? types.findIndex((t) => t.type === defaultType) : -1;
  return i >= 0 ? i : types.length - 1;
}

/** Which stacks `--thread` keeps: those whose thread label (by name or id) equals it; all without it. */
function threadFilter(
  stacks: StackTable,
  strings: string[],
  str: (index: number, field: string) => string,
  thread: string | undefined,
  name: string,
): (record: number) => boolean {
  if (thread === undefined) return () => true;
  const threadKeys = new Set<number>();
  for (let i = 0; i < strings.length; i++) if (THREAD_LABEL.test(strings[i])) threadKeys.add(i);
  const seen = new Set<string>();
  const kept = new Uint8Array(stacks.count);
  for (let r = 0; r < stacks.count; r++) {
    for (const l of stacks.labels(r)) {
      if (!threadKeys.has(l.key)) continue;
      const value = l.str ? str(l.str, `sample[${stacks.firstSample[r]}].label[${l.index}].str`) : String(l.num);
      seen.add(value);
      if (value === thread) kept[r] = 1;
    }
  }
  if (!kept.includes(1)) {
    const known = [...seen].slice(0, 10).join(', ');
    throw new InputError(
      seen.size
        ? `${name}: no samples on thread "${thread}"; the thread labels name ${known}`
        : `${name}: --thread ${thread}: the profile's samples carry no thread label`,
    );
  }
  return (record) => kept[record] === 1;
}
