// The backend the I/O-bound benchmark program calls, in a process of its own as a service or a
// database would be: answers each request after `DELAY_MS` (argv[2], default 20), and prints its port.
import { createServer } from 'node:http';

const delayMs = Number(process.argv[2] ?? 20);
const body = 'x'.repeat(512);
const server = createServer((request, response) => setTimeout(() => response.end(body), delayMs));
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
