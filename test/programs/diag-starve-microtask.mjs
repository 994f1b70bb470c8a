// A long task that yields only through microtasks (await null) starves a quick timer: the timer
// is due after 10 ms but runs only when the loop is done.
let quickLate = -1;
const due = performance.now() + 10;
setTimeout(() => {
  quickLate = performance.now() - due;
}, 10);

async function longRunningTask(items) {
  let sum = 0;
  for (let i = 0; i < items; i++) {
    for (let k = 0; k < 2000; k++) sum += Math.sqrt(k * i);
    await null; // @mark
  }
  return sum;
}

await longRunningTask(Number(process.argv[2] ?? 30000));
await new Promise((resolve) => setTimeout(resolve, 20));
console.log(`quick task ran ${quickLate.toFixed(0)} ms late`);
