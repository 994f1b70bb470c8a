// Fetch stress: 1000 local HTTP requests, 50 at a time, and 2000 file reads, 100 at a time, with the
// server in the same process: the event loop is busy (the process uses more CPU than wall time).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';

const server = createServer((request, response) => setTimeout(() => response.end('x'.repeat(512)), 2));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
async function inBatches(count, width, job) {
  for (let i = 0; i < count; i += width) await Promise.all(Array.from({ length: Math.min(width, count - i) }, (_, k) => job(i + k)));
}
await inBatches(1000, 50, async (i) => (await fetch(`${base}/${i}`)).text());
await inBatches(2000, 100, () => readFile(new URL(import.meta.url)));
server.close();
