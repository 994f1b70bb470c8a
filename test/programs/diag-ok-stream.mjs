// Healthy: a 24 MB file written and hashed through streams, 64 KB at a time.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const dir = mkdtempSync(join(tmpdir(), 'diag-stream-'));
const file = join(dir, 'data.bin');
const block = Buffer.alloc(64 << 10, 7);
await pipeline(Readable.from((function* () { for (let i = 0; i < 384; i++) yield block; })()), createWriteStream(file));

const hash = createHash('sha256');
for await (const chunk of createReadStream(file)) hash.update(chunk);
console.log(hash.digest('hex').slice(0, 16));
rmSync(dir, { recursive: true, force: true });
