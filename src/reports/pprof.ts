// The pprof export (`--pprof out.pb.gz`): the analysis's stacks as a gzipped profile.proto that
// `go tool pprof` and other pprof readers open. One sample per stack (per line of it where the
// profile splits a function's own time by line), with two values: the samples it stands for
// (samples/count) and its weight (cpu/nanoseconds, or space/bytes, value/count for a profile of
// bytes or counts). Frames are a function (name, file, start line) at a line, like pprof's own:
// the leaf at the line its time is charged to, each caller at the line that the per-line table
// charges its callees' time to (the call's line where the source names it). Reading the export back
// gives the same per-line table and totals (test/pprof.test.ts).

import { callLine } from '../analysis/recorded.js';
import { mainLine } from '../analysis/ratios.js';
import { ProfileType } from '../importers/pprof.js';
import { unitOf, type Analysis } from '../model.js';
import type { SourceLookup } from '../recording/model.js';

const VALUE_TYPE = { ms: ['cpu', 'nanoseconds', 1e6], bytes: ['space', 'bytes', 1], count: ['value', 'count', 1] } as const;

/** The export, gzip-compressed (CompressionStream: the same in Node and in the browser). */
export async function pprofGzipped(analysis: Analysis, source?: SourceLookup): Promise<Uint8Array> {
  const stream = new Blob([pprofBytes(analysis, source) as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The export as profile.proto bytes (not compressed). */
export function pprofBytes(analysis: Analysis, source?: SourceLookup): Uint8Array {
  const { profile, totals } = analysis;
  const [typeName, unitName, scale] = VALUE_TYPE[unitOf(profile)];
  const strings = [''];
  const stringIndex = new Map<string, number>([['', 0]]);
  const str = (s: string) => {
    let i = stringIndex.get(s);
    if (i === undefined) stringIndex.set(s, (i = strings.push(s) - 1));
    return i;
  };

  const functions: object[] = [];
  const functionOfFrame = new Int32Array(profile.frames.length);
  profile.frames.forEach((f, i) => {
    functions.push({ id: i + 1, name: str(f.name), systemName: str(f.name), filename: str(f.file), startLine: f.line });
    functionOfFrame[i] = i + 1;
  });
  const locations: object[] = [];
  const locationIds = new Map<number, number>();
  const location = (frame: number, line: number): number => {
    // Lines stay below 2^21 in any source file a profile names.
    const key = frame * 2 ** 21 + line;
    let id = locationIds.get(key);
    if (id === undefined) {
      id = locations.length + 1;
      locationIds.set(key, id);
      locations.push({ id, line: [{ functionId: functionOfFrame[frame], line }] });
    }
    return id;
  };

  // The line a caller's callees are charged to, as the per-line table (src/analysis/ratios.ts) does.
  const frameOf = (node: number) => profile.frames[profile.nodeFrame[node]];
  const callerLine = (caller: number, callee: number): number => {
    const frame = frameOf(caller);
    const call = source && frame.kind === 'user' ? callLine(source, frame.file, frame.line, frameOf(callee).name) : null;
    return call?.line ?? mainLine(profile, caller);
  };

  // The location of each node's caller at the line of the call towards the node: computed once per
  // node (0: not yet, -1: no caller, or the caller is (root)), so a sample's stack is a walk up.
  const callerLocation = new Int32Array(profile.nodeParent.length);
  const callerOf = (node: number): number => {
    if (callerLocation[node] === 0) {
      const up = profile.nodeParent[node];
      callerLocation[node] = up >= 0 && frameOf(up).kind !== 'root' ? location(profile.nodeFrame[up], callerLine(up, node)) : -1;
    }
    return callerLocation[node];
  };

  const samples: object[] = [];
  const stack: number[] = [];
  for (let node = 0; node < profile.nodeParent.length; node++) {
    const weight = profile.nodeSelfMs[node];
    const count = profile.nodeSamples[node];
    if (!(weight > 0) && !(count > 0)) continue;
    // Callers leaf side first, as pprof orders a sample's locations; (root) is no frame of the program.
    stack.length = 0;
    for (let child = node; child >= 0; child = profile.nodeParent[child]) {
      const caller = callerOf(child);
      if (caller > 0) stack.push(caller);
    }
    if (frameOf(node).kind === 'root') continue;
    const frame = profile.nodeFrame[node];
    const push = (line: number, part: number) =>
      samples.push({ locationId: [location(frame, line), ...stack], value: [Math.round(count * part), Math.round(weight * part * scale)] });
    // The node's own time split over its lines, as the per-line table splits it.
    const ticks = profile.nodeLineTicks[node];
    let tickSum = 0;
    if (ticks) for (let k = 1; k < ticks.length; k += 2) tickSum += ticks[k];
    if (tickSum > 0) {
      for (let k = 0; k < ticks!.length; k += 2) if (ticks![k + 1] > 0) push(ticks![k], ticks![k + 1] / tickSum);
    } else push(mainLine(profile, node), 1);
  }

  const wall = totals.wallMs;
  // Plain objects in the schema's shape encode as they are.
  const message = ProfileType.create({
    sampleType: [
      { type: str('samples'), unit: str('count') },
      { type: str(typeName), unit: str(unitName) },
    ],
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    durationNanos: unitOf(profile) === 'ms' ? Math.round((profile.endMs - profile.startMs) * 1e6) : 0,
    periodType: { type: str(typeName), unit: str(unitName) },
    // The mean weight of a sample: the sampling interval of a time profile.
    period: totals.samples > 0 ? Math.round((wall * scale) / totals.samples) : 0,
    defaultSampleType: str(typeName),
  });
  return ProfileType.encode(message).finish();
}
