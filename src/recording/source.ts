// The program's source files, read on demand from the machine that analyses the recording. Only
// used to place a finding on the exact line of a call that the profile names but cannot place
// (V8 records no call-site lines for callers). A file that is missing, huge or not text is simply
// not used: the finding then points at the function.

import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { SourceLookup } from './model.js';

const MAX_SOURCE_BYTES = 4 << 20;

export function fileSources(): SourceLookup {
  const cache = new Map<string, string[] | undefined>();
  return {
    lines(file: string): string[] | undefined {
      if (cache.has(file)) return cache.get(file);
      let lines: string[] | undefined;
      try {
        if (isAbsolute(file) && statSync(file).size <= MAX_SOURCE_BYTES) {
          const text = readFileSync(file, 'utf8');
          if (!text.includes('\u0000')) lines = text.split('\n');
        }
      } catch {
        lines = undefined;
      }
      cache.set(file, lines);
      return lines;
    },
  };
}
