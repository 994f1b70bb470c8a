// The seed article's fifth example: 100 tasks, each holding a large piece of data across a wait,
// all at the same time ("lorep ipsum" * 10**8 becomes a 1 MB Buffer; the wait is 0.3 s).
//   node dist/src/cli.cjs collect --out traces/memory -- node traces/memory.mjs
import { setTimeout as sleep } from 'node:timers/promises';

async function largeDataTask(i) {
  await sleep(i);
  const data = Buffer.alloc(1 << 20, 'lorep ipsum'); // Large memory usage
  await sleep(300);
  return data.length;
}

const sizes = await Promise.all(Array.from({ length: 100 }, (_, i) => largeDataTask(i))); // High memory consumption
console.log(`${sizes.length} tasks held ${sizes.reduce((a, b) => a + b, 0) >> 20} MB`);
