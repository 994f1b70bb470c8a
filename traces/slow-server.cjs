// A slow HTTP service in its own process for the examples: answers every request after the delay
// given as its argument (ms), prints its port, and exits when its standard input closes.
const http = require('node:http');
const delay = Number(process.argv[2] ?? 80);
const server = http.createServer((request, response) => {
  setTimeout(() => response.end(`page ${request.url}`), delay);
});
server.keepAliveTimeout = 100;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
