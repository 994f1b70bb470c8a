// Speedscope's importer snapshots (corpus/speedscope/expected/*.snap) as an oracle, and loopscope's
// per-frame weights to compare with them: shared by the corpus and trace-event tests.

import assert from 'node:assert/strict';
import type { Frame, Profile } from '../src/model.js';

// ---------------------------------------------------------------------------------------------
// Frame identity: name, file, 1-based line and column (0: unknown).

export interface Identity {
  name: string;
  file: string;
  line: number;
  col: number;
}
export const keyOf = (f: Identity): string => JSON.stringify([f.name, f.file, f.line, f.col]);

export interface Weights {
  self: number;
  total: number;
}

// ---------------------------------------------------------------------------------------------
// The Jest snapshot file

export interface SnapshotFrame extends Identity {
  key: string;
  selfWeight: number;
  totalWeight: number;
}

export interface Snapshot {
  frames: SnapshotFrame[];
  /** Folded stacks ('' is the empty stack) and their weights in µs, rounded as speedscope prints them. */
  stacks: { stack: string; us: number; roundingUs: number }[];
}

/** The body of `exports[`title`] = `...`;`, with the template literal's escapes undone. */
export function snapshotBody(text: string, title: string): string {
  const opening = 'exports[`' + title + '`] = `';
  const start = text.indexOf(opening);
  assert.ok(start >= 0, `snapshot "${title}" not found`);
  const end = text.indexOf('\n`;', start + opening.length);
  assert.ok(end >= 0, `snapshot "${title}" does not end`);
  return text.slice(start + opening.length, end).replace(/\\(\\|`|\$\{)/g, '$1');
}

/** A pretty-format value: a JSON string or number. */
export function snapshotValue(raw: string): string | number | null {
  // Frames without a file or line print as undefined (trace events) or null (Hermes).
  if (raw === 'undefined' || raw === 'null') return null;
  // pretty-format prints strings between quotes without escaping anything inside.
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1);
  const value: unknown = JSON.parse(raw);
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`unexpected snapshot value ${raw}`);
  return value;
}

/** speedscope's time formatter (microseconds in, "12.34ms" out), read back with its rounding. */
export function parseDuration(text: string): { us: number; roundingUs: number } {
  const m = /^(\d+(?:\.\d+)?)(ns|µs|ms|s)$/.exec(text);
  if (!m) throw new Error(`unexpected duration "${text}"`);
  const scale = { ns: 1e-3, µs: 1, ms: 1e3, s: 1e6 }[m[2] as 'ns' | 'µs' | 'ms' | 's'];
  const decimals = m[1].includes('.') ? m[1].length - m[1].indexOf('.') - 1 : 0;
  return { us: Number(m[1]) * scale, roundingUs: 0.5 * 10 ** -decimals * scale };
}

export function parseSnapshot(text: string, title: string): Snapshot {
  const frames: SnapshotFrame[] = [];
  const stacks: Snapshot['stacks'] = [];
  let frame: Record<string, string | number | null> | undefined;
  let inStacks = false;
  const body = snapshotBody(text, title);
  for (const line of body.split('\n')) {
    const t = line.trim();
    if (t === 'Frame {') {
      frame = {};
    } else if (frame && t === '},') {
      frame.file ??= '';
      frame.line ??= 0;
      frame.col ??= 0;
      for (const field of ['name', 'file', 'key'] as const) assert.equal(typeof frame[field], 'string', `${title}: frame.${field}`);
      for (const field of ['line', 'col', 'selfWeight', 'totalWeight'] as const) {
        assert.equal(typeof frame[field], 'number', `${title}: frame.${field}`);
      }
      frames.push(frame as unknown as SnapshotFrame);
      frame = undefined;
    } else if (frame) {
      const m = /^"(\w+)": (.*),$/.exec(t);
      assert.ok(m, `${title}: unexpected frame line ${t}`);
      frame[m[1]] = snapshotValue(m[2]);
    } else if (t === '"stacks": [') {
      inStacks = true;
    } else if (inStacks && t === '],') {
      inStacks = false;
    } else if (inStacks) {
      const folded = snapshotValue(t.replace(/,$/, ''));
      assert.equal(typeof folded, 'string');
      const s = folded as string;
      const space = s.lastIndexOf(' ');
      stacks.push({ stack: s.slice(0, space), ...parseDuration(s.slice(space + 1)) });
    }
  }
  assert.ok(frames.length > 0, `${title}: no frames parsed`);
  assert.ok(stacks.length > 0 || body.includes('"stacks": [],'), `${title}: no stacks parsed`);
  return { frames, stacks };
}


// ---------------------------------------------------------------------------------------------
// Our side: per-frame weights from the Profile's node tables

/**
 * Self and total weight (µs) per frame identity (`identify`: the full identity by default); a frame
 * counts once per sample even when recursive.
 */
export function ourWeights(profile: Profile, identify: (f: Frame) => string = (f) => keyOf({ name: f.name, file: f.file, line: f.line, col: f.column })): Map<string, Weights> {
  const identity = profile.frames.map(identify);
  const ids = [...new Set(identity)];
  const idOf = new Map(ids.map((k, i) => [k, i]));
  const frameId = identity.map((k) => idOf.get(k)!);
  const self = new Float64Array(ids.length);
  const total = new Float64Array(ids.length);
  const seen = new Int32Array(ids.length).fill(-1);
  for (let node = 0; node < profile.nodeParent.length; node++) {
    const us = profile.nodeSelfMs[node] * 1000;
    if (us === 0) continue;
    self[frameId[profile.nodeFrame[node]]] += us;
    for (let i = node; i >= 0; i = profile.nodeParent[i]) {
      const frame = profile.nodeFrame[i];
      if (profile.frames[frame].kind === 'root') continue;
      const id = frameId[frame];
      if (seen[id] === node) continue;
      seen[id] = node;
      total[id] += us;
    }
  }
  const out = new Map<string, Weights>();
  ids.forEach((k, i) => {
    if (profile.frames[identity.indexOf(k)].kind !== 'root') out.set(k, { self: self[i], total: total[i] });
  });
  return out;
}

/** Tolerance for sums of µs that went through ms and back. */
export const closeUs = (got: number, want: number) => Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want));

/** Every difference between two per-frame weight tables, as readable lines. */
export function weightDifferences(got: Map<string, Weights>, want: Map<string, Weights>, fields: (keyof Weights)[]): string[] {
  const out: string[] = [];
  for (const [k, w] of want) {
    const g = got.get(k);
    if (!g) {
      out.push(`frame ${k} missing (expected ${JSON.stringify(w)})`);
      continue;
    }
    for (const f of fields) if (!closeUs(g[f], w[f])) out.push(`frame ${k}: ${f} expected ${w[f]} µs, got ${g[f]} µs`);
  }
  for (const [k, g] of got) {
    if (!want.has(k) && (g.self !== 0 || g.total !== 0)) out.push(`unexpected frame ${k}: ${JSON.stringify(g)}`);
  }
  return out;
}

