// The module of the bundled program (ts-bundle-main.ts) that computes, on the marked line.
export interface Work {
  ms: number;
  seed: number;
}

export function checksum(work: Work): number {
  const end = performance.now() + work.ms;
  let x = work.seed;
  while (performance.now() < end) {
    for (let i = 0; i < 100000; i++) x = (x * 1103515245 + 12345) % 2147483648; // @mark
  }
  return x;
}
