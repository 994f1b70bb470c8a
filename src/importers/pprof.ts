// pprof profiles (github.com/google/pprof, proto/profile.proto): Go's runtime/pprof, pprof-nodejs,
// py-spy and others; gzip-compressed (as pprof writes them) or not.
//
// A sample's locations are leaf first; a location's lines are its inlined frames, innermost first.
// Both are reversed into stacks outermost first. A frame is a function (name, file, start line; the
// line of the call when the start line is unknown); a location without lines is named by its address
// and the file its mapping maps (`0x4a2f10 in libc.so.6`).
//
// The value read is the default sample type as pprof chooses it: `default_sample_type` when set,
// else the last one. Time types (nanoseconds, microseconds, milliseconds, seconds) become µs; any
// other unit is kept as a weight with 1 unit = 1 µs, which the format string says. The samples have
// no timestamps: each follows the previous one (time = running sum of the values).

import protobuf from 'protobufjs/light.js';
import type { ByteSource } from '../core/source.js';
import { readRange } from '../core/source.js';
import type { Core } from '../core/wasm.js';
import { InputError, type Profile } from '../model.js';
import { internForeign } from './folded.js';
import { ProfileBuilder } from './tables.js';

/** The largest input decoded (a pprof profile is decoded whole). */
export const MAX_PPROF_BYTES = 400 * 2 ** 20;

// int64 fields decode to plain numbers (exact up to 2^53, which covers times, counts and ids).
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

const U64 = 'uint64';
const I64 = 'int64';
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const one = (type: string, id: number) => ({ type, id });

/** The parts of profile.proto the importer reads (unknown fields are skipped when decoding). */
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
    Sample: { fields: { locationId: repeated(U64, 1), value: repeated(I64, 2) } },
    Mapping: { fields: { id: one(U64, 1), memoryStart: one(U64, 2), filename: one(I64, 5) } },
    Location: { fields: { id: one(U64, 1), mappingId: one(U64, 2), address: one(U64, 3), line: repeated('Line', 4) } },
    Line: { fields: { functionId: one(U64, 1), line: one(I64, 2), column: one(I64, 3) } },
    Function: { fields: { id: one(U64, 1), name: one(I64, 2), systemName: one(I64, 3), filename: one(I64, 4), startLine: one(I64, 5) } },
  },
});
/** The Profile message of that schema (also writes profiles, in tests). */
export const ProfileType = root.lookupType('Profile');

interface ValueType {
  type: number;
  unit: number;
}
interface PprofProfile {
  sampleType: ValueType[];
  sample: { locationId: number[]; value: number[] }[];
  mapping: { id: number; filename: number }[];
  location: { id: number; mappingId: number; address: number; line: { functionId: number; line: number; column: number }[] }[];
  function: { id: number; name: number; systemName: number; filename: number; startLine: number }[];
  stringTable: string[];
  defaultSampleType: number;
}

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

/**
 * The one place that decompresses gzip: DecompressionStream, the same in Node and in the browser,
 * read chunk by chunk so a decompression bomb stops at the size limit.
 */
export async function gunzip(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_PPROF_BYTES) {
        await reader.cancel();
        throw new InputError(`${name}: gzip data over ${MAX_PPROF_BYTES / 2 ** 20} MB once decompressed, too large to decode`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${name}: corrupt or truncated gzip data (${(error as Error).message})`);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function decode(bytes: Uint8Array): PprofProfile {
  const message = ProfileType.decode(bytes);
  return ProfileType.toObject(message, { defaults: true, arrays: true }) as unknown as PprofProfile;
}

export async function importPprof(source: ByteSource, core: Core): Promise<Profile> {
  const name = source.name;
  if (source.size > MAX_PPROF_BYTES) {
    throw new InputError(`${name}: ${Math.round(source.size / 2 ** 20)} MB, too large for a pprof profile (at most ${MAX_PPROF_BYTES / 2 ** 20} MB)`);
  }
  let bytes = await readRange(source, 0, source.size);
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gzipped) bytes = await gunzip(bytes, name);
  let p: PprofProfile;
  try {
    p = decode(bytes);
  } catch (error) {
    throw new InputError(`${name}: not a profile: ${gzipped ? 'gzip-compressed ' : ''}binary data that is not a pprof profile (${(error as Error).message})`);
  }
  if (p.sampleType.length === 0 && p.sample.length === 0) {
    throw new InputError(`${name}: not a profile: ${gzipped ? 'gzip-compressed ' : ''}binary data that is not a pprof profile (no sample_type)`);
  }
  return buildProfile(p, name, core);
}

function buildProfile(p: PprofProfile, name: string, core: Core): Profile {
  const strings = p.stringTable;
  const str = (index: number, field: string): string => {
    if (!Number.isInteger(index) || index < 0 || index >= strings.length) {
      throw new InputError(`${name}: ${field} is string ${index}, beyond string_table (${strings.length} strings)`);
    }
    return strings[index];
  };
  if (p.sampleType.length === 0) throw new InputError(`${name}: pprof profile without sample_type`);
  let typeIndex = p.sampleType.length - 1;
  if (p.defaultSampleType) {
    const wanted = str(p.defaultSampleType, 'default_sample_type');
    const i = p.sampleType.findIndex((t) => strings[t.type] === wanted);
    if (i >= 0) typeIndex = i;
  }
  const type = str(p.sampleType[typeIndex].type, `sample_type[${typeIndex}].type`);
  const unit = str(p.sampleType[typeIndex].unit, `sample_type[${typeIndex}].unit`);
  const toUs = TIME_UNITS_US[unit.toLowerCase()];

  const functions = new Map<number, PprofProfile['function'][number]>();
  p.function.forEach((f) => functions.set(f.id, f));
  const mappings = new Map<number, PprofProfile['mapping'][number]>();
  p.mapping.forEach((m) => mappings.set(m.id, m));
  const locationIndex = new Map<number, number>();
  p.location.forEach((l, i) => locationIndex.set(l.id, i));

  const builder = new ProfileBuilder();
  const byFunction = new Map<string, number>();
  // Frames of each location, outermost first.
  const locationFrames = new Map<number, number[]>();
  const framesOf = (id: number, where: string): number[] => {
    let frames = locationFrames.get(id);
    if (frames) return frames;
    const li = locationIndex.get(id);
    if (li === undefined) throw new InputError(`${name}: ${where} is ${id}: no location with that id`);
    const loc = p.location[li];
    frames = [];
    for (let k = loc.line.length - 1; k >= 0; k--) {
      const line = loc.line[k];
      const f = functions.get(line.functionId);
      if (!f) throw new InputError(`${name}: location[${li}].line[${k}].function_id is ${line.functionId}: no function with that id`);
      const fn = str(f.name, `function (id ${f.id}).name`) || str(f.systemName, `function (id ${f.id}).system_name`);
      const file = str(f.filename, `function (id ${f.id}).filename`);
      const startLine = f.startLine > 0 ? f.startLine : line.line;
      const key = `${fn}\u0000${file}\u0000${startLine}`;
      let frame = byFunction.get(key);
      if (frame === undefined) {
        frame = internForeign(builder.frames, fn, file, startLine - 1, -1, 'native');
        byFunction.set(key, frame);
      }
      frames.push(frame);
    }
    if (frames.length === 0) {
      const mapping = mappings.get(loc.mappingId);
      const object = mapping ? str(mapping.filename, `mapping (id ${mapping.id}).filename`) : '';
      const base = object.split(/[\\/]/).pop();
      const label = `0x${loc.address.toString(16)}${base ? ` in ${base}` : ''}`;
      frames.push(internForeign(builder.frames, label, '', -1, -1, 'native'));
    }
    locationFrames.set(id, frames);
    return frames;
  };

  let timeUs = 0;
  let skipped = 0;
  const stack: number[] = [];
  p.sample.forEach((sample, i) => {
    if (sample.value.length !== p.sampleType.length) {
      throw new InputError(`${name}: sample[${i}].value has ${sample.value.length} values for ${p.sampleType.length} sample types`);
    }
    const value = sample.value[typeIndex];
    if (!(value > 0)) {
      if (value < 0) skipped++;
      return;
    }
    stack.length = 0;
    for (let k = sample.locationId.length - 1; k >= 0; k--) {
      for (const f of framesOf(sample.locationId[k], `sample[${i}].location_id[${k}]`)) stack.push(f);
    }
    if (stack.length === 0) stack.push(internForeign(builder.frames, '(unknown)', '', -1, -1, 'native'));
    builder.sample(builder.stack(stack), timeUs);
    timeUs += toUs === undefined ? value : value * toUs;
  });

  const what = toUs === undefined ? `${type}/${unit}: 1 ${unit || 'unit'} = 1 µs` : `${type}/${unit}`;
  const negative = skipped ? `, ${skipped} negative samples skipped` : '';
  return builder.finish(core, {
    source: name,
    format: `pprof (${what}, ${p.sample.length} samples${negative})`,
    startUs: 0,
    endUs: timeUs,
  });
}
