// Synchronous key derivation in a request handler: Node's native crypto, system time of the caller.
import { scryptSync } from 'node:crypto';

function handleLogin(password) {
  return scryptSync(password, 'salt', 64, { N: 1 << 14 }); // @mark
}
for (let i = 0; i < Number(process.argv[2] ?? 6); i++) handleLogin(`secret-${i}`);
