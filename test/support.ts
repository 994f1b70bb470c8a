// Shared by the tests: paths, running the CLI, recording real profiles with `node --cpu-prof`.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const corpus = join(root, '..', 'shared', 'corpus');
export const cli = join(root, 'dist', 'src', 'cli.cjs');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'loopscope-test-'));
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; input?: string | Buffer } = {}): Run {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: options.cwd,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `test/programs/<name>` under one of Node's own profilers; returns the file it wrote. */
function profiled(kind: 'cpu' | 'heap', name: string, args: string[], interval: number): string {
  const dir = tempDir();
  const program = join(root, 'test', 'programs', name);
  const flags = [`--${kind}-prof`, `--${kind}-prof-dir`, dir, `--${kind}-prof-interval`, String(interval)];
  const r = spawnSync(process.execPath, [...flags, program, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  const file = readdirSync(dir).find((f) => f.endsWith(kind === 'cpu' ? '.cpuprofile' : '.heapprofile'));
  if (!file) throw new Error(`${name} wrote no ${kind} profile`);
  return join(dir, file);
}

/** Records `test/programs/<name>` with `node --cpu-prof`; returns the profile's path. */
export function record(name: string, args: string[] = [], intervalUs = 500): string {
  return profiled('cpu', name, args, intervalUs);
}

/** Records `test/programs/<name>` with `node --heap-prof` (a sample every `intervalBytes`); returns the profile's path. */
export function recordHeap(name: string, args: string[] = [], intervalBytes = 4096): string {
  return profiled('heap', name, args, intervalBytes);
}

/** The 1-based line of the `@mark` comment in a test program. */
export function markedLine(name: string): number {
  const lines = readFileSync(join(root, 'test', 'programs', name), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes('@mark'));
  if (i < 0) throw new Error(`${name} has no @mark`);
  return i + 1;
}

export function programPath(name: string): string {
  return join(root, 'test', 'programs', name);
}

/**
 * Starts `loopscope collect --out <tmp> -- <command>` on a program that prints `ready <pid>`;
 * resolves once it is ready, so a test can signal it.
 */
export async function collectInBackground(command: string[]) {
  const out = join(tempDir(), 'rec');
  const child = spawn(process.execPath, [cli, 'collect', '--out', out, '--', ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const ended = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /ready (\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    void ended.then(() => reject(new Error(`ended before it was ready: ${stderr}`)));
  });
  return { out, collector: child, pid, ended, stderr: () => stderr };
}
