// A CPU-bound loop in the user's own code: user time on the loop's lines.
function spin(ms) {
  const end = performance.now() + ms;
  let x = 1;
  while (performance.now() < end) {
    for (let i = 0; i < 100000; i++) x = (x * 1103515245 + 12345) % 2147483648; // @mark
  }
  return x;
}
console.log(spin(Number(process.argv[2] ?? 400)));
