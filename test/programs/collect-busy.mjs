// A CPU-bound loop, recorded by `loopscope collect`: user time on the loop's line.
function spin(ms) {
  const end = performance.now() + ms;
  let x = 1;
  while (performance.now() < end) {
    for (let i = 0; i < 100000; i++) x = (x * 1103515245 + 12345) % 2147483648; // @mark
  }
  return x;
}
console.log(spin(Number(process.argv[2] ?? 300)));
