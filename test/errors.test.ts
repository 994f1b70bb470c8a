// Bad input: one clear line on stderr naming the problem and where, exit code 2, no stack trace,
// and no output file left behind.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { corpus, record, runCli, tempDir } from './support.js';

const simple = readFileSync(join(corpus, 'speedscope', 'Chrome', '65', 'simple.cpuprofile'), 'utf8');

/** Runs analyze with --speedscope into a fresh directory; checks the failure contract. */
function fails(input: string | Buffer, expected: RegExp, name = 'input.cpuprofile'): void {
  const dir = tempDir();
  const path = join(dir, name);
  writeFileSync(path, input);
  const out = join(dir, 'out');
  mkdirSync(out);
  const r = runCli(['analyze', path, '--speedscope', join(out, 'flame.json')]);
  assert.equal(r.code, 2, `exit code for ${expected}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^loopscope: /);
  assert.match(lines[0], expected);
  assert.deepEqual(readdirSync(out), [], 'no output file, not even a temporary one');
}

test('an empty file', () => fails('', /empty file/));
test('whitespace only', () => fails('  \n\t ', /empty file/));
test('not JSON', () => fails('hello world', /not JSON/));
test('binary data', () => fails(Buffer.from([0, 1, 2, 3, 250, 251]), /not a profile/));
test('invalid JSON names the byte', () => fails('{"nodes": [1, 2], "samples" x', /unexpected 'x' at byte 28/));
test('data after the document', () => fails(simple + ' {}', new RegExp(`after the end .* at byte ${simple.length + 1}|at byte ${simple.length + 1}.*after the end`)));
test('a JSON object that is not a profile', () => fails('{"name": "x", "version": 3}', /not a CPU profile.*"name", "version"/));
test('missing samples', () => fails('{"nodes": [{"id": 1, "callFrame": {"functionName": "(root)"}}]}', /missing field "samples"/));
test('missing nodes', () => fails('{"samples": [1], "timeDeltas": [1]}', /missing field "nodes"/));
test('missing timeDeltas', () => fails(simple.replace('"timeDeltas"', '"deltas"'), /missing field "timeDeltas"/));
test('a sample id with no node', () => {
  const bad = simple.replace('"samples":[2,5,5', '"samples":[2,5,99');
  fails(bad, /samples\[2\] is 99, which is not a node id/);
});
test('a number that is not a number', () => {
  const bad = simple.replace('"timeDeltas":[11575,1060', '"timeDeltas":[11575,10x0');
  const at = bad.indexOf('10x0') + 2;
  fails(bad, new RegExp(`"timeDeltas": unexpected 'x' at byte ${at}`));
});
test('arrays of different lengths', () => fails(simple.replace('"samples":[2,5,5', '"samples":[2,5'), /"samples" has 28 entries but "timeDeltas" has more/));
test('a child that is not a node', () => fails(simple.replace('"children":[7]', '"children":[77]'), /has child 77, which is not a node/));
test('nodes that are not JSON', () => fails(simple.replace('"hitCount":0,"children":[2]', '"hitCount":0,"children":[2,]'), /"nodes" at byte 9 is not valid JSON/));
test('a JSON array that is not trace events', () => fails('[1, 2]', /event 0 at byte 1 is not an object \(starts with '1'\)/));
test('a truncated gzip file says so', () => fails(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), /corrupt or truncated gzip data/));

test('a real profile truncated anywhere says where it ends', () => {
  const whole = readFileSync(record('timer-wait.mjs', ['50']));
  const keys = ['nodes', 'samples', 'timeDeltas'];
  for (const key of keys) {
    const start = whole.indexOf(`"${key}":[`);
    const cut = start + key.length + 10;
    fails(whole.subarray(0, cut), new RegExp(`truncated: the JSON document ends at byte ${cut} inside the value of "${key}"`));
  }
  fails(whole.subarray(0, whole.length - 1), new RegExp(`truncated: the JSON document ends at byte ${whole.length - 1}`));
});

test('a directory, a missing file, an unknown option', () => {
  const dir = tempDir();
  let r = runCli(['analyze', dir]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `loopscope: ${dir}: is a directory, not a recording made by \`loopscope collect\`\n`);
  r = runCli(['analyze', join(dir, 'nope.cpuprofile')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `loopscope: ${join(dir, 'nope.cpuprofile')}: no such file\n`);
  r = runCli(['analyze', '--frobnicate', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
  r = runCli(['analyze', '--top', 'many', join(corpus, 'speedscope', 'Chrome', '65', 'simple.cpuprofile')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'loopscope: --top must be a positive integer, not "many"\n');
});

test('standard input is read like a file', () => {
  const r = runCli(['analyze', '--json', '-'], { input: simple });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).totals.samples, 29);
});
