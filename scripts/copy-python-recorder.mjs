// The Python recorder is not TypeScript: the build copies it beside the compiled collector, where
// `collect` puts it on PYTHONPATH: sitecustomize.py and the recorder's package folder, one level
// deep. Runs after `tsc`, from the package root.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const from = 'src/collector/python';
const to = 'dist/src/collector/python';
mkdirSync(to, { recursive: true });
for (const entry of readdirSync(from, { withFileTypes: true })) {
  if (entry.isFile() && entry.name.endsWith('.py')) copyFileSync(`${from}/${entry.name}`, `${to}/${entry.name}`);
  if (!entry.isDirectory() || entry.name === '__pycache__') continue;
  mkdirSync(`${to}/${entry.name}`, { recursive: true });
  for (const name of readdirSync(`${from}/${entry.name}`)) {
    if (name.endsWith('.py')) copyFileSync(`${from}/${entry.name}/${name}`, `${to}/${entry.name}/${name}`);
  }
}

// Bytecode compiled now is what Python loads at every recorded start, also where the environment
// says not to write bytecode (PYTHONDONTWRITEBYTECODE only stops writing). Without a python3 here the
// recorder still works, compiled at each start.
const python = spawnSync('python3', ['-m', 'compileall', '-q', to], { stdio: 'inherit' });
if (python.error === undefined && python.status !== 0) process.exitCode = python.status ?? 1;
