// I/O-bound: 1000 HTTP requests to a backend in another process (20 ms a request by default), 20 in flight,
// then 2000 file reads, 100 at a time. The backend's URL comes in BACKEND_URL; without it, the
// program starts test/bench/programs/backend.mjs itself (not recorded: NODE_OPTIONS is dropped).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';

let backend = null;
let base = process.env.BACKEND_URL;
if (!base) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  backend = spawn(process.execPath, [new URL('backend.mjs', import.meta.url).pathname], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const [port] = await once(backend.stdout, 'data');
  base = `http://127.0.0.1:${String(port).trim()}`;
}
async function inBatches(count, width, job) {
  for (let i = 0; i < count; i += width) await Promise.all(Array.from({ length: Math.min(width, count - i) }, (_, k) => job(i + k)));
}
await inBatches(1000, 20, async (i) => (await fetch(`${base}/${i}`)).text());
await inBatches(2000, 100, () => readFile(new URL(import.meta.url)));
backend?.kill();
