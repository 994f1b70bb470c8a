// A loader that reads a 1 MB file 800 times one after another: each read waits a fraction of a
// millisecond on the thread pool, and the loop sits idle for the sum of them. Past the first reads
// the recorder traces a sample of their resources.
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'reads-'));
const path = join(dir, 'data.bin');
writeFileSync(path, Buffer.alloc(1 << 20, 7));

async function loadAll(paths) {
  let bytes = 0;
  for (const p of paths) bytes += (await readFile(p)).length; // @mark
  return bytes;
}

console.log(await loadAll(Array.from({ length: 800 }, () => path)));
rmSync(dir, { recursive: true });
