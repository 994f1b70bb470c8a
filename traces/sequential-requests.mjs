// The seed article's second example: ten requests awaited one after another in a loop (aiohttp
// becomes fetch; the site is a slow local service in a child process, 80 ms per request).
//   node dist/src/cli.cjs collect --out traces/sequential-requests -- node traces/sequential-requests.mjs
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const service = spawn(process.execPath, [new URL('./slow-server.cjs', import.meta.url).pathname, '80'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const port = String((await once(service.stdout, 'data'))[0]).trim();

async function fetchPage(url) {
  const response = await fetch(url);
  return response.text();
}

async function main() {
  const urls = Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${port}/page/${i}`);
  const started = performance.now();
  // Inefficient: sequential requests
  for (const url of urls) {
    await fetchPage(url);
  }
  console.log(`10 requests took ${(performance.now() - started).toFixed(0)} ms`);
}
await main();
service.stdin.end();
