// `loopscope collect [--out DIR] [--interval MS] -- <command...>`: runs the command with the recorder
// loaded into every Node process it starts (NODE_OPTIONS=--import) and every Python process
// (PYTHONPATH names a directory whose sitecustomize starts the Python recorder), passes its stdio,
// exit code and signals through, then writes the manifest that ties the processes' files together.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  fileNames,
  FORMAT,
  FORMAT_VERSION,
  isLauncher,
  MANIFEST,
  PARENT_ENV,
  RECORDING_FILE,
  type Manifest,
  type ManifestProcess,
  type ProcessRecord,
} from '../collector/format.js';
import { InputError } from '../model.js';

export interface CollectCommandOptions {
  out?: string;
  interval: string;
}

const collectorDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'collector');
/** The Python recorder's directory (sitecustomize.py and the _loopscope_recorder package), copied there by the build. */
const pythonDir = join(collectorDir, 'python');
const PYTHON_OUT_ENV = 'LOOPSCOPE_OUT';
const PYTHON_INTERVAL_ENV = 'LOOPSCOPE_INTERVAL_US';

/** True when the command runs Python: python, python3.11, /usr/bin/python3, or a script whose shebang names python. */
export function isPythonCommand(command: string[]): boolean {
  const exe = basename(command[0] ?? '');
  if (/^python(\d+(\.\d+)?)?$/.test(exe)) return true;
  try {
    const fd = openSync(command[0], 'r');
    try {
      const head = Buffer.alloc(128);
      const n = readSync(fd, head, 0, head.length, 0);
      const first = head.subarray(0, n).toString('latin1').split('\n')[0];
      return /^#!.*\bpython(\d+(\.\d+)?)?\b/.test(first);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function timestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}`;
  return `${day}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/** Creates the output directory; a previous recording there is replaced, anything else is left alone. */
function prepareOut(out: string): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new InputError(`${out}: exists and is not a directory`);
    const entries = readdirSync(out);
    if (entries.length > 0 && !entries.includes(MANIFEST)) {
      throw new InputError(`${out}: exists and is not empty (and holds no recording to replace): choose another --out`);
    }
    for (const name of entries) {
      if (name === MANIFEST || RECORDING_FILE.test(name) || name.endsWith('.tmp')) rmSync(join(out, name), { force: true });
    }
  }
  mkdirSync(out, { recursive: true });
}

/** Returns the exit code: the program's, or 128 + the signal's number when a signal ended it. */
export async function collectCommand(command: string[], options: CollectCommandOptions): Promise<number> {
  if (command.length === 0) throw new InputError('collect needs a command to run: loopscope collect -- node app.mjs');
  const intervalMs = Number(options.interval);
  if (!Number.isFinite(intervalMs) || intervalMs < 0.01 || intervalMs > 1000) {
    throw new InputError(`--interval must be a number of milliseconds from 0.01 to 1000, not "${options.interval}"`);
  }
  const intervalUs = Math.round(intervalMs * 1000);
  const startTime = new Date();
  const outGiven = options.out ?? `loopscope-${timestamp(startTime)}`;
  const out = resolve(outGiven);
  const created = !existsSync(out);
  prepareOut(out);

  const preload = pathToFileURL(join(collectorDir, 'preload.js'));
  preload.searchParams.set('out', out);
  preload.searchParams.set('interval', String(intervalUs));
  const env = { ...process.env };
  // A URL needs no quoting in NODE_OPTIONS: spaces and quotes in the paths are percent-encoded.
  env.NODE_OPTIONS = [env.NODE_OPTIONS, `--import ${preload.href}`].filter(Boolean).join(' ');
  // Python: the recorder's sitecustomize comes first on the path and runs the one it hides.
  env.PYTHONPATH = [pythonDir, env.PYTHONPATH].filter(Boolean).join(delimiter);
  env[PYTHON_OUT_ENV] = out;
  env[PYTHON_INTERVAL_ENV] = String(intervalUs);
  delete env[PARENT_ENV];
  const python = isPythonCommand(command);

  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env });
  // Signals for the program go to it: SIGTERM and SIGHUP always; SIGINT only when not on a terminal,
  // where Ctrl-C already reaches every process of the foreground group. The recorder answers a
  // signal by writing the recording, which waits until a program busy in synchronous code yields;
  // the same signal a second time stops the program at once, without its recording.
  const onTerminal = process.stdin.isTTY || process.stdout.isTTY || process.stderr.isTTY;
  const received = new Set<NodeJS.Signals>();
  const onSignal = (signal: NodeJS.Signals) => {
    if (received.has(signal)) {
      process.stderr.write(`loopscope: ${signal} again: stopping the program without waiting for its recording\n`);
      child.kill('SIGKILL');
      return;
    }
    received.add(signal);
    if (signal !== 'SIGINT' || !onTerminal) child.kill(signal);
  };
  const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of handled) process.on(s, onSignal);

  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveEnd, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(new InputError(error.code === 'ENOENT' ? `${command[0]}: command not found` : `${command[0]}: ${error.message}`));
    });
    child.once('exit', (code, signal) => resolveEnd({ code, signal }));
  })
    .catch((error: unknown) => {
      if (created) rmSync(out, { recursive: true, force: true });
      throw error;
    })
    .finally(() => {
      for (const s of handled) process.off(s, onSignal);
    });

  const manifest = writeManifest(out, command, startTime, intervalUs, child.pid ?? -1, ended);
  const shown = shortPath(out);
  const arg = /^[\w@%+=:,./-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
  const n = manifest.processes.length;
  if (n === 0) {
    const why = python
      ? 'started no Python process that kept PYTHONPATH (python -I and -E ignore it; -S skips sitecustomize)'
      : 'started no Node process that kept NODE_OPTIONS, and no Python process that kept PYTHONPATH';
    process.stderr.write(`loopscope: nothing was recorded in ${shown}: \`${command.join(' ')}\` ${why}\n`);
  } else {
    const main = manifest.processes.find((p) => p.pid === manifest.main);
    const incomplete = manifest.processes.filter((p) => !p.complete).length;
    process.stderr.write(
      `loopscope: recorded ${n} process${n === 1 ? '' : 'es'} in ${shown}` +
        (main ? ` (main: pid ${main.pid}, ${runtimeOf(main)} ${describe(main)})` : '') +
        (incomplete ? `; ${incomplete} of them ended before writing ${incomplete === 1 ? 'its' : 'their'} files` : '') +
        `\nloopscope: next: loopscope analyze ${arg}\n`,
    );
  }
  if (ended.signal) return 128 + (constants.signals[ended.signal] ?? 0);
  return ended.code ?? 1;
}

/** What ran the process: "node", or "python" for the Python recorder's processes. */
function runtimeOf(p: ManifestProcess): string {
  return p.runtime?.split(' ')[0] ?? 'node';
}

/** The process's command line without the executable, shortened for one line. */
function describe(p: ManifestProcess): string {
  const line = [...p.execArgv, ...p.argv.slice(1).map((a, i) => (i === 0 ? shortPath(a) : a))].join(' ');
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

/** A path relative to the working directory when it lies below it. */
function shortPath(path: string): string {
  const below = relative(process.cwd(), path);
  return below === '' ? '.' : below.startsWith('..') || isAbsolute(below) ? path : below;
}

function writeManifest(
  out: string,
  command: string[],
  startTime: Date,
  intervalUs: number,
  childPid: number,
  ended: { code: number | null; signal: NodeJS.Signals | null },
): Manifest {
  const processes: ManifestProcess[] = [];
  for (const name of readdirSync(out)) {
    if (!name.endsWith('.process.json')) continue;
    let record: ProcessRecord;
    try {
      record = JSON.parse(readFileSync(join(out, name), 'utf8')) as ProcessRecord;
    } catch {
      continue; // a process killed while writing it
    }
    const names = fileNames(record.pid);
    const complete =
      record.endTime !== undefined && existsSync(join(out, names.cpuprofile)) && existsSync(join(out, names.trace));
    if (record.pid === childPid && record.exitCode === undefined) {
      // Killed before it could write (SIGKILL): the exit status is still known here.
      record.exitCode = ended.code;
      record.signal = ended.signal;
    }
    processes.push({ ...record, complete, launcher: isLauncher(record.argv) });
  }
  processes.sort((a, b) => a.startUs - b.startUs || a.pid - b.pid);

  // The main process: the shallowest recorded process that is not a package manager.
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const depth = (p: ManifestProcess): number => {
    let d = 0;
    for (let q = byPid.get(p.recordedParent ?? -1); q && d < processes.length; q = byPid.get(q.recordedParent ?? -1)) d++;
    return d;
  };
  let main: ManifestProcess | null = null;
  for (const p of processes) {
    if (p.launcher) continue;
    if (!main || depth(p) < depth(main)) main = p;
  }

  const manifest: Manifest = {
    format: FORMAT,
    version: FORMAT_VERSION,
    command,
    cwd: process.cwd(),
    startTime: startTime.toISOString(),
    endTime: new Date().toISOString(),
    exitCode: ended.code,
    signal: ended.signal,
    intervalUs,
    main: main?.pid ?? null,
    collectorDir,
    processes,
  };
  const path = join(out, MANIFEST);
  writeFileSync(`${path}.tmp`, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
  for (const p of processes) rmSync(join(out, fileNames(p.pid).process), { force: true });
  return manifest;
}
