// readFileSync on a named pipe fed by a slow writer: the loop waits for the data, off the CPU.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'diag-fifo-'));
const fifo = join(dir, 'feed');
execFileSync('mkfifo', [fifo]);
// The writer opens the pipe, then produces its data 300 ms later.
const writer = spawn('sh', ['-c', `exec 3>"${fifo}"; sleep 0.3; echo ready >&3`], { stdio: 'ignore' });

function loadConfig(path) {
  return readFileSync(path, 'utf8'); // @mark
}

setTimeout(() => {
  const text = loadConfig(fifo);
  console.log(text.trim());
  writer.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}, 5);
