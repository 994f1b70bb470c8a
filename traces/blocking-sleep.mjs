// The seed article's first example: a synchronous sleep inside an async function holds the whole
// event loop. time.sleep(3) becomes Atomics.wait (0.3 s here); the ticker that should run every
// 10 ms meanwhile stops.
//   node dist/src/cli.cjs collect --out traces/blocking-sleep -- node traces/blocking-sleep.mjs
const cell = new Int32Array(new SharedArrayBuffer(4));
let ticks = 0;
const ticker = setInterval(() => ticks++, 10);

async function main() {
  console.log('Start');
  await new Promise((resolve) => setTimeout(resolve, 50));
  Atomics.wait(cell, 0, 0, 300); // blocks the entire event loop
  console.log(`End (${ticks} ticks, about 35 expected)`);
  clearInterval(ticker);
}
await main();
