// 200,000 tiny async tasks, each doing almost nothing between awaits: scheduling costs more than
// the work.
async function tinyTask(i) {
  await new Promise((resolve) => setImmediate(resolve));
  return i & 1;
}

async function main(count) {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => tinyTask(i))); // @mark
  console.log(results.length);
}
await main(Number(process.argv[2] ?? 200000));
