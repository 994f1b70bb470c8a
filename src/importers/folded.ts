// Folded stacks: the "collapsed" format of flamegraph.pl, written by stackcollapse-perf.pl and its
// siblings, py-spy (--format raw), austin and others. One line per distinct stack:
//
//   frame;frame;frame count
//
// outermost frame first, the count (a number of samples) after the last space. Files come as UTF-8,
// with CRLF line ends, or as UTF-16 LE/BE with a byte-order mark. Blank lines are ignored; other
// lines without this form (comments, garbage) are skipped and counted, as speedscope skips them. The
// file is read in chunks and decoded as a stream, so its size does not matter (no giant string).
//
// Frames keep their name as given. py-spy and austin write `name (path:line)`: the path and line
// are taken from it as the frame's file and line.
//
// The samples have no timestamps: 1 sample = 1 ms, and each line's samples follow the previous
// line's (time = running sum of the counts), which the format string says; Profile.timeOrder 'none'.
//
// Waiting frames. A profiler that samples off-CPU time shows where the thread waited; at the leaf:
//   - the event loop waiting for I/O or timers is idle time: `select`, `poll`, `epoll_wait`,
//     `kevent` (the system calls behind selectors, libuv and asyncio) and asyncio's `_run_once`;
//     the stack gets a `(idle)` frame under its leaf.
//   - a thread blocked in a sleep or a lock is system time (a blocking call): `time.sleep`, `sleep`,
//     `futex`, `pthread_cond_wait`; the leaf frame counts as a native frame.

import type { ByteSource } from '../core/source.js';
import { readFully } from '../core/source.js';
import type { Core } from '../core/wasm.js';
import { InputError, type FrameKind, type Profile } from '../model.js';
import { frameKind, PYTHON_LIBRARY, type FrameTable } from './frames.js';
import { ProfileBuilder } from './tables.js';

/** Leaf frames (by name, without the ` (file:line)` part) in which the thread waits. */
export const WAITING_FRAMES: Record<string, 'idle' | 'system'> = {
  select: 'idle',
  poll: 'idle',
  epoll_wait: 'idle',
  kevent: 'idle',
  _run_once: 'idle',
  'time.sleep': 'system',
  sleep: 'system',
  futex: 'system',
  pthread_cond_wait: 'system',
};

/** Time one sample stands for. */
const SAMPLE_US = 1000;
const CHUNK = 1 << 22;

/**
 * Interns a frame of a format other than V8's (folded stacks, speedscope, pprof). V8's conventions
 * do not all hold there: a path without a scheme is not Node's own script, and Python's standard
 * library and installed packages are not the user's code. `noFile` is the kind of a frame that
 * names no file and no special V8 frame (perf's kernel frames, `name_[k]`, are always native).
 */
export function internForeign(
  frames: FrameTable,
  name: string,
  file: string,
  line0: number,
  col0: number,
  noFile: FrameKind,
): number {
  const index = frames.intern(name, file, line0, col0, noFile === 'native' ? '0' : '1');
  const frame = frames.frames[index];
  frame.kind = foreignKind(frame.name, file, noFile);
  return index;
}

function foreignKind(name: string, file: string, noFile: FrameKind): FrameKind {
  if (file === '') {
    const special = frameKind(name, '', '0');
    if (special !== 'native') return special;
    // perf marks kernel frames with _[k]: code outside the program.
    return /_\[k\]$/.test(name) ? 'native' : noFile;
  }
  const kind = frameKind(name, file, '1');
  // V8 takes a path without a scheme for one of Node's own scripts; elsewhere it is a source file.
  const sourceFile = kind === 'user' || (kind === 'internal' && !file.startsWith('node:'));
  if (!sourceFile) return kind;
  return PYTHON_LIBRARY.test(file) ? 'dependency' : 'user';
}

/**
 * True when `head` (the first bytes of an input that is not JSON; `whole` when they are all of it)
 * looks like folded stacks.
 */
export function looksFolded(head: Uint8Array, whole: boolean): boolean {
  if (hasBom16(head)) return true;
  for (const b of head) if (b === 0 || b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b)) return false;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const lines = text.split(/\r?\n/);
  // The last line may be cut off by the end of the head, unless the head is the whole input.
  const complete = whole || lines.length === 1 ? lines : lines.slice(0, -1);
  // As many stack lines as others at least: a text with a stray "word 12" line is not a profile.
  let valid = 0;
  let invalid = 0;
  for (const line of complete) {
    if (line.trim() === '') continue;
    if (parseLine(line)) valid++;
    else invalid++;
  }
  if (valid > 0 && valid >= invalid) return true;
  // One line longer than the head: a deep stack.
  return lines.length === 1 && text.includes(';');
}

function hasBom16(head: Uint8Array): boolean {
  return (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
}

const LINE = /^(.*\S) +(\d+(?:\.\d*)?)$/;
const PY_FRAME = /^(.*) \(([^()]*):(\d+)\)$/;

function parseLine(line: string): { stack: string; count: number } | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return { stack: m[1], count: Number(m[2]) };
}

export async function importFolded(source: ByteSource, core: Core): Promise<Profile> {
  const name = source.name;
  const builder = new ProfileBuilder();
  const frameOf = new Map<string, number>();
  const idleFrame = builder.frames.intern('(idle)', '', -1, -1);
  let timeUs = 0;
  let lines = 0;
  let valid = 0;
  let invalid = 0;
  let firstInvalid = 0;
  let samples = 0;

  const frame = (text: string, leaf: boolean): number => {
    const key = leaf ? `\u0001${text}` : text;
    let f = frameOf.get(key);
    if (f === undefined) {
      const py = PY_FRAME.exec(text);
      const bare = (py ? py[1] : text).trim();
      const waiting = leaf && Object.hasOwn(WAITING_FRAMES, bare) ? WAITING_FRAMES[bare] : undefined;
      if (waiting === 'system') f = builder.frames.intern(text, '', -1, -1, '0');
      else if (py) f = internForeign(builder.frames, text, py[2], Number(py[3]) - 1, -1, 'user');
      else f = internForeign(builder.frames, text, '', -1, -1, 'user');
      frameOf.set(key, f);
    }
    return f;
  };

  const onLine = (line: string): void => {
    lines++;
    if (line.trim() === '') return;
    const parsed = parseLine(line);
    if (!parsed || parsed.stack.trim() === '') {
      invalid++;
      firstInvalid ||= lines;
      return;
    }
    if (!Number.isFinite(parsed.count) || parsed.count > Number.MAX_SAFE_INTEGER) {
      throw new InputError(`${name}: line ${lines}: sample count ${parsed.count} is too large`);
    }
    valid++;
    const names = parsed.stack.split(';');
    let node = -1;
    for (let i = 0; i < names.length; i++) node = builder.node(node, frame(names[i], i === names.length - 1));
    const py = PY_FRAME.exec(names[names.length - 1]);
    const leaf = (py ? py[1] : names[names.length - 1]).trim();
    if (Object.hasOwn(WAITING_FRAMES, leaf) && WAITING_FRAMES[leaf] === 'idle') node = builder.node(node, idleFrame);
    builder.sample(node, timeUs);
    timeUs += parsed.count * SAMPLE_US;
    samples += parsed.count;
  };

  await readLines(source, onLine);

  if (valid === 0) {
    const where = firstInvalid ? `line ${firstInvalid} is not "frame;frame;... count"` : 'only blank lines';
    throw new InputError(`${name}: no folded stacks (${where})`);
  }
  const skipped = invalid ? `; ${invalid} invalid line${invalid === 1 ? '' : 's'} skipped (first: line ${firstInvalid})` : '';
  const profile = builder.finish(core, {
    source: name,
    format: `folded stacks (1 sample = 1 ms; ${samples} samples on ${valid} line${valid === 1 ? '' : 's'}${skipped})`,
    startUs: 0,
    endUs: timeUs,
  });
  profile.timeOrder = 'none';
  return profile;
}

/** Calls `onLine` for every line of the source (without its line end), decoding it as a stream. */
async function readLines(source: ByteSource, onLine: (line: string) => void): Promise<void> {
  const head = new Uint8Array(Math.min(3, source.size));
  await readFully(source, 0, head);
  let encoding = 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) encoding = 'utf-16le';
  else if (head[0] === 0xfe && head[1] === 0xff) encoding = 'utf-16be';
  // The decoder drops the byte-order mark itself.
  const decoder = new TextDecoder(encoding, { fatal: false });
  const chunk = new Uint8Array(Math.min(CHUNK, Math.max(source.size, 1)));
  let rest = '';
  for (let offset = 0; offset < source.size; ) {
    const n = await readFully(source, offset, chunk);
    if (n <= 0) break;
    offset += n;
    const text = rest + decoder.decode(chunk.subarray(0, n), { stream: true });
    const parts = text.split('\n');
    rest = parts.pop()!;
    for (const part of parts) onLine(part.endsWith('\r') ? part.slice(0, -1) : part);
  }
  rest += decoder.decode();
  if (rest !== '') onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
}
