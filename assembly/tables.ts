// The core tables of one profile: stack nodes (id lookup, share, time and samples per node) and the
// bounded timeline. Memory is proportional to the number of nodes plus a fixed timeline capacity,
// never to the number of samples.

import { alloc } from './alloc';

export let nodeCount: i32 = 0;
// Node id -> index: a direct table when ids are dense, else open addressing (keys stored +1).
export let directSize: i32 = 0;
export let direct: usize = 0;
let hashMask: u32 = 0;
let hashKeys: usize = 0;
let hashValues: usize = 0;

export let nodeIdle: usize = 0; // u8 per node: 1 when the node's samples are idle time
export let nodeSelf: usize = 0; // f64 per node: self time (µs)
export let nodeSamples: usize = 0; // f64 per node: sample count
let bucketTime: usize = 0; // f64 per node: time inside the timeline entry being coarsened
let touched: usize = 0; // i32 per node: nodes with non-zero bucketTime
let touchedCount: i32 = 0;

// Timeline: parallel arrays of `capacity` entries.
let capacity: i32 = 0;
export let tlCount: i32 = 0;
export let tlStart: usize = 0; // f64 µs
export let tlDuration: usize = 0; // f64 µs
export let tlIdle: usize = 0; // f64 µs
export let tlNode: usize = 0; // i32 dominant node
let tlDominant: usize = 0; // f64 µs of the dominant node
let tlMixed: usize = 0; // u8: the entry holds more than one node
let bucketEntry: i32 = -1; // the entry bucketTime describes
export let resolution: f64 = 0; // µs: entries shorter than this may be merged

/** Allocates the tables for `count` nodes; ids below `denseIds` use the direct table. */
export function tablesBegin(count: i32, denseIds: i32, timelineCapacity: i32): bool {
  nodeCount = count;
  directSize = denseIds;
  if (denseIds > 0) {
    direct = alloc(<usize>denseIds << 2);
    if (direct == 0) return false;
    memory.fill(direct, 0xff, <usize>denseIds << 2);
  } else {
    let size: u32 = 16;
    while (size < <u32>count * 2) size <<= 1;
    hashMask = size - 1;
    hashKeys = alloc(<usize>size << 3);
    hashValues = alloc(<usize>size << 2);
    if (hashKeys == 0 || hashValues == 0) return false;
  }
  const n = <usize>count;
  nodeIdle = alloc(n);
  nodeSelf = alloc(n << 3);
  nodeSamples = alloc(n << 3);
  bucketTime = alloc(n << 3);
  touched = alloc(n << 2);
  touchedCount = 0;
  capacity = timelineCapacity;
  const c = <usize>timelineCapacity;
  tlStart = alloc(c << 3);
  tlDuration = alloc(c << 3);
  tlIdle = alloc(c << 3);
  tlNode = alloc(c << 2);
  tlDominant = alloc(c << 3);
  tlMixed = alloc(c);
  tlCount = 0;
  bucketEntry = -1;
  resolution = 0;
  return tlMixed != 0 && touched != 0;
}

@inline function hash(id: u64): u32 {
  return <u32>((id * 0x9e3779b97f4a7c15) >>> 32);
}

/** Registers node `id` (a non-negative integer) at `index`. False when the id was seen before. */
export function mapNode(id: f64, index: i32): bool {
  if (id >= 0 && id < <f64>directSize) {
    const slot = direct + (<usize>id << 2);
    if (load<i32>(slot) >= 0) return false;
    store<i32>(slot, index);
    return true;
  }
  const key = <u64>id + 1;
  let h = hash(key) & hashMask;
  while (true) {
    const k = load<u64>(hashKeys + (<usize>h << 3));
    if (k == key) return false;
    if (k == 0) break;
    h = (h + 1) & hashMask;
  }
  store<u64>(hashKeys + (<usize>h << 3), key);
  store<i32>(hashValues + (<usize>h << 2), index);
  return true;
}

/** The index of node `id`, or -1. */
@inline export function nodeIndex(id: f64): i32 {
  if (id >= 0 && id < <f64>directSize) return load<i32>(direct + (<usize>id << 2));
  if (directSize > 0 || id < 0 || id > 9007199254740991) return -1;
  const key = <u64>id + 1;
  let h = hash(key) & hashMask;
  while (true) {
    const k = load<u64>(hashKeys + (<usize>h << 3));
    if (k == key) return load<i32>(hashValues + (<usize>h << 2));
    if (k == 0) return -1;
    h = (h + 1) & hashMask;
  }
}

export function setIdle(index: i32): void {
  store<u8>(nodeIdle + <usize>index, 1);
}

function clearBucket(): void {
  for (let i = 0; i < touchedCount; i++) {
    store<f64>(bucketTime + (<usize>load<i32>(touched + (<usize>i << 2)) << 3), 0);
  }
  touchedCount = 0;
  bucketEntry = -1;
}

@inline function addBucket(node: i32, us: f64): f64 {
  const slot = bucketTime + (<usize>node << 3);
  const before = load<f64>(slot);
  if (before == 0) {
    store<i32>(touched + (<usize>touchedCount << 2), node);
    touchedCount++;
  }
  const after = before + us;
  store<f64>(slot, after);
  return after;
}

/** Halves the timeline (at least) by merging neighbours whose joint length is within resolution. */
function coarsen(): void {
  clearBucket();
  const last = tlCount - 1;
  const span = load<f64>(tlStart + (<usize>last << 3)) + load<f64>(tlDuration + (<usize>last << 3)) -
    load<f64>(tlStart);
  resolution = max(resolution * 2, span / <f64>(capacity >> 2));
  while (tlCount > capacity >> 1) {
    let k = 0;
    for (let i = 0; i < tlCount; i++) {
      const d = load<f64>(tlDuration + (<usize>i << 3));
      if (k > 0) {
        const j = <usize>(k - 1);
        const dj = load<f64>(tlDuration + (j << 3));
        if (dj + d <= resolution) {
          store<f64>(tlDuration + (j << 3), dj + d);
          store<f64>(tlIdle + (j << 3), load<f64>(tlIdle + (j << 3)) + load<f64>(tlIdle + (<usize>i << 3)));
          const ni = load<i32>(tlNode + (<usize>i << 2));
          const di = load<f64>(tlDominant + (<usize>i << 3));
          if (ni == load<i32>(tlNode + (j << 2))) {
            store<f64>(tlDominant + (j << 3), load<f64>(tlDominant + (j << 3)) + di);
          } else {
            // Merged buckets keep the larger dominant: an approximation, exact for the single runs.
            if (di > load<f64>(tlDominant + (j << 3))) {
              store<i32>(tlNode + (j << 2), ni);
              store<f64>(tlDominant + (j << 3), di);
            }
            store<u8>(tlMixed + j, 1);
          }
          continue;
        }
      }
      if (k != i) {
        const t = <usize>k;
        const s = <usize>i;
        store<f64>(tlStart + (t << 3), load<f64>(tlStart + (s << 3)));
        store<f64>(tlDuration + (t << 3), d);
        store<f64>(tlIdle + (t << 3), load<f64>(tlIdle + (s << 3)));
        store<i32>(tlNode + (t << 2), load<i32>(tlNode + (s << 2)));
        store<f64>(tlDominant + (t << 3), load<f64>(tlDominant + (s << 3)));
        store<u8>(tlMixed + t, load<u8>(tlMixed + s));
      }
      k++;
    }
    tlCount = k;
    if (tlCount > capacity >> 1) resolution *= 2;
  }
}

/** Charges a run of `samples` samples of `node`, from `start` and lasting `us`, to the tables. */
export function account(node: i32, start: f64, us: f64, samples: f64): void {
  const n = <usize>node;
  store<f64>(nodeSelf + (n << 3), load<f64>(nodeSelf + (n << 3)) + us);
  store<f64>(nodeSamples + (n << 3), load<f64>(nodeSamples + (n << 3)) + samples);
  const idle = load<u8>(nodeIdle + n) != 0 ? us : 0;
  if (tlCount > 0) {
    const o = <usize>(tlCount - 1);
    const sameRun = load<i32>(tlNode + (o << 2)) == node && load<u8>(tlMixed + o) == 0;
    const d = load<f64>(tlDuration + (o << 3));
    if (sameRun || (resolution > 0 && d + us <= resolution)) {
      store<f64>(tlDuration + (o << 3), d + us);
      store<f64>(tlIdle + (o << 3), load<f64>(tlIdle + (o << 3)) + idle);
      if (sameRun) {
        store<f64>(tlDominant + (o << 3), load<f64>(tlDominant + (o << 3)) + us);
        return;
      }
      // Absorb into a bucket, keeping its dominant node exact.
      if (bucketEntry != <i32>o) {
        clearBucket();
        bucketEntry = <i32>o;
        addBucket(load<i32>(tlNode + (o << 2)), load<f64>(tlDominant + (o << 3)));
      }
      store<u8>(tlMixed + o, 1);
      const mine = addBucket(node, us);
      if (mine > load<f64>(tlDominant + (o << 3))) {
        store<i32>(tlNode + (o << 2), node);
        store<f64>(tlDominant + (o << 3), mine);
      }
      return;
    }
  }
  if (tlCount == capacity) coarsen();
  const e = <usize>tlCount;
  store<f64>(tlStart + (e << 3), start);
  store<f64>(tlDuration + (e << 3), us);
  store<f64>(tlIdle + (e << 3), idle);
  store<i32>(tlNode + (e << 2), node);
  store<f64>(tlDominant + (e << 3), us);
  store<u8>(tlMixed + e, 0);
  tlCount++;
}
