// A slow HTTP service for the diagnosis programs (run in a child process): answers every request
// after the delay given as its argument (ms), prints its port, and exits when its standard input
// closes.
import { createServer } from 'node:http';

const delay = Number(process.argv[2] ?? 60);
const server = createServer((request, response) => {
  setTimeout(() => response.end(`item ${request.url}`), delay);
});
server.keepAliveTimeout = 100;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
