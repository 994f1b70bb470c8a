// Callback-style scrypt hashes queued for a batch of users fill the libuv thread pool; a quick
// fs.readFile (callback style too) waits in the pool's queue behind them.
import { scrypt } from 'node:crypto';
import { readFile } from 'node:fs';

const started = performance.now();
function hashUsers(users, done) {
  let left = users.length;
  for (const user of users) {
    scrypt(user, 'pepper', 64, { N: 1 << 14 }, () => --left === 0 && done()); // @mark
  }
}

hashUsers(Array.from({ length: 16 }, (_, i) => `user${i}`), () => console.log(`hashed after ${(performance.now() - started).toFixed(0)} ms`));
readFile(new URL(import.meta.url), () => console.log(`config read after ${(performance.now() - started).toFixed(0)} ms`));
