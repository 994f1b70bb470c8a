// Twenty-four independent requests to a slow service (a child process), sent in batches of four:
// each batch is gathered with Promise.all, and the batches are awaited one after another, so the
// loop sits idle for the sum of the batches' waits.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const service = spawn(process.execPath, [new URL('./diag-slow-server.mjs', import.meta.url).pathname, '60'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const [port] = await once(service.stdout, 'data');

async function fetchText(url) {
  const response = await fetch(url);
  return response.text();
}

async function fetchInBatches(urls, width) {
  const bodies = [];
  for (let i = 0; i < urls.length; i += width) {
    bodies.push(...(await Promise.all(urls.slice(i, i + width).map(fetchText)))); // @mark
  }
  return bodies;
}

const bodies = await fetchInBatches(Array.from({ length: 24 }, (_, i) => `http://127.0.0.1:${String(port).trim()}/item/${i}`), 4);
console.log(bodies.length);
service.stdin.end();
