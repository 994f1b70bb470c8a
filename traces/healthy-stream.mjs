// Healthy: a 32 MB file compressed through streams, 64 KB at a time (zlib runs on the thread pool,
// the loop only moves chunks), so memory stays flat and the loop stays free.
//   node dist/src/cli.cjs collect --out traces/healthy-stream -- node traces/healthy-stream.mjs
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

const dir = mkdtempSync(join(tmpdir(), 'healthy-stream-'));
const input = join(dir, 'log.txt');
const line = Buffer.from('2024-06-01T12:00:00Z GET /index.html 200 512\n'.repeat(1400));
await pipeline(Readable.from((function* () { for (let i = 0; i < 512; i++) yield line; })()), createWriteStream(input));

await pipeline(createReadStream(input), createGzip({ level: 1 }), createWriteStream(`${input}.gz`));
console.log(`${statSync(input).size >> 20} MB -> ${statSync(`${input}.gz`).size >> 10} KB`);
rmSync(dir, { recursive: true, force: true });
