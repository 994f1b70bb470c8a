// Source maps: frames and per-line ticks of compiled or bundled scripts (TypeScript, esbuild,
// webpack...) reported at their original file and line. Applied to a Profile after import.
//
// A script's map is, in this order: an inline `//# sourceMappingURL=data:...`; the file its
// sourceMappingURL names, beside the script, then in the extra directory (by its base name); the
// script's name plus `.map` beside it, then in the extra directory. A map from the extra directory
// was made beside its script, so its relative sources resolve from the script's directory. The maps are parsed and searched
// with @jridgewell/trace-mapping. No I/O here (the viewer can use this module too): the caller
// passes a function that reads a file's text.
//
// A frame maps at its function's position (line and column). V8's line ticks have no column: a
// ticked line maps at its first mapped position (the statement that starts it), or, on the
// function's own line, at the first mapped position from the function's column on (minified code
// puts a whole function on one line; its ticks then count on the function's first line). A line
// that maps to another source than its function, or to nothing, counts on the function's line. A
// missing or broken map leaves the script's positions as they are.

import { LEAST_UPPER_BOUND, originalPositionFor, TraceMap, traceSegment } from '@jridgewell/trace-mapping';
import type { Frame, Profile } from '../model.js';
import { fileOf, frameKind } from './frames.js';

/** The text of a file, or undefined when it cannot be read. */
export type ReadText = (path: string) => Promise<string | undefined>;

export interface SourceMapOptions {
  read: ReadText;
  /** Another directory to look for maps in (`--source-maps DIR`). */
  dir?: string;
}

interface Loaded {
  map: TraceMap;
  /** The script's lines, to check a renamed function's name (undefined: not read). */
  lines?: string[];
}

interface Position {
  file: string;
  line: number;
  column: number;
  name: string | null;
}

/** Returns `profile` with its frames and line ticks at their original positions where a map says. */
export async function applySourceMaps(profile: Profile, options: SourceMapOptions): Promise<Profile> {
  const maps = new Map<string, Loaded | null>();
  for (const frame of profile.frames) {
    if (!maps.has(frame.file) && mappable(frame)) maps.set(frame.file, await loadMap(frame.file, options));
  }
  if (![...maps.values()].some((m) => m)) return profile;

  // Each frame at its function's original position (null: unmapped).
  const origin: (Position | null)[] = profile.frames.map((frame) => {
    const loaded = mappable(frame) ? maps.get(frame.file) : null;
    return loaded && frame.line > 0 ? lookup(loaded.map, frame.line, Math.max(0, frame.column - 1)) : null;
  });
  const frames = profile.frames.map((frame, i): Frame => {
    const o = origin[i];
    if (!o) return frame;
    const name = originalName(maps.get(frame.file)!, frame) ?? frame.name;
    return { name, file: o.file, line: o.line, column: o.column + 1, kind: frameKind(name, o.file, '1') };
  });

  const nodeLineTicks = profile.nodeLineTicks.map((ticks, node) => {
    const f = profile.nodeFrame[node];
    const o = origin[f];
    if (!ticks || !o) return ticks;
    const { map } = maps.get(profile.frames[f].file)!;
    const generated = profile.frames[f];
    const byLine = new Map<number, number>();
    for (let k = 0; k < ticks.length; k += 2) {
      const line = ticks[k];
      const column = line === generated.line ? Math.max(0, generated.column - 1) : 0;
      const p = lookup(map, line, column);
      const original = p && p.file === o.file ? p.line : o.line;
      byLine.set(original, (byLine.get(original) ?? 0) + ticks[k + 1]);
    }
    const out = new Uint32Array(byLine.size * 2);
    let k = 0;
    for (const [line, count] of byLine) {
      out[k++] = line;
      out[k++] = count;
    }
    return out;
  });
  return { ...profile, frames, nodeLineTicks };
}

/**
 * Frames that may have a map: the program's code and its dependencies, from a file, or from a web
 * address (a browser's profile), whose map only the extra directory can hold.
 */
function mappable(frame: Frame): boolean {
  return (frame.kind === 'user' || frame.kind === 'dependency') && (isPath(frame.file) || /^https?:\/\//.test(frame.file));
}

function isPath(file: string): boolean {
  return file.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(file);
}

/**
 * A minifier renames functions: `function n(e)`. V8 places a function at its parameters, so the
 * mapping just before that is the name's, and the map's name for it is the original one, taken when
 * the script's text there is the name V8 reports.
 */
function originalName({ map, lines }: Loaded, frame: Frame): string | undefined {
  if (!lines || frame.column < 2) return undefined;
  try {
    const segment = traceSegment(map, frame.line - 1, frame.column - 2);
    if (!segment || segment.length !== 5) return undefined;
    const generated = /^[\w$]+/.exec(lines[frame.line - 1]?.slice(segment[0]) ?? '')?.[0];
    return generated === frame.name ? map.names[segment[4]] : undefined;
  } catch {
    return undefined;
  }
}

/** The original position of a generated one (1-based line, 0-based column), at or after the column. */
function lookup(map: TraceMap, line: number, column: number): Position | null {
  try {
    const p = originalPositionFor(map, { line, column, bias: LEAST_UPPER_BOUND });
    if (p.source === null || p.line === null) return null;
    return { file: fileOf(p.source), line: p.line, column: p.column ?? 0, name: p.name };
  } catch {
    return null; // mappings that do not decode
  }
}

async function loadMap(script: string, options: SourceMapOptions): Promise<Loaded | null> {
  const text = await options.read(script);
  const map = await findMap(script, text, options);
  return map ? { map, lines: text?.split('\n') } : null;
}

async function findMap(script: string, text: string | undefined, { read, dir }: SourceMapOptions): Promise<TraceMap | null> {
  const url = text === undefined ? undefined : sourceMappingUrl(text);
  if (url?.startsWith('data:')) return parseMap(decodeDataUrl(url), script);
  // A map found in the extra directory was made beside the script: its sources resolve from there.
  const candidates: { path: string; base: string }[] = [];
  const beside = (path: string) => ({ path, base: path });
  const elsewhere = (name: string) => ({ path: joinPath(dir!, name), base: joinPath(dirname(script), name) });
  if (url && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url)) candidates.push(beside(resolvePath(dirname(script), decode(url))));
  else if (url?.startsWith('file://')) candidates.push(beside(fileOf(url)));
  if (url && dir) candidates.push(elsewhere(basename(decode(url.split(/[?#]/)[0]))));
  candidates.push(beside(`${script}.map`));
  if (dir) candidates.push(elsewhere(`${basename(script.split(/[?#]/)[0])}.map`));
  for (const { path, base } of candidates) {
    const json = await read(path);
    if (json === undefined) continue;
    const map = parseMap(json, base);
    if (map) return map;
  }
  return null;
}

function parseMap(json: string | undefined, url: string): TraceMap | null {
  if (json === undefined) return null;
  try {
    return new TraceMap(json, url);
  } catch {
    return null; // not JSON, or not a source map
  }
}

/** The URL of the last `//# sourceMappingURL=` comment (also the old `//@` form). */
export function sourceMappingUrl(text: string): string | undefined {
  const re = /\/\/[#@][ \t]*sourceMappingURL=([^\s'"]+)[ \t]*$/gm;
  let url: string | undefined;
  // Only the last one counts; a bundle may contain others inside strings of its modules.
  for (const m of text.slice(-Math.min(text.length, 4 << 20)).matchAll(re)) url = m[1];
  return url;
}

function decodeDataUrl(url: string): string | undefined {
  const comma = url.indexOf(',');
  if (comma < 0) return undefined;
  const meta = url.slice(5, comma);
  const data = url.slice(comma + 1);
  try {
    if (!/;base64$/i.test(meta)) return decodeURIComponent(data);
    const binary = atob(data);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

function decode(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

function dirname(path: string): string {
  if (/^https?:\/\//.test(path)) return path.slice(0, path.split(/[?#]/)[0].lastIndexOf('/'));
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i <= 0 ? (i === 0 ? '/' : '.') : path.slice(0, i);
}

function basename(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function joinPath(dir: string, name: string): string {
  return `${dir.replace(/[\\/]+$/, '')}/${name}`;
}

/** `relative` resolved against `dir`, with `.` and `..` segments removed. */
function resolvePath(dir: string, relative: string): string {
  if (isPath(relative)) return relative;
  const parts = `${dir}/${relative}`.split(/[\\/]+/);
  const out: string[] = [];
  for (const part of parts) {
    if (part === '.') continue;
    if (part === '..') {
      if (out.length > 1) out.pop();
    } else out.push(part);
  }
  return out.join('/') || '/';
}
