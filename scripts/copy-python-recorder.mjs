// The Python recorder is not TypeScript: the build copies it beside the compiled collector, where
// `collect` puts it on PYTHONPATH: sitecustomize.py and the recorder's package folder, one level
// deep. Runs after `tsc`, from the package root.
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
