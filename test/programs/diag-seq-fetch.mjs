// Ten independent requests to a slow service (a child process), awaited one after another in a
// for loop: the loop sits idle for the sum of the waits.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const service = spawn(process.execPath, [new URL('./diag-slow-server.mjs', import.meta.url).pathname, '60'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const [port] = await once(service.stdout, 'data');

async function fetchAll(urls) {
  const bodies = [];
  for (const url of urls) {
    const response = await fetch(url); // @mark
    bodies.push(await response.text());
  }
  return bodies;
}

const bodies = await fetchAll(Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${String(port).trim()}/item/${i}`));
console.log(bodies.length);
service.stdin.end();
