// 100,000 tiny async tasks gathered with Promise.all (the seed example's asyncio.gather): each
// does almost nothing between its awaits, so scheduling costs more than the work.
async function tinyTask(i) {
  await null;
  return i & 1;
}

async function main(count) {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => tinyTask(i))); // @mark
  console.log(results.length);
}
await main(Number(process.argv[2] ?? 100000));
