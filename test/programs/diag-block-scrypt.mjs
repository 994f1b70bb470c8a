// Login requests hashed with scryptSync: each hash holds the event loop.
import { scryptSync } from 'node:crypto';

function handleLogin(user) {
  const hash = scryptSync(user.password, user.salt, 64, { N: 1 << 15, maxmem: 64 << 20 }); // @mark
  return hash.length;
}

let served = 0;
for (let i = 0; i < 8; i++) {
  setTimeout(() => {
    served += handleLogin({ password: `secret${i}`, salt: `salt${i}` }) > 0 ? 1 : 0;
  }, i * 5);
}
setTimeout(() => console.log(`${served} logins`), 60);
