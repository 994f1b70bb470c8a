// A synchronous sleep in a child process: the main thread is off the CPU, though not idle.
import { execSync } from 'node:child_process';

function sleeper(seconds) {
  execSync(`sleep ${seconds}`); // @mark
}
sleeper(Number(process.argv[2] ?? 0.3));
