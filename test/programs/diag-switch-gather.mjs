// The seed example's shape: 100,000 coroutines gathered at once, each only awaiting one short wait
// (asyncio.sleep(0.0001) becomes a setImmediate promise).
async function tinyTask() {
  await new Promise((resolve) => setImmediate(resolve));
}

async function main(count) {
  await Promise.all(Array.from({ length: count }, () => tinyTask())); // @mark
  console.log('done');
}
await main(Number(process.argv[2] ?? 100000));
