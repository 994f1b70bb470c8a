// Starts a child Node process (this file with the argument `child`) and waits for it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === 'child') {
  await new Promise((resolve) => setTimeout(resolve, 30));
  console.log(`child ${process.pid}`);
} else {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'child'], { encoding: 'utf8' });
  console.log(`parent ${process.pid} ${out.trim()}`);
}
