// Output files appear whole or not at all: written under a temporary name beside the target, then
// renamed. A failure removes the temporary file.

import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeAtomically(path: string, chunks: Iterable<string | Uint8Array>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temp, 'w');
  try {
    let pending = '';
    for (const chunk of chunks) {
      if (typeof chunk !== 'string') {
        // Bytes (a binary export) go out as they are, after the text before them.
        await file.write(pending);
        pending = '';
        await file.write(chunk);
        continue;
      }
      pending += chunk;
      if (pending.length >= 1 << 20) {
        await file.write(pending);
        pending = '';
      }
    }
    await file.write(pending);
    await file.close();
    await rename(temp, path);
  } catch (error) {
    await file.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
}
