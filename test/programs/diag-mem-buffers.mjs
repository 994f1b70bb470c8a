// Forty uploads handled at once, each holding its whole 4 MB body in a Buffer while it waits for
// storage: the memory of all of them is held at the same time.
import { setTimeout as delay } from 'node:timers/promises';

async function handleUpload(i) {
  await delay(i % 10);
  const body = Buffer.alloc(4 << 20, i); // @mark
  await delay(400); // waiting for storage
  return body[0];
}

const results = await Promise.all(Array.from({ length: 40 }, (_, i) => handleUpload(i)));
console.log(results.length);
