// Healthy: ten requests to a slow service (a child process) started together and awaited once.
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

const urls = Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${String(port).trim()}/item/${i}`);
const bodies = await Promise.all(urls.map(fetchText));
console.log(bodies.length);
service.stdin.end();
