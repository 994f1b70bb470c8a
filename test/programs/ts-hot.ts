// A TypeScript program for the source-map tests. The interface and the type alias compile away,
// so the JavaScript's lines differ from these; the loop computes on the marked line.
interface Options {
  ms: number;
  seed: number;
}

type Checksum = number;

function spin(options: Options): Checksum {
  const end = performance.now() + options.ms;
  let x: number = options.seed;
  while (performance.now() < end) {
    for (let i = 0; i < 100000; i++) x = (x * 1103515245 + 12345) % 2147483648; // @mark
  }
  return x;
}

const options: Options = { ms: Number(process.argv[2] ?? 300), seed: 1 };
console.log(spin(options));
