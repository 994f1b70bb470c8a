// The incremental cache: a row's numbers keyed by the input's content (sha256 of its bytes, read as a
// stream; for a recording, of its files' hashes in name order) and the loopscope version, one small
// JSON file per input.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isSummary, type Summary } from './row.js';

export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version ?? '0';
  } catch {
    return '0';
  }
})();

/** node_modules/.cache/loopscope when the working directory has node_modules, else the user's cache. */
export function defaultCacheDir(cwd = process.cwd()): string {
  const modules = join(cwd, 'node_modules');
  try {
    if (existsSync(modules) && statSync(modules).isDirectory()) return join(modules, '.cache', 'loopscope');
  } catch {
    // fall through to the user's cache
  }
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'loopscope');
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export async function hashRecording(dir: string): Promise<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash('sha256');
  for (const name of entries) hash.update(`${name}\0${await hashFile(join(dir, name))}\n`);
  return hash.digest('hex');
}

export function cacheKey(contentHash: string, recording: boolean): string {
  return createHash('sha256').update(`loopscope ${VERSION}\n${recording ? 'recording' : 'file'}\n${contentHash}`).digest('hex');
}

export async function readCached(dir: string, key: string): Promise<Summary | null> {
  try {
    const entry = JSON.parse(await readFile(join(dir, `${key}.json`), 'utf8'));
    return entry?.version === VERSION && isSummary(entry.summary) ? entry.summary : null;
  } catch {
    return null;
  }
}

/** Written under a temporary name and renamed, so that concurrent runs never read half an entry. */
export async function writeCached(dir: string, key: string, summary: Summary): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${key}.json`);
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temp, JSON.stringify({ version: VERSION, summary }) + '\n');
    await rename(temp, path);
  } catch {
    await rm(temp, { force: true }); // a cache that cannot be written only costs time
  }
}
