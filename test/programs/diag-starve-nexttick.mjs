// Work re-queued with process.nextTick: next ticks run before timers and I/O, so a server's timer
// and a file read wait until the whole batch is done.
import { readFile } from 'node:fs/promises';

const started = performance.now();
let timerAt = -1;
setTimeout(() => (timerAt = performance.now() - started), 5);
const read = readFile(new URL(import.meta.url)).then(() => performance.now() - started);

function processBatch(items, done) {
  let i = 0;
  function step() {
    let s = 0;
    for (let k = 0; k < 3000; k++) s += Math.sqrt(k * i);
    if (++i < items) process.nextTick(step); // @mark
    else done(s);
  }
  step();
}

await new Promise((resolve) => processBatch(Number(process.argv[2] ?? 30000), resolve));
console.log(`timer after ${timerAt.toFixed(0)} ms, file after ${(await read).toFixed(0)} ms`);
