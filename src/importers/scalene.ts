// scalene's JSON profile (`scalene --cpu --memory --json --outfile F prog.py`), read as loopscope's
// per-line table. scalene keeps no stacks and no timeline: per line of the program's own files it
// gives shares of the run's time and memory figures:
//
//   n_cpu_percent_python  the interpreter ran the line                     -> user
//   n_cpu_percent_c       native code the line called (builtins, C ext.)    -> system
//   n_sys_percent         the rest of the wall time charged to the line:     -> system, or idle
//                         kernel CPU and time off the CPU
//
// Native time counts as system time, as SPEC.md counts native bindings and native leaf frames: the
// thread is busy outside the language's own code. scalene's "system" share mixes two things
// SPEC.md keeps apart. Its CPU timer counts CPU time, so the wall time that passes off the CPU is
// charged to the line that runs when the timer next fires: for `time.sleep(3)` that is the sleeping
// line itself (system: a synchronous sleep holds the loop), but when the event loop waits for I/O
// or timers it is the first line that runs after the wait: the loop's own entry line
// (`asyncio.run(main())`, whose frame is the innermost of the program's while asyncio's code runs)
// or the `await` the wait resumes. Off-CPU time on those lines is the loop waiting: idle. The cost:
// a library coroutine that blocks under an `await` shows as idle too (scalene cannot tell them apart).
// Wall time that scalene charges to no line (files it leaves out) is idle as well.
//
// Lines become stacks [line] (user), [line, call] (system, `call` the first call the line's text
// makes, e.g. `time.sleep`) and [line, (idle)]. With no timeline, each line's time is spread evenly
// over the run in fine slices, interleaved with the others', so the timeline shows neither a long
// stretch nor a train of waits that scalene never saw. Memory (peak, average and allocated MB per
// line, the run's peak footprint, leaks) goes with the profile as `scalene` (see ScaleneMemory) and
// becomes a memory finding (scaleneMemoryFindings).

import type { ByteSource } from '../core/source.js';
import type { Core } from '../core/wasm.js';
import { THRESHOLDS } from '../analysis/thresholds.js';
import { InputError, type Finding, type Profile } from '../model.js';
import { internForeign } from './folded.js';
import { parseValue, type JsonValue } from './json-scan.js';
import { ProfileBuilder } from './tables.js';

/** scalene's own top-level keys: no other format writes these two together. */
export function isScalene(keys: Map<string, JsonValue>): boolean {
  return keys.has('elapsed_time_sec') && keys.has('files');
}

/** A line's memory figures as scalene reports them (MB; sampled, not exact). */
export interface ScaleneLineMemory {
  file: string;
  line: number;
  function: string;
  peakMb: number;
  avgMb: number;
  /** Memory allocated by the line over the run, and how much of it by Python (not native code). */
  mallocMb: number;
  mallocs: number;
  pythonShare: number;
  /** The line's share of all allocation. */
  usageShare: number;
}

export interface ScaleneMemory {
  /** Peak footprint of the whole run, and the line where it was reached (0: none). */
  maxFootprintMb: number;
  maxFootprintFile: string;
  maxFootprintLine: number;
  /** Percent, as scalene computes it (allocation velocity). */
  growthRate: number;
  /** Lines that allocated, the most allocated first. */
  lines: ScaleneLineMemory[];
  /** Lines scalene's leak analysis flags, with its likelihood. */
  leaks: { file: string; line: number; likelihood: number }[];
}

export type ScaleneProfile = Profile & { scalene: ScaleneMemory };

export function isScaleneProfile(profile: Profile): profile is ScaleneProfile {
  return (profile as Partial<ScaleneProfile>).scalene !== undefined;
}

/** The event loop's entry: its off-CPU time is the loop waiting. */
const LOOP_ENTRY = /\b(?:asyncio|uvloop|trio|anyio)\.run\s*\(|\.run_until_complete\s*\(|\.run_forever\s*\(/;
/** A line that suspends its coroutine: off-CPU time charged to it is the wait it resumes from. */
const AWAITS = /\bawait\b|\basync\s+(?:with|for)\b/;
const CALL = /([A-Za-z_][\w.]*)\s*\(/;
const DEFINITION = /^\s*(?:async\s+)?(?:def|class)\b/;

/** Slices per run: under the core's timeline capacity (TIMELINE_CAPACITY), 20 µs in a 2 s run. */
const SLICES = 100_000;

type Obj = Record<string, unknown>;

export async function importScalene(source: ByteSource, core: Core, keys: Map<string, JsonValue>): Promise<ScaleneProfile> {
  const name = source.name;
  const num = numberIn(name);
  const read = async (key: string): Promise<unknown> => {
    const value = keys.get(key);
    return value === undefined ? undefined : parseValue(source, key, value);
  };
  const elapsed = await read('elapsed_time_sec');
  if (typeof elapsed !== 'number' || !Number.isFinite(elapsed) || elapsed < 0) {
    throw new InputError(`${name}: "elapsed_time_sec" is ${JSON.stringify(elapsed)}, not a non-negative number of seconds`);
  }
  const files = await read('files');
  if (typeof files !== 'object' || files === null || Array.isArray(files)) throw new InputError(`${name}: "files" is not an object`);
  const program = await read('program');
  const base = await read('entrypoint_dir'); // newer scalene versions: where relative names start
  const wallMs = elapsed * 1000;

  const builder = new ProfileBuilder();
  const idleFrame = builder.frames.intern('(idle)', '', -1, -1);
  const buckets: { node: number; ms: number }[] = [];
  const memory: ScaleneMemory = {
    maxFootprintMb: num(await read('max_footprint_mb'), 'max_footprint_mb'),
    maxFootprintFile: '',
    maxFootprintLine: 0,
    growthRate: num(await read('growth_rate'), 'growth_rate'),
    lines: [],
    leaks: [],
  };
  const footprintFile = await read('max_footprint_fname');
  const footprintLine = await read('max_footprint_lineno');
  if (typeof footprintFile === 'string' && Number.isInteger(footprintLine)) {
    memory.maxFootprintFile = resolve(base, footprintFile);
    memory.maxFootprintLine = footprintLine as number;
  }

  let chargedMs = 0;
  for (const [fileName, entry] of Object.entries(files as Obj)) {
    const where = `files[${JSON.stringify(fileName)}]`;
    if (typeof entry !== 'object' || entry === null) throw new InputError(`${name}: ${where} is not an object`);
    const { lines, functions, leaks } = entry as Obj;
    if (!Array.isArray(lines)) throw new InputError(`${name}: ${where}.lines is missing or not an array`);
    const file = resolve(base, fileName);
    const functionOf = functionFinder(Array.isArray(functions) ? functions : []);
    for (let i = 0; i < lines.length; i++) {
      const field = `${where}.lines[${i}]`;
      const l = lines[i] as Obj;
      if (typeof l !== 'object' || l === null) throw new InputError(`${name}: ${field} is not an object`);
      const lineno = l.lineno;
      if (!Number.isInteger(lineno) || (lineno as number) < 1) {
        throw new InputError(`${name}: ${field}.lineno is ${JSON.stringify(lineno)}, not a line number`);
      }
      const text = typeof l.line === 'string' ? l.line : '';
      const fn = functionOf(lineno as number, text);
      const ms = (key: string) => (num(l[key], `${field}.${key}`) / 100) * wallMs;
      const python = ms('n_cpu_percent_python');
      const native = ms('n_cpu_percent_c');
      const system = ms('n_sys_percent');
      const frame = internForeign(builder.frames, fn, file, (lineno as number) - 1, -1, 'user');
      const node = builder.node(-1, frame);
      const waits = LOOP_ENTRY.test(text) || AWAITS.test(text);
      const offCpu = waits ? 0 : system;
      if (python > 0) buckets.push({ node, ms: python });
      if (native + offCpu > 0) {
        const call = DEFINITION.test(text) ? undefined : CALL.exec(text)?.[1];
        const callee = builder.frames.intern(call ?? '(native code)', '', -1, -1, '0');
        buckets.push({ node: builder.node(node, callee), ms: native + offCpu });
      }
      if (waits && system > 0) buckets.push({ node: builder.node(node, idleFrame), ms: system });
      chargedMs += python + native + system;

      const mallocMb = num(l.n_malloc_mb, `${field}.n_malloc_mb`);
      const peakMb = num(l.n_peak_mb, `${field}.n_peak_mb`);
      if (mallocMb > 0 || peakMb > 0) {
        memory.lines.push({
          file,
          line: lineno as number,
          function: fn,
          peakMb,
          avgMb: num(l.n_avg_mb, `${field}.n_avg_mb`),
          mallocMb,
          mallocs: num(l.n_mallocs, `${field}.n_mallocs`),
          pythonShare: num(l.n_python_fraction, `${field}.n_python_fraction`),
          usageShare: num(l.n_usage_fraction, `${field}.n_usage_fraction`),
        });
      }
    }
    if (typeof leaks === 'object' && leaks !== null) {
      for (const [line, leak] of Object.entries(leaks as Obj)) {
        const likelihood = (leak as Obj | null)?.likelihood;
        if (typeof likelihood === 'number') memory.leaks.push({ file, line: Number(line), likelihood });
      }
    }
  }
  memory.lines.sort((a, b) => b.mallocMb - a.mallocMb || b.peakMb - a.peakMb);

  // What scalene charged to no line of the program's files: the rest of the wall time.
  const restMs = wallMs - chargedMs;
  if (restMs > 1e-6 * wallMs) buckets.push({ node: builder.node(-1, idleFrame), ms: restMs });
  if (buckets.length === 0) throw new InputError(`${name}: no time recorded (elapsed_time_sec ${elapsed}, no line with CPU or system time)`);

  const endUs = spread(builder, buckets, Math.max(wallMs, chargedMs));
  const what = typeof program === 'string' && program ? ` of ${program}` : '';
  // scalene profiles no file whose path contains "scalene" (its own): a program there shows nothing.
  const empty = chargedMs === 0 ? '; no line of the program (scalene leaves out any path containing "scalene")' : '';
  const profile = builder.finish(core, {
    source: name,
    format: `scalene profile${what} (per-line shares of ${elapsed.toFixed(3)} s, no timeline: each line's time spread evenly over the run${empty})`,
    startUs: 0,
    endUs,
  });
  return Object.assign(profile, { scalene: memory });
}

/**
 * Spreads each bucket's time over the run in equal slices, interleaved by their position in the
 * run (slice k of n at (k + 0.5) / n), so the samples add up to each bucket's time exactly. The
 * grain is fine (SLICES per run): busy and idle time mix evenly, so the timeline shows no long
 * busy stretch and no train of idle waits, patterns only a timeline could show. Returns the end (µs).
 */
function spread(builder: ProfileBuilder, buckets: { node: number; ms: number }[], totalMs: number): number {
  const sliceMs = totalMs / SLICES;
  const slices: { at: number; bucket: number; ms: number }[] = [];
  buckets.forEach((b, bucket) => {
    const n = Math.max(1, Math.round(b.ms / sliceMs));
    for (let k = 0; k < n; k++) slices.push({ at: (k + 0.5) / n, bucket, ms: b.ms / n });
  });
  slices.sort((a, b) => a.at - b.at || a.bucket - b.bucket);
  let timeUs = 0;
  for (const s of slices) {
    builder.sample(buckets[s.bucket].node, timeUs);
    timeUs += s.ms * 1000;
  }
  return timeUs;
}

/**
 * The function a line belongs to, from scalene's function table (each function's first line): the
 * last one starting at or before the line, for an indented line or the definition itself; module
 * level otherwise. scalene names coroutines after asyncio's `Handle` that ran them ("Handle.main"):
 * that prefix is dropped.
 */
function functionFinder(functions: unknown[]): (line: number, text: string) => string {
  const starts = functions
    .filter((f): f is { lineno: number; line: string } => typeof (f as Obj)?.lineno === 'number' && typeof (f as Obj)?.line === 'string')
    .map((f) => ({ line: f.lineno, name: f.line.trim().replace(/^Handle\./, '') }))
    .sort((a, b) => a.line - b.line);
  return (line, text) => {
    let found: string | undefined;
    for (const f of starts) if (f.line <= line && (f.line === line || /^\s/.test(text))) found = f.name;
    return found || '<module>';
  };
}

/**
 * A number field of `source` (missing: 0, as scalene leaves out what it did not measure). scalene
 * computes some shares by subtraction: a slightly negative one is 0.
 */
function numberIn(source: string): (value: unknown, field: string) => number {
  return (value, field) => {
    if (value === undefined || value === null) return 0;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InputError(`${source}: ${field} is ${JSON.stringify(value)}, not a number`);
    return Math.max(0, value);
  };
}

/** A file name relative to the program's directory when scalene recorded that directory. */
function resolve(base: unknown, file: string): string {
  if (typeof base !== 'string' || base === '' || file.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(file)) return file;
  return `${base.replace(/[\\/]+$/, '')}/${file}`;
}

const MB = 1 << 20;

/**
 * The memory evidence a scalene profile carries, as a `memory` finding: the line that allocated the
 * most, with scalene's figures. scalene sees neither tasks nor awaits, so it cannot tell whether
 * concurrent tasks held the memory at once (the `memory` class) or one call did: the severity goes
 * no higher than the thresholds allow memory growth without that evidence.
 */
export function scaleneMemoryFindings(memory: ScaleneMemory): Finding[] {
  const top = memory.lines[0];
  const footprint = memory.maxFootprintMb * MB;
  if (!top || footprint < THRESHOLDS.memoryInfoBytes) return [];
  const leak = memory.leaks.find((l) => l.file === top.file && l.line === top.line);
  const peakAt = memory.maxFootprintLine ? `${memory.maxFootprintFile}:${memory.maxFootprintLine}` : '';
  const fmt = (mb: number) => (mb >= 10 ? `${Math.round(mb)} MB` : `${mb.toFixed(1)} MB`);
  const evidence: Finding['evidence'] = {
    maxFootprintMb: round(memory.maxFootprintMb),
    lineMallocMb: round(top.mallocMb),
    linePeakMb: round(top.peakMb),
    lineAvgMb: round(top.avgMb),
    lineMallocs: top.mallocs,
    linePythonShare: round(top.pythonShare),
    lineAllocationShare: round(top.usageShare),
    growthRatePercent: round(memory.growthRate),
    source: 'scalene',
  };
  if (peakAt) evidence.maxFootprintAt = peakAt;
  if (leak) evidence.leakLikelihood = round(leak.likelihood);
  return [
    {
      kind: 'memory',
      severity: footprint >= THRESHOLDS.memoryAloneWarningBytes ? 'warning' : 'info',
      title: `${top.function} allocates ${fmt(top.mallocMb)} at line ${top.line}; the program peaked at ${fmt(memory.maxFootprintMb)}`,
      location: { file: top.file, line: top.line, column: 0, function: top.function },
      impactBytes: Math.round(Math.max(top.peakMb, top.mallocMb) * MB),
      evidence,
      suggestion:
        `scalene saw this line allocate ${fmt(top.mallocMb)} (${Math.round(100 * top.usageShare)}% of all allocation); the footprint peaked at ` +
        `${fmt(memory.maxFootprintMb)}${peakAt ? ` (at ${peakAt})` : ''}. If many tasks run this line at once (a gather over large data), each holds ` +
        `its data across its awaits: limit how many run at once (an asyncio.Semaphore, a small pool), stream the data instead of holding it ` +
        `whole, or release it (del) before awaiting. A per-line profile cannot show how many tasks held memory at the same time.`,
    },
  ];
}

const round = (x: number) => Math.round(x * 1000) / 1000;
