// Independent requests to a slow local service awaited one after another (or, with `parallel`,
// together: the healthy version).
import { createServer } from 'node:http';

const service = createServer((request, response) => setTimeout(() => response.end('ok'), 60));

async function fetchAll(urls) {
  const bodies = [];
  for (const url of urls) bodies.push(await (await fetch(url)).text()); // @mark
  return bodies;
}

async function fetchTogether(urls) {
  return Promise.all(urls.map(async (url) => (await fetch(url)).text()));
}

service.listen(0, '127.0.0.1', async () => {
  const urls = Array.from({ length: 8 }, (_, i) => `http://127.0.0.1:${service.address().port}/${i}`);
  await (process.argv[2] === 'parallel' ? fetchTogether(urls) : fetchAll(urls));
  service.close();
});
