// Sixteen password hashes (pbkdf2) fill the libuv thread pool (4 threads); a quick file read
// submitted after them waits in its queue.
import { pbkdf2 } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const hash = promisify(pbkdf2);

async function hashAll(passwords) {
  return Promise.all(passwords.map((p, i) => hash(p, `salt${i}`, 50000, 64, 'sha512'))); // @mark
}

const hashing = hashAll(Array.from({ length: 16 }, (_, i) => `secret${i}`));
const t0 = performance.now();
const config = await readFile(new URL(import.meta.url), 'utf8');
console.log(`config (${config.length} bytes) read in ${(performance.now() - t0).toFixed(0)} ms`);
console.log((await hashing).length);
