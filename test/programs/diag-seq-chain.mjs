// Slow files (named pipes whose writers take 60 ms each) read through a promise chain: each read
// starts only when the previous one has finished.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'diag-chain-'));
const files = Array.from({ length: 8 }, (_, i) => join(dir, `part${i}`));
execFileSync('mkfifo', files);
// One writer per file: it opens its pipe, waits until a reader has it open, then 60 ms more.
const script = files.map((f) => `(exec 3>"${f}"; sleep 0.06; echo "${f}" >&3) &`).join('\n') + '\nwait';
const writers = spawn('sh', ['-c', script], { stdio: 'ignore' });

const parts = [];
await files.reduce(
  (previous, file) => previous.then(() => readFile(file, 'utf8')).then((text) => parts.push(text.trim())), // @mark
  Promise.resolve(),
);
console.log(parts.length);
writers.on('exit', () => rmSync(dir, { recursive: true, force: true }));
