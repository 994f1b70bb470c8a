// The installed command: its entry point runs by itself (npx and npm's bin links execute it directly).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { cli } from './support.js';

test('the command runs as an executable and answers --version and --help', () => {
  const version = spawnSync(cli, ['--version'], { encoding: 'utf8' });
  assert.equal(version.error, undefined, 'dist/src/cli.cjs must be executable');
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = spawnSync(cli, ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const command of ['analyze', 'collect', 'serve', 'batch', 'merge', 'diff']) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
});
