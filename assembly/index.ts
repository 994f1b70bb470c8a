// The loopscope core: no I/O, the same .wasm in Node and in the browser. The host writes input
// bytes into windows inside this memory and calls the scan (pass 1) and pair (pass 2) functions;
// it reads the resulting tables through typed-array views at the pointers exported here.

import { alloc, mark, release } from './alloc';
import * as tables from './tables';
import { clamped, pairBegin } from './cpuprofile';
import { scanBegin } from './scan';

export {
  scanBegin, scanFeed, scanFinish, scanError, scanErrorOffset, scanErrorByte, scanState,
  scanInString, entriesCount, entryKeyPtr, entryKeyLength, entryFirstByte, entryValueStart,
  entryValueEnd,
} from './scan';
export {
  pairBegin, pairWindow, pairRun, pairFinish, pairSamples, pairErrorStream, pairErrorAt,
  pairErrorValue, pairErrorIndex, pushSample,
} from './cpuprofile';
export { mapNode, setIdle } from './tables';

let windows: usize = 0;
let windowSize: i32 = 0;
let base: usize = 0; // everything above belongs to the current profile

/** Allocates the two input windows once; returns false when memory cannot grow. */
export function init(bytes: i32): bool {
  if (windows != 0) return bytes == windowSize;
  windowSize = bytes;
  windows = alloc(<usize>bytes * 2);
  // The scanner's and the reorder ring's fixed tables come first, so they outlive profiles.
  scanBegin();
  pairBegin(false, 0, 0);
  base = mark();
  return windows != 0;
}

export function windowPtr(which: i32): usize {
  return windows + (which == 0 ? 0 : <usize>windowSize);
}

/** Frees the previous profile's tables and allocates new ones. */
export function profileBegin(nodeCount: i32, denseIds: i32, timelineCapacity: i32): bool {
  release(base);
  return tables.tablesBegin(nodeCount, denseIds, timelineCapacity);
}

export function nodeSelfPtr(): usize { return tables.nodeSelf; }
export function nodeSamplesPtr(): usize { return tables.nodeSamples; }
export function timelineCount(): i32 { return tables.tlCount; }
export function timelineStartPtr(): usize { return tables.tlStart; }
export function timelineDurationPtr(): usize { return tables.tlDuration; }
export function timelineIdlePtr(): usize { return tables.tlIdle; }
export function timelineNodePtr(): usize { return tables.tlNode; }
export function timelineResolution(): f64 { return tables.resolution; }
export function clampedSamples(): f64 { return clamped; }
