// `loopscope batch <dir|glob...>`: analyses many stored profiles and recordings in parallel worker
// threads and prints one summary row per input; and `loopscope merge`, which puts the outputs of
// `batch --shard K/N` back together into what one full run prints.

import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { defaultCacheDir } from '../batch/cache.js';
import { FORMATS, parseOutput, render, type BatchFormat } from '../batch/formats.js';
import { collectInputs, commonRoot, parseShard, shardOf } from '../batch/inputs.js';
import { runPool } from '../batch/pool.js';
import { compareRows, reaches, SEVERITIES, type Row } from '../batch/row.js';
import { InputError, type Severity } from '../model.js';
import { writeAtomically } from '../reports/output.js';

export interface BatchCommandOptions {
  format: string;
  out?: string;
  jobs?: string;
  cache?: string | boolean;
  shard?: string;
  failOn?: Severity;
}

function checkFormat(format: string): BatchFormat {
  if (!FORMATS.includes(format as BatchFormat)) throw new InputError(`--format must be one of ${FORMATS.join(', ')}, not "${format}"`);
  return format as BatchFormat;
}

function checkFailOn(failOn: string | undefined): void {
  if (failOn && !SEVERITIES.includes(failOn as Severity)) {
    throw new InputError(`--fail-on must be one of ${SEVERITIES.join(', ')}, not "${failOn}"`);
  }
}

async function emit(chunks: string[], out: string | undefined): Promise<void> {
  if (out) await writeAtomically(out, chunks);
  else for (const chunk of chunks) process.stdout.write(chunk);
}

/** 2 when an input failed, else 1 when a finding reaches --fail-on, else 0. */
function exitCode(rows: Row[], failOn: Severity | undefined): number {
  if (rows.some((r) => r.error !== undefined)) return 2;
  return failOn && reaches(rows, failOn) ? 1 : 0;
}

export async function batchCommand(args: string[], options: BatchCommandOptions): Promise<number> {
  const format = checkFormat(options.format);
  checkFailOn(options.failOn);
  const jobs = options.jobs === undefined ? availableParallelism() : Number(options.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new InputError(`--jobs must be a positive integer, not "${options.jobs}"`);
  const shard = options.shard === undefined ? null : parseShard(options.shard);
  // --no-cache sets `cache` to false (of --cache DIR and --no-cache, the later one wins).
  const cacheDir = options.cache === false ? null : resolve(typeof options.cache === 'string' ? options.cache : defaultCacheDir());

  const warn = (message: string) => process.stderr.write(`loopscope: ${message}\n`);
  let inputs = await collectInputs(args, warn);
  if (shard) {
    const root = commonRoot(inputs);
    inputs = inputs.filter((input) => shardOf(input, root, shard.n) === shard.k);
  }

  const rows: Row[] = new Array(inputs.length);
  let done = 0;
  let cached = 0;
  const tty = Boolean(process.stderr.isTTY);
  const progress = () => {
    if (!tty) return;
    const text = `analysed ${done}/${inputs.length}${cached ? ` (${cached} cached)` : ''}`;
    process.stderr.write(`\r${text.slice(0, (process.stderr.columns || 80) - 1)}\x1b[K`);
  };
  progress();
  await runPool(
    inputs.map((input) => ({ path: input.trace, recording: input.recording, cacheDir })),
    jobs,
    (index, result) => {
      const trace = inputs[index].trace;
      if ('error' in result) rows[index] = { trace, error: result.error };
      else {
        rows[index] = { trace, ...result.summary };
        if (result.cached) cached++;
      }
      done++;
      progress();
    },
  );
  if (tty) process.stderr.write('\r\x1b[K');
  if (cacheDir) process.stderr.write(`loopscope: ${cached} of ${inputs.length} inputs from the cache (${cacheDir})\n`);

  const chunks = render(rows, format, 80);
  if (shard && format === 'json') {
    // A shard's JSON says which shard it is, so that merge can tell when one is missing.
    const doc = JSON.parse(chunks.join(''));
    chunks.splice(0, chunks.length, JSON.stringify({ shard: `${shard.k}/${shard.n}`, ...doc }, null, 2) + '\n');
  }
  await emit(chunks, options.out);
  return exitCode(rows, options.failOn);
}

export interface MergeCommandOptions {
  format?: string;
  out?: string;
  failOn?: Severity;
}

export async function mergeCommand(files: string[], options: MergeCommandOptions): Promise<number> {
  checkFailOn(options.failOn);
  const rows = new Map<string, Row>();
  let format: 'ndjson' | 'json' | null = null;
  const shards = new Map<number, Set<number>>();
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new InputError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    const parsed = parseOutput(file, text);
    if (text.trim() !== '') {
      if (format && parsed.format !== format) throw new InputError(`${file}: ${parsed.format}, but the other outputs are ${format}`);
      format = parsed.format;
    }
    if (parsed.format === 'json') {
      const shard = (JSON.parse(text) as { shard?: string }).shard;
      if (typeof shard === 'string') {
        const { k, n } = parseShard(shard);
        const seen = shards.get(n) ?? new Set<number>();
        if (seen.has(k)) throw new InputError(`${file}: shard ${k}/${n} given twice`);
        shards.set(n, seen.add(k));
      }
    }
    for (const row of parsed.rows) {
      const other = rows.get(row.trace);
      if (other && JSON.stringify(other) !== JSON.stringify(row)) throw new InputError(`${file}: ${row.trace} differs from an earlier output`);
      rows.set(row.trace, row);
    }
  }
  if (shards.size > 1) throw new InputError(`the outputs come from different shardings (${[...shards.keys()].map((n) => `/${n}`).join(', ')})`);
  for (const [n, seen] of shards) {
    const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !seen.has(k));
    if (missing.length) throw new InputError(`shard ${missing.map((k) => `${k}/${n}`).join(', ')} missing`);
  }
  const out = options.format ? checkFormat(options.format) : (format ?? 'ndjson');
  const merged = [...rows.values()].sort(compareRows);
  await emit(render(merged, out, 80), options.out);
  return exitCode(merged, options.failOn);
}
