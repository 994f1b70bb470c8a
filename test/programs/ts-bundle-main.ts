// A program of two TypeScript modules, bundled with esbuild by the source-map tests.
import { checksum, type Work } from './ts-bundle-work.js';

function describe(work: Work): string {
  return `${work.ms} ms from seed ${work.seed}`;
}

const work: Work = { ms: Number(process.argv[2] ?? 300), seed: 7 };
console.log(describe(work), checksum(work));
