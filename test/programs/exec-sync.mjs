// A synchronous child process: the thread waits inside Node's spawnSync, system time of the caller.
import { execSync } from 'node:child_process';

function sleeper(seconds) {
  execSync(`sleep ${seconds}`); // @mark
}
sleeper(Number(process.argv[2] ?? 0.4));
