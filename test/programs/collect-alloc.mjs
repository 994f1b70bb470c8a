// Allocates short-lived objects for a while: GC events and a moving heap.
const end = performance.now() + Number(process.argv[2] ?? 150);
let kept = [];
while (performance.now() < end) {
  const batch = [];
  for (let i = 0; i < 10_000; i++) batch.push({ i, text: `item ${i}` });
  kept.push(batch);
  if (kept.length > 20) kept = [];
  await new Promise((resolve) => setImmediate(resolve));
}
