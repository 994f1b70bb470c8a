// Ten independent requests to a slow service, awaited one after another: the loop sits idle for
// the sum of the waits where it could wait for the longest one.
//   node --cpu-prof --cpu-prof-name sequential-fetch.cpuprofile sequential-fetch.mjs
import { createServer } from 'node:http';

const slowService = createServer((request, response) => {
  setTimeout(() => response.end('ok'), 80);
});

async function fetchAll(urls) {
  const bodies = [];
  for (const url of urls) {
    const response = await fetch(url);
    bodies.push(await response.text());
  }
  return bodies;
}

slowService.listen(0, '127.0.0.1', async () => {
  const { port } = slowService.address();
  const started = performance.now();
  await fetchAll(Array.from({ length: 10 }, (_, i) => `http://127.0.0.1:${port}/item/${i}`));
  console.log(`10 requests took ${(performance.now() - started).toFixed(0)} ms`);
  slowService.close();
});
