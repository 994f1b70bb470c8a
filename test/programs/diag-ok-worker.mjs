// Healthy: the CPU-heavy hashing runs in a worker thread while the main thread stays free.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const worker = new Worker(
  `const { scryptSync } = require('node:crypto');
   const { parentPort } = require('node:worker_threads');
   let n = 0;
   for (let i = 0; i < 6; i++) n += scryptSync('secret' + i, 'salt', 64, { N: 1 << 14 }).length;
   parentPort.postMessage(n);`,
  { eval: true },
);
let ticks = 0;
const timer = setInterval(() => ticks++, 10);
const [bytes] = await once(worker, 'message');
clearInterval(timer);
console.log(bytes, ticks);
