// A bump allocator over raw linear memory. The core keeps no managed objects: its tables are plain
// arrays of numbers that the host reads through typed-array views. `release(mark)` frees everything
// allocated after `mark`, so one instance analyses many profiles without growing.

let top: usize = 0;
let dirty: usize = 0; // memory below this may have been written; grown memory above it is zero

function heapStart(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** Returns a 16-byte aligned block of `size` zeroed bytes, or 0 when memory cannot grow. */
export function alloc(size: usize): usize {
  if (top == 0) top = heapStart();
  const ptr = (top + 15) & ~(<usize>15);
  const end = ptr + size;
  const pages = <i32>((end + 0xffff) >>> 16);
  const have = memory.size();
  if (pages > have && memory.grow(pages - have) < 0) return 0;
  // Only memory used before needs clearing: touching fresh pages would only cost page faults.
  if (ptr < dirty) memory.fill(ptr, 0, min(size, dirty - ptr));
  top = end;
  if (end > dirty) dirty = end;
  return ptr;
}

export function mark(): usize {
  if (top == 0) top = heapStart();
  return top;
}

export function release(to: usize): void {
  top = to;
}
