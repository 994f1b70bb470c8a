// Phase marks, to see where a run's time goes: with LOOPSCOPE_TIMING=1 the command line prints, at
// exit, the wall and CPU milliseconds between marks on stderr (the first row is Node's startup).
// Nothing is recorded otherwise, and nothing in the browser. The marks live on a global so that
// the bundled analyze command and the command line share one list.

type Mark = [name: string, wallMs: number, cpuMs: number];

const KEY = Symbol.for('loopscope.timing');
const host = globalThis as { [KEY]?: Mark[] };
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
const enabled = env?.LOOPSCOPE_TIMING === '1';

export function mark(name: string): void {
  if (!enabled) return;
  const usage = process.cpuUsage();
  (host[KEY] ??= []).push([name, performance.now(), (usage.user + usage.system) / 1000]);
}

/** The marks as lines: wall ms, CPU ms, then the phase that ended at the mark. */
export function timingReport(): string {
  const marks = host[KEY] ?? [];
  const lines = ['  wall ms    CPU ms  phase (ended at the mark)'];
  let previous: Mark = ['', 0, 0];
  for (const m of marks) {
    lines.push(`${(m[1] - previous[1]).toFixed(1).padStart(9)} ${(m[2] - previous[2]).toFixed(1).padStart(9)}  ${m[0]}`);
    previous = m;
  }
  return lines.join('\n') + '\n';
}

export const timingEnabled = enabled;
