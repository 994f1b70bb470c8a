// Allocates in one function as many objects as argv[2] says, for `node --heap-prof`: two runs with
// different counts differ in that function's bytes, beyond sampling noise.
const kept = [];

function keep(n) { // @mark
  for (let i = 0; i < n; i++) kept.push({ i, values: new Array(32).fill(i), text: `item ${i}` });
}

function steady(n) {
  for (let i = 0; i < n; i++) kept.push({ i, text: `steady ${i}` });
}

keep(Number(process.argv[2] ?? 100_000));
steady(20_000);
console.log(kept.length);
