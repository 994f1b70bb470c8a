// A poller that waits 2 ms, 1,000 times, one wait after another: past the first waits the recorder
// traces a sample of their promises. Prints how long the loop took.
import { setTimeout as sleep } from 'node:timers/promises';

async function poll(times) {
  for (let i = 0; i < times; i++) await sleep(2); // @mark
}

const started = performance.now();
await poll(1000);
console.log(JSON.stringify({ loopMs: performance.now() - started }));
