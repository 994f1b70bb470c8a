// What every importer does to a frame: name its kind and turn its URL into a file for reports.

import { isCollectorUrl } from '../collector/paths.js';
import type { Frame, FrameKind } from '../model.js';

const SPECIAL: Record<string, FrameKind> = {
  '(root)': 'root',
  '(program)': 'program',
  '(idle)': 'idle',
  '(garbage collector)': 'gc',
};

/** Python's standard library and installed packages. */
export const PYTHON_LIBRARY = /(^|[\\/])((site|dist)-packages|lib[\\/]python\d[\d.]*)[\\/]/;
const PYTHON_PACKAGES = /(^|[\\/])(site|dist)-packages[\\/]/;

/** The kind of a frame from its function name and script URL (see SPEC.md, per-line ratios). */
export function frameKind(name: string, url: string, scriptId = '0'): FrameKind {
  // A script without a URL (eval, the DevTools console) is still the user's JavaScript.
  // Own keys only: a function named `toString` or `constructor` is no special frame.
  if (url === '') return (Object.hasOwn(SPECIAL, name) ? SPECIAL[name] : undefined) ?? (scriptId === '0' || scriptId === '' ? 'native' : 'user');
  // The recorder's own work is never the program's code.
  if (isCollectorUrl(url)) return 'recorder';
  if (url.startsWith('node:')) return 'internal';
  // Python source: installed packages are dependencies, the standard library is the runtime's own.
  if (url.endsWith('.py') && PYTHON_LIBRARY.test(url)) return PYTHON_PACKAGES.test(url) ? 'dependency' : 'internal';
  // WebAssembly has no source file of the user's to point at (in Node it is mostly undici's llhttp).
  if (url.includes('/node_modules/') || url.startsWith('node_modules/') || url.startsWith('wasm://')) return 'dependency';
  // Old Node versions name their own scripts without a scheme: 'internal/timers.js', 'events.js'.
  if (!url.startsWith('/') && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url)) return 'internal';
  return 'user';
}

/** An absolute path for file:// URLs, the URL as recorded otherwise. */
export function fileOf(url: string): string {
  if (!url.startsWith('file://')) return url;
  // Decoded by hand rather than with node:url, so importers run unchanged in the browser.
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return url;
  }
}

/** Interns frames so that equal frames share one index. */
export class FrameTable {
  readonly frames: Frame[] = [];
  private readonly index = new Map<string, number>();

  /** `line` and `column` are 0-based as V8 records them (-1: unknown). */
  intern(name: string, url: string, line: number, column: number, scriptId = '0'): number {
    const key = `${name}\u0000${url}\u0000${line}\u0000${column}\u0000${url ? '' : scriptId}`;
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.frames.length;
      this.frames.push({
        name: name || '(anonymous)',
        file: fileOf(url),
        line: line >= 0 ? line + 1 : 0,
        column: column >= 0 ? column + 1 : 0,
        kind: frameKind(name, url, scriptId),
      });
      this.index.set(key, i);
    }
    return i;
  }
}

/** A V8 CPU profile node as JSON gives it (a `.cpuprofile`, a DevTools trace's ProfileChunk). */
export interface V8Node {
  callFrame: { functionName?: unknown; url?: unknown; lineNumber?: unknown; columnNumber?: unknown; scriptId?: unknown };
  positionTicks?: unknown;
}

/** The frame of a V8 node, interned. */
export function internCallFrame(frames: FrameTable, node: V8Node): number {
  const f = node.callFrame;
  return frames.intern(
    String(f.functionName ?? ''),
    String(f.url ?? ''),
    typeof f.lineNumber === 'number' ? f.lineNumber : -1,
    typeof f.columnNumber === 'number' ? f.columnNumber : -1,
    String(f.scriptId ?? '0'),
  );
}

/** A V8 node's `positionTicks` as [line, ticks] pairs, or undefined when it has none. */
export function lineTicksOf(node: V8Node): Uint32Array | undefined {
  const ticks = Array.isArray(node.positionTicks) ? (node.positionTicks as { line?: unknown; ticks?: unknown }[]) : [];
  if (!ticks.length) return undefined;
  const pairs = new Uint32Array(ticks.length * 2);
  ticks.forEach((t, k) => {
    pairs[2 * k] = Number(t?.line) || 0;
    pairs[2 * k + 1] = Number(t?.ticks) || 0;
  });
  return pairs;
}
