// The program's source files, read on demand from the machine that analyses the recording. Only
// used to place a finding on the exact line of a call that the profile names but cannot place
// (V8 records no call-site lines for callers). A file that is missing, huge or not text is simply
// not used: the finding then points at the function.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { SourceLookup } from './model.js';

const MAX_SOURCE_BYTES = 4 << 20;

/**
 * A recording that moved together with its program (a clone of a repository elsewhere, a copied
 * folder) names files that no longer exist: those under the directory it was recorded in
 * (`recordedCwd`) are looked for under each directory that holds the recording now, nearest first,
 * and named by where they are found. Files that exist, or are found nowhere, keep their names.
 */
export function relocator(recordedCwd: string, recordingDir: string): (file: string) => string {
  const found = new Map<string, string>();
  return (file) => {
    let at = found.get(file);
    if (at === undefined) {
      at = file;
      const rel = relative(recordedCwd, file);
      if (isAbsolute(file) && rel && !rel.startsWith('..') && !isAbsolute(rel) && !existsSync(file)) {
        for (let dir = resolve(recordingDir); ; dir = dirname(dir)) {
          if (existsSync(join(dir, rel))) {
            at = join(dir, rel);
            break;
          }
          if (dirname(dir) === dir) break;
        }
      }
      found.set(file, at);
    }
    return at;
  };
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

export function fileSources(): SourceLookup {
  const cache = new Map<string, string[] | undefined>();
  return {
    lines(file: string): string[] | undefined {
      if (!cache.has(file)) cache.set(file, readLines(file));
      return cache.get(file);
    },
  };
}
