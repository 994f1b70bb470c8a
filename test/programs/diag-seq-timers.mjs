// Polling jobs one at a time in a while loop, each wait a timer: the waits add up.
import { setTimeout as delay } from 'node:timers/promises';

async function checkJob(id) {
  return delay(50, { id, done: true });
}

async function main() {
  const results = [];
  let id = 0;
  while (id < 8) {
    results.push(await checkJob(id)); // @mark
    id++;
  }
  console.log(results.length);
}
await main();
