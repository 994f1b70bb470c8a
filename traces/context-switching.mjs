// The seed article's third example: 100,000 tiny tasks gathered at once, each doing nothing but
// one short wait (asyncio.sleep(0.0001) becomes a setImmediate): scheduling costs more than the work.
//   node dist/src/cli.cjs collect --out traces/context-switching -- node traces/context-switching.mjs
async function tinyTask() {
  await new Promise((resolve) => setImmediate(resolve));
}

async function main() {
  // Excessive context switching due to many small tasks
  await Promise.all(Array.from({ length: 100000 }, () => tinyTask()));
  console.log('done');
}
await main();
