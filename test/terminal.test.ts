// The terminal report: readable at 80 columns, no colour codes off a TTY, the heaviest line first.

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { root, runCli, tempDir } from './support.js';

test('the terminal report of a recorded blocking server fits 80 columns and leads with the culprit', () => {
  const r = runCli(['analyze', join(root, 'traces', 'login-server.cpuprofile'), '--top', '5']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  for (const line of lines) assert.ok([...line].length <= 80, `too wide: ${line}`);
  assert.doesNotMatch(r.stdout, /\x1b\[/);
  const header = lines[1].match(/user [\d.]+ ms ([\d.]+)%  ▓ system [\d.]+ ms ([\d.]+)%  ░ idle [\d.]+ ms ([\d.]+)%/);
  assert.ok(header, lines[1]);
  const shares = header.slice(1).map(Number);
  assert.ok(Math.abs(shares.reduce((a, b) => a + b) - 100) < 0.3);
  assert.ok(shares[1] > 90, 'scryptSync makes this profile system time');
  const table = lines.slice(lines.findIndex((l) => l.startsWith('Top 5 of')) + 2);
  assert.equal(table.length, 5);
  // scryptSync is called on line 9; the profile only knows handleLogin, the source tells the line.
  assert.match(table[0], /▓{10,}.*login-server\.mjs:9 handleLogin$/);
});

test('a long path gives way in the header, which still fits 80 columns and keeps the file name', () => {
  const dir = join(tempDir(), 'a-directory-whose-name-alone-takes-most-of-a-terminal-line-of-eighty-columns');
  mkdirSync(dir);
  const profile = join(dir, 'login-server.cpuprofile');
  copyFileSync(join(root, 'traces', 'login-server.cpuprofile'), profile);
  const r = runCli(['analyze', profile, '--top', '3']);
  assert.equal(r.code, 0, r.stderr);
  const [header] = r.stdout.split('\n');
  assert.ok([...header].length <= 80, `too wide: ${header}`);
  assert.match(header, /^….*\/login-server\.cpuprofile  V8 CPU profile, \d+ samples$/);
});
