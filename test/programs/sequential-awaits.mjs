// Independent requests to a slow service awaited one after another (or, with `parallel`, together:
// the healthy version). The service runs in its own process, as a remote one would.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const serviceCode = `
  const server = require('node:http').createServer((q, r) => setTimeout(() => r.end('ok'), 60));
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  process.stdin.on('end', () => server.close()).resume();`;

async function fetchAll(urls) {
  const bodies = [];
  for (const url of urls) bodies.push(await (await fetch(url)).text()); // @mark
  return bodies;
}

async function fetchTogether(urls) {
  return Promise.all(urls.map(async (url) => (await fetch(url)).text()));
}

const service = spawn(process.execPath, ['-e', serviceCode], { stdio: ['pipe', 'pipe', 'inherit'] });
const [port] = await once(service.stdout, 'data');
const urls = Array.from({ length: 8 }, (_, i) => `http://127.0.0.1:${String(port).trim()}/${i}`);
await (process.argv[2] === 'parallel' ? fetchTogether(urls) : fetchAll(urls));
service.stdin.end();
