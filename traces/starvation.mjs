// The seed article's fourth example: a long-running task and a quick one share the loop. The long
// task yields only through microtasks (await null), which run before any timer, so the quick
// task's 10 ms timer waits until the long task is done.
//   node dist/src/cli.cjs collect --out traces/starvation -- node traces/starvation.mjs
async function longRunningTask() {
  let checksum = 0;
  for (let batch = 0; batch < 1500; batch++) {
    for (let i = 0; i < 8000; i++) checksum = (checksum * 31 + i) % 1000003;
    await null; // "yields", but only to other microtasks
  }
  console.log('Long task executed');
  return checksum;
}

async function quickTask() {
  const due = performance.now() + 10;
  await new Promise((resolve) => setTimeout(resolve, 10));
  console.log(`Quick task executed ${(performance.now() - due).toFixed(0)} ms late`); // May be delayed excessively
}

await Promise.all([longRunningTask(), quickTask()]);
