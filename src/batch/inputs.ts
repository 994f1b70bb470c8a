// Which inputs a batch reads: files named on the command line, directories (a `collect` recording
// is one input; other directories are walked for profiles), and glob patterns; and which of them a
// shard takes.

import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { MANIFEST } from '../collector/format.js';
import { InputError } from '../model.js';

export interface BatchInput {
  /** As shown in the rows: the argument, or the argument joined with the path below it. */
  trace: string;
  /** A `collect` recording directory rather than one file. */
  recording: boolean;
}

const PROFILE_NAME = /\.(cpuprofile|heapprofile|json|prof|pb\.gz|txt|folded|collapsed)$/i;
const toPosix = (path: string) => (sep === '/' ? path : path.split(sep).join('/'));

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

async function isRecording(dir: string): Promise<boolean> {
  return Boolean((await statOrNull(join(dir, MANIFEST)))?.isFile());
}

/** Profiles under `dir`, recordings as one input each; hidden directories and node_modules are skipped. */
async function walk(dir: string, out: BatchInput[]): Promise<void> {
  if (await isRecording(dir)) {
    out.push({ trace: dir, recording: true });
    return;
  }
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    out.push({ trace: dir, recording: false }); // unreadable: its row says why
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = toPosix(join(dir, entry.name));
    if (entry.isDirectory()) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      await walk(path, out);
    } else if (PROFILE_NAME.test(entry.name)) {
      if (entry.isFile() || (entry.isSymbolicLink() && (await statOrNull(path))?.isFile())) out.push({ trace: path, recording: false });
    }
  }
}

const GLOB_CHAR = /[*?[]/;

/** A glob pattern as a regular expression over '/'-separated paths: *, ?, [...] and ** (any depth). */
export function globRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const slash = pattern[i + 2] === '/';
        source += slash ? '(?:[^/]*/)*' : '.*';
        i += slash ? 2 : 1;
      } else source += '[^/]*';
    } else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        const body = pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

async function expandGlob(pattern: string): Promise<string[]> {
  const parts = toPosix(pattern).split('/');
  const firstGlob = parts.findIndex((p) => GLOB_CHAR.test(p));
  const base = parts.slice(0, firstGlob).join('/') || (pattern.startsWith('/') ? '/' : '.');
  const matcher = globRegExp(toPosix(pattern));
  const deep = parts.slice(firstGlob).some((p) => p === '**' || p.includes('**'));
  const maxDepth = deep ? Infinity : parts.length - firstGlob;
  const matches: string[] = [];
  const visit = async (dir: string, depth: number) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') && !/(^|\/)\.[^/]/.test(pattern)) continue;
      const path = base === '.' && !pattern.startsWith('./') && dir === '.' ? entry.name : `${dir === '/' ? '' : dir}/${entry.name}`;
      if (matcher.test(path)) matches.push(path);
      if (entry.isDirectory() && depth + 1 < maxDepth && entry.name !== 'node_modules') await visit(path, depth + 1);
    }
  };
  await visit(base, 0);
  return matches.sort();
}

/** The inputs the arguments name, each once, sorted by their path. */
export async function collectInputs(args: string[], warn: (message: string) => void): Promise<BatchInput[]> {
  const found: BatchInput[] = [];
  for (const arg of args) {
    const paths = GLOB_CHAR.test(arg) && !(await statOrNull(arg)) ? await expandGlob(arg) : [arg];
    if (paths.length === 0) warn(`${arg}: matches nothing`);
    for (const path of paths) {
      const info = await statOrNull(path);
      if (info?.isDirectory()) await walk(toPosix(path), found);
      else found.push({ trace: toPosix(path), recording: false }); // a missing file gets an error row
    }
  }
  const seen = new Set<string>();
  const inputs = found.filter((input) => {
    const key = resolve(input.trace);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (inputs.length === 0) throw new InputError('no inputs: no profiles or recordings under the given paths');
  return inputs.sort((a, b) => (a.trace < b.trace ? -1 : a.trace > b.trace ? 1 : 0));
}

/** The deepest directory holding every input. */
export function commonRoot(inputs: BatchInput[]): string {
  const dirs = inputs.map((i) => dirname(resolve(i.trace)));
  let root = dirs[0] ?? resolve('.');
  for (const dir of dirs) {
    while (root !== dirname(root) && dir !== root && !dir.startsWith(root.endsWith(sep) ? root : root + sep)) root = dirname(root);
  }
  return root;
}

export interface Shard {
  k: number;
  n: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new InputError(`--shard must be K/N with 1 <= K <= N, not "${text}"`);
  return { k, n };
}

/** The shard (1-based) an input belongs to: a hash of its path relative to the common root, mod N. */
export function shardOf(input: BatchInput, root: string, n: number): number {
  const rel = toPosix(relative(root, resolve(input.trace)));
  const digest = createHash('sha256').update(rel).digest();
  return (digest.readUInt32BE(0) % n) + 1;
}
