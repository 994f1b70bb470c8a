// Measures one command of a benchmark as a child process: wall time, CPU time and peak RSS. Shared by
// the benchmarks, which compare loopscope with a baseline run the same way.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Run { wallS: number; cpuS: number; rssMB: number; code: number | null; err: string }

/** Runs `node ...args` with stdout discarded; wall time, the child's CPU time (user + system) and peak RSS. */
export function measure(args: string[]): Promise<Run> {
  // GNU time reports the child's ru_maxrss and CPU time exactly; polling VmHWM is the fallback
  // without it (CPU time then unknown: NaN). CPU time is what a loaded, shared machine distorts least.
  const viaTime = existsSync('/usr/bin/time');
  const [cmd, argv] = viaTime ? ['/usr/bin/time', ['-f', '%U %S %M', process.execPath, ...args]] : [process.execPath, args];
  const t0 = performance.now();
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-65536); // a runaway child must not fill our memory; %M is last
  });
  let hwmKB = 0;
  const poll = viaTime ? undefined : setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) hwmKB = Math.max(hwmKB, Number(m[1]));
    } catch { /* exited between polls */ }
  }, 10);
  return new Promise((done) => {
    child.on('close', (code) => {
      const wallS = (performance.now() - t0) / 1000;
      clearInterval(poll);
      const lines = stderr.trimEnd().split('\n');
      let cpuS = NaN;
      if (viaTime) {
        const [user, system, kb] = (lines.pop() ?? '').split(' ').map(Number);
        hwmKB = kb || 0;
        cpuS = user + system;
      }
      const err = lines.find((l) => l.trim() && !/^Command (exited|terminated)/.test(l)) ?? '';
      done({ wallS, cpuS, rssMB: hwmKB / 1024, code, err });
    });
    child.on('error', (e) => done({ wallS: 0, cpuS: NaN, rssMB: 0, code: -1, err: e.message }));
  });
}

/** CPU time of the children this process has waited for (ms; /proc/self/stat cutime + cstime, 10 ms ticks), NaN off Linux. */
export function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}
