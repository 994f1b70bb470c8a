// Allocates most of its memory in one function, for `node --heap-prof`: bytes per allocating
// function, with keep() far ahead of spare().
const kept = [];

function keep(n) { // @mark
  for (let i = 0; i < n; i++) kept.push({ i, values: new Array(32).fill(i), text: `item ${i}` });
}

function spare(n) {
  for (let i = 0; i < n; i++) kept.push({ i, text: `spare ${i}` });
}

keep(100_000);
spare(5_000);
console.log(kept.length);
