// A synchronous sleep (the seed example's time.sleep): Atomics.wait holds the loop off the CPU.
const cell = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms) {
  Atomics.wait(cell, 0, 0, ms); // @mark
}

async function main() {
  console.log('start');
  await new Promise((resolve) => setTimeout(resolve, 5));
  sleepSync(Number(process.argv[2] ?? 300));
  console.log('end');
}
await main();
