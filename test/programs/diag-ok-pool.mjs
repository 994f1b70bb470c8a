// Healthy: files read with bounded concurrency (four at a time) and a few async hashes.
import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const dir = mkdtempSync(join(tmpdir(), 'diag-pool-'));
const files = Array.from({ length: 40 }, (_, i) => join(dir, `f${i}.txt`));
for (const f of files) writeFileSync(f, 'x'.repeat(10000));

async function readAll(paths, limit) {
  const out = [];
  let next = 0;
  async function worker() {
    while (next < paths.length) {
      const i = next++;
      out[i] = (await readFile(paths[i], 'utf8')).length;
    }
  }
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

const hash = promisify(pbkdf2);
const [sizes, keys] = await Promise.all([readAll(files, 4), Promise.all([1, 2].map((i) => hash('pw', `s${i}`, 20000, 32, 'sha256')))]);
console.log(sizes.length, keys.length);
rmSync(dir, { recursive: true, force: true });
