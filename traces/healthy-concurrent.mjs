// Healthy: the ten requests of sequential-requests.mjs started together and awaited once.
//   node dist/src/cli.cjs collect --out traces/healthy-concurrent -- node traces/healthy-concurrent.mjs
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

const urls = Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${port}/page/${i}`);
const started = performance.now();
const pages = await Promise.all(urls.map(fetchPage));
console.log(`${pages.length} requests took ${(performance.now() - started).toFixed(0)} ms`);
service.stdin.end();
