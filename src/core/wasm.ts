// Loads the WASM core and gives typed access to its exports. The same .wasm runs in the browser;
// only `loadCore`'s way of fetching the bytes differs there.

import { mark } from './timing.js';

export interface CoreExports {
  memory: WebAssembly.Memory;
  init(windowBytes: number): number;
  windowPtr(which: number): number;
  profileBegin(nodeCount: number, denseIds: number, timelineCapacity: number): number;
  scanBegin(): void;
  scanFeed(ptr: number, n: number, base: number): number;
  scanFinish(size: number): number;
  scanError(): number;
  scanErrorOffset(): number;
  scanErrorByte(): number;
  scanState(): number;
  scanInString(): number;
  entriesCount(): number;
  entryKeyPtr(i: number): number;
  entryKeyLength(i: number): number;
  entryFirstByte(i: number): number;
  entryValueStart(i: number): number;
  entryValueEnd(i: number): number;
  pairBegin(timestamps: number, startTime: number, endTime: number): void;
  pairWindow(stream: number, ptr: number, n: number, last: number): void;
  pairRun(): number;
  pairFinish(): void;
  pairSamples(): number;
  pushSample(node: number, time: number): void;
  pairErrorStream(): number;
  pairErrorAt(): number;
  pairErrorValue(): number;
  pairErrorIndex(): number;
  mapNode(id: number, index: number): number;
  setIdle(index: number): void;
  nodeSelfPtr(): number;
  nodeSamplesPtr(): number;
  timelineCount(): number;
  timelineStartPtr(): number;
  timelineDurationPtr(): number;
  timelineIdlePtr(): number;
  timelineNodePtr(): number;
  timelineResolution(): number;
  clampedSamples(): number;
}

/** Default window: big enough that per-call overhead vanishes, small enough to keep memory flat. */
export const DEFAULT_WINDOW_BYTES = 4 << 20;

export class Core {
  readonly exports: CoreExports;
  readonly windowBytes: number;

  constructor(instance: WebAssembly.Instance, windowBytes: number) {
    this.exports = instance.exports as unknown as CoreExports;
    this.windowBytes = windowBytes;
    if (!this.exports.init(windowBytes)) throw new Error('the WASM core could not allocate its windows');
  }

  /** A view of window 0 or 1 (re-created each time: growing memory detaches old views). */
  window(which: 0 | 1): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer, this.exports.windowPtr(which), this.windowBytes);
  }

  bytes(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer, ptr, length);
  }

  /** A copy of `count` f64 values at `ptr`: tables are reused by the next profile. */
  f64(ptr: number, count: number): Float64Array {
    return new Float64Array(this.exports.memory.buffer, ptr, count).slice();
  }

  i32(ptr: number, count: number): Int32Array {
    return new Int32Array(this.exports.memory.buffer, ptr, count).slice();
  }
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** Compiles the core once per process; each call gets its own instance (its own memory). */
export async function loadCore(windowBytes = DEFAULT_WINDOW_BYTES, wasm?: () => Promise<BufferSource>): Promise<Core> {
  compiled ??= (async () => {
    const bytes = wasm ? await wasm() : await readBundledWasm();
    return WebAssembly.compile(bytes);
  })();
  const instance = await WebAssembly.instantiate(await compiled, {
    env: {
      abort() {
        throw new Error('the WASM core aborted');
      },
    },
  });
  const core = new Core(instance, windowBytes);
  mark('WASM core compiled and instantiated');
  return core;
}

async function readBundledWasm(): Promise<BufferSource> {
  const { readFile } = await import('node:fs/promises');
  // dist/src/core/wasm.js -> build/core.wasm at the package root.
  return readFile(new URL('../../../build/core.wasm', import.meta.url));
}
