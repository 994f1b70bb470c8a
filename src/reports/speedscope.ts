// The speedscope export (https://www.speedscope.app/file-format-schema.json). Never one speedscope
// sample per input sample (speedscope runs out of memory near 10 M): one profile holds one sample per
// distinct stack with its summed weight (exact flame graph, left heavy and sandwich views), the other
// the bounded timeline: runs of one stack merged, coarse buckets given to their dominant stack.
// Both total weights equal the input's. Produced as text pieces, so a caller can stream it out.
// A profile of bytes or counts keeps its unit and has no timeline (its order is not time).

import { unitOf, type Analysis } from '../model.js';

const SPEEDSCOPE_UNIT = { ms: 'milliseconds', bytes: 'bytes', count: 'none' } as const;

export function* speedscopeChunks(analysis: Analysis, name: string): Generator<string> {
  const { profile } = analysis;
  const n = profile.nodeParent.length;
  // Frames in the export: every frame but (root), which speedscope leaves implicit.
  const frameIndex = new Int32Array(profile.frames.length).fill(-1);
  const frames: object[] = [];
  profile.frames.forEach((f, i) => {
    if (f.kind === 'root') return;
    frameIndex[i] = frames.length;
    const frame: Record<string, string | number> = { name: f.name };
    if (f.file) frame.file = f.file;
    if (f.line) frame.line = f.line;
    if (f.column) frame.col = f.column;
    frames.push(frame);
  });
  const stackOf = (node: number): number[] => {
    const stack: number[] = [];
    for (let i = node; i >= 0; i = profile.nodeParent[i]) {
      const f = frameIndex[profile.nodeFrame[i]];
      if (f >= 0) stack.push(f);
    }
    return stack.reverse();
  };

  yield `{"$schema":"https://www.speedscope.app/file-format-schema.json","exporter":"loopscope","name":${JSON.stringify(name)},`;
  yield `"activeProfileIndex":0,"shared":{"frames":${JSON.stringify(frames)}},"profiles":[`;

  const stacks: number[] = [];
  for (let i = 0; i < n; i++) if (profile.nodeSelfMs[i] > 0 || profile.nodeSamples[i] > 0) stacks.push(i);
  const unit = unitOf(profile);
  yield* sampled(`${name}: by stack`, stacks, (i) => profile.nodeSelfMs[i], stackOf, SPEEDSCOPE_UNIT[unit]);
  if (unit === 'ms') {
    yield ',';
    const { timeline } = profile;
    const entries = Array.from({ length: timeline.count }, (_, k) => k);
    yield* sampled(`${name}: timeline`, entries, (k) => timeline.duration[k], (k) => stackOf(timeline.node[k]), SPEEDSCOPE_UNIT[unit]);
  }
  yield ']}\n';
}

function* sampled(
  name: string,
  items: number[],
  weight: (item: number) => number,
  stack: (item: number) => number[],
  unit: string,
): Generator<string> {
  let total = 0;
  for (const item of items) total += weight(item);
  yield `{"type":"sampled","name":${JSON.stringify(name)},"unit":"${unit}","startValue":0,"endValue":${total},"samples":[`;
  const BATCH = 4096;
  for (let k = 0; k < items.length; k += BATCH) {
    yield (k ? ',' : '') + items.slice(k, k + BATCH).map((item) => JSON.stringify(stack(item))).join(',');
  }
  yield '],"weights":[';
  for (let k = 0; k < items.length; k += BATCH) {
    yield (k ? ',' : '') + items.slice(k, k + BATCH).map(weight).join(',');
  }
  yield ']}';
}
