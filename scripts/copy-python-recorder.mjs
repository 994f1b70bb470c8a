// The Python recorder is not TypeScript: the build copies it beside the compiled collector, where
// `collect` puts it on PYTHONPATH. Runs after `tsc`, from the package root.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const from = 'src/collector/python';
const to = 'dist/src/collector/python';
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) if (name.endsWith('.py')) copyFileSync(`${from}/${name}`, `${to}/${name}`);
