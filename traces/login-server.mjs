// A login endpoint that hashes passwords with scryptSync: every request holds the event loop for
// the whole hash, so concurrent requests queue behind each other.
//   node --cpu-prof --cpu-prof-name login-server.cpuprofile login-server.mjs
import { createServer } from 'node:http';
import { scryptSync } from 'node:crypto';

function handleLogin(request, response) {
  const password = new URL(request.url, 'http://x').searchParams.get('password') ?? '';
  const hash = scryptSync(password, 'per-user-salt', 64, { N: 1 << 14 });
  response.end(hash.toString('hex'));
}

const server = createServer(handleLogin).listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const logins = Array.from({ length: 24 }, (_, i) => fetch(`http://127.0.0.1:${port}/login?password=pw${i}`));
  const started = performance.now();
  await Promise.all(logins.map((r) => r.then((res) => res.text())));
  console.log(`24 concurrent logins took ${(performance.now() - started).toFixed(0)} ms`);
  server.close();
});
