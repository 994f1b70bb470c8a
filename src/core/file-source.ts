// Node's file sources: a path read with positional reads; standard input spilled to a temporary
// file first, since the importers read at two places at once.

import { createWriteStream, readSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../model.js';
import type { ByteSource } from './source.js';

export async function openFile(path: string): Promise<ByteSource> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new InputError(`${path}: ${describe(error)}`);
  }
  if (info.isDirectory()) throw new InputError(`${path}: is a directory, not a profile`);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new InputError(`${path}: ${describe(error)}`);
  }
  const file = handle;
  return {
    name: path,
    size: info.size,
    // Synchronous positional reads: the analysis waits for each chunk anyway, and a round trip
    // through the thread pool per 4 MB chunk costs more than the read from the page cache.
    async read(offset, into) {
      return readSync(file.fd, into, 0, into.length, offset);
    },
    close: () => file.close(),
  };
}

/** Copies standard input to a temporary file and opens it; the file is removed on close. */
export async function openStdin(): Promise<ByteSource> {
  const dir = await mkdtemp(join(tmpdir(), 'loopscope-'));
  const path = join(dir, 'stdin');
  await pipeline(process.stdin, createWriteStream(path));
  const source = await openFile(path);
  return {
    ...source,
    name: 'standard input',
    async close() {
      await source.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (error as Error).message;
}
