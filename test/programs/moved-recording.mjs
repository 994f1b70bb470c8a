// A synchronous sleep whose line only the source tells: main has no samples of its own there.
import { execSync } from 'node:child_process';

function main() {
  const started = Date.now();
  const sleeper = ['sleep', '0.3'].join(' ');
  execSync(sleeper); // @mark
  return Date.now() - started;
}
main();
