// One setImmediate per item: 200,000 callbacks, each adding one number.
let total = 0;

function handle(item) {
  total += item % 7;
}

function processAll(items) {
  return new Promise((resolve) => {
    for (const item of items) setImmediate(handle, item); // @mark
    setImmediate(resolve);
  });
}

await processAll(Array.from({ length: Number(process.argv[2] ?? 200000) }, (_, i) => i));
console.log(total);
