// The program's source files, read on demand from the machine that analyses the recording. Only
// used to place a finding on the exact line of a call that the profile names but cannot place
// (V8 records no call-site lines for callers). A file that is missing, huge or not text is simply
// not used: the finding then points at the function.

import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { SourceLookup } from './model.js';

const MAX_SOURCE_BYTES = 4 << 20;

/**
 * A recording that moved together with its program (a clone of a repository elsewhere, a copied
 * folder): files under the directory it was recorded in (`recordedCwd`) are also looked for under
 * each directory that holds the recording now, nearest first.
 */
export interface Moved {
  recordedCwd: string;
  recordingDir: string;
}

function readLines(file: string): string[] | undefined {
  try {
    if (isAbsolute(file) && statSync(file).size <= MAX_SOURCE_BYTES) {
      const text = readFileSync(file, 'utf8');
      if (!text.includes('\u0000')) return text.split('\n');
    }
  } catch {
    // missing or unreadable: not used
  }
  return undefined;
}

function movedCandidates(file: string, moved: Moved): string[] {
  const rel = relative(moved.recordedCwd, file);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return [];
  const candidates: string[] = [];
  for (let dir = resolve(moved.recordingDir); ; dir = dirname(dir)) {
    candidates.push(join(dir, rel));
    if (dirname(dir) === dir) return candidates;
  }
}

export function fileSources(moved?: Moved): SourceLookup {
  const cache = new Map<string, string[] | undefined>();
  return {
    lines(file: string): string[] | undefined {
      if (cache.has(file)) return cache.get(file);
      let lines = readLines(file);
      if (!lines && moved) {
        for (const candidate of movedCandidates(file, moved)) if ((lines = readLines(candidate))) break;
      }
      cache.set(file, lines);
      return lines;
    },
  };
}
