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
let bucketTime: usize = 0; // f64 per node: time inside the open timeline entry, when merging
let bucketStamp: usize = 0; // u32 per node: bucketTime is valid when this equals bucketGeneration
let bucketGeneration: u32 = 0; // a new one empties the bucket at no cost

// Timeline: parallel arrays of `capacity` entries.
let capacity: i32 = 0;
export let tlCount: i32 = 0;
export let tlStart: usize = 0; // f64 µs
export let tlDuration: usize = 0; // f64 µs
export let tlIdle: usize = 0; // f64 µs
export let tlNode: usize = 0; // i32 dominant node
let tlDominant: usize = 0; // f64 µs of the dominant node
let tlMixed: usize = 0; // u8: the entry holds more than one node
export let resolution: f64 = 0; // µs: entries shorter than this may be merged
// The last entry, where nearly every run is charged, is kept open in these (its start is in
// tlStart) and written to the arrays when the next one opens or the tables are read.
let openDuration: f64 = 0;
let openIdle: f64 = 0;
let openNode: i32 = 0;
let openDominant: f64 = 0;
let openMixed = false;
let bucketOpen = false; // the bucket describes the open entry (which is then mixed)

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
  bucketStamp = alloc(n << 2);
  bucketGeneration = 0;
  bucketOpen = false;
  capacity = timelineCapacity;
  const c = <usize>timelineCapacity;
  tlStart = alloc(c << 3);
  tlDuration = alloc(c << 3);
  tlIdle = alloc(c << 3);
  tlNode = alloc(c << 2);
  tlDominant = alloc(c << 3);
  tlMixed = alloc(c);
  tlCount = 0;
  resolution = 0;
  return tlMixed != 0 && bucketStamp != 0;
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
  bucketGeneration++;
  bucketOpen = false;
}

@inline function addBucket(node: i32, us: f64): f64 {
  const n = <usize>node;
  const valid = load<u32>(bucketStamp + (n << 2)) == bucketGeneration;
  const after = (valid ? load<f64>(bucketTime + (n << 3)) : 0) + us;
  store<u32>(bucketStamp + (n << 2), bucketGeneration);
  store<f64>(bucketTime + (n << 3), after);
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
@inline export function account(node: i32, start: f64, us: f64, samples: f64): void {
  const n = <usize>node;
  store<f64>(nodeSelf + (n << 3), load<f64>(nodeSelf + (n << 3)) + us);
  store<f64>(nodeSamples + (n << 3), load<f64>(nodeSamples + (n << 3)) + samples);
  const idle = load<u8>(nodeIdle + n) != 0 ? us : 0;
  // The common case once the timeline is coarse, inline: a run joins the open, mixed entry.
  if (bucketOpen && resolution > 0 && openDuration + us <= resolution) {
    openDuration += us;
    openIdle += idle;
    mergeBucket(node, us);
  } else extend(node, start, us, idle);
}

// The open entry's dominant node stays exact through a bucket of time per node.
@inline function mergeBucket(node: i32, us: f64): void {
  const mine = addBucket(node, us);
  if (mine > openDominant) {
    openNode = node;
    openDominant = mine;
  }
}

// The rest of account(): the run joins the open entry or opens a new one.
function extend(node: i32, start: f64, us: f64, idle: f64): void {
  if (tlCount > 0) {
    const sameRun = openNode == node && !openMixed;
    if (sameRun || (resolution > 0 && openDuration + us <= resolution)) {
      openDuration += us;
      openIdle += idle;
      if (sameRun) {
        openDominant += us;
        return;
      }
      if (!bucketOpen) {
        clearBucket();
        bucketOpen = true;
        addBucket(openNode, openDominant);
      }
      openMixed = true;
      mergeBucket(node, us);
      return;
    }
    closeEntry();
  }
  if (tlCount == capacity) coarsen();
  store<f64>(tlStart + (<usize>tlCount << 3), start);
  openDuration = us;
  openIdle = idle;
  openNode = node;
  openDominant = us;
  openMixed = false;
  bucketOpen = false;
  tlCount++;
}

// Writes the open entry to the arrays.
function closeEntry(): void {
  const o = <usize>(tlCount - 1);
  store<f64>(tlDuration + (o << 3), openDuration);
  store<f64>(tlIdle + (o << 3), openIdle);
  store<i32>(tlNode + (o << 2), openNode);
  store<f64>(tlDominant + (o << 3), openDominant);
  store<u8>(tlMixed + o, openMixed);
}

/** Completes the tables for reading, once every sample is charged. */
export function tablesFinish(): void {
  if (tlCount > 0) closeEntry();
}
