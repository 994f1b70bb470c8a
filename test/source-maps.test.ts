// Source maps: real TypeScript programs compiled with the project's tsc and bundled with esbuild,
// profiled with `node --cpu-prof`; the hot line must be reported at the .ts file's line, in the
// .ts file, under the function's original name. Maps beside the script, inline, found through
// --source-maps DIR; missing and broken maps keep the generated positions.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { buildSync } from 'esbuild';
import { analyzeFile } from '../src/analyze.js';
import type { Analysis, LineStat } from '../src/model.js';
import { markedLine, programPath, root, runCli, tempDir } from './support.js';

/** Profiles `script` (any path) with `node --cpu-prof`; returns the profile's path. */
function profile(script: string, ms = 300): string {
  const dir = tempDir();
  const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '500', script, String(ms)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!);
}

/** The line with the most user time. */
function hottest(a: Analysis): LineStat {
  return [...a.lines].sort((x, y) => y.userMs - x.userMs)[0];
}

const lineOf = (text: string, mark: string) => text.split('\n').findIndex((l) => l.includes(mark)) + 1;

test('source maps: a TypeScript program compiled by the project (tsc, map beside the script)', async () => {
  const script = join(root, 'dist', 'test', 'programs', 'ts-hot.js');
  // The compiled line differs from the source's, or the test would prove nothing.
  const generatedLine = lineOf(readFileSync(script, 'utf8'), '// @mark');
  assert.notEqual(generatedLine, markedLine('ts-hot.ts'));
  const a = await analyzeFile(profile(script));
  const hot = hottest(a);
  assert.deepEqual([hot.file, hot.line, hot.function], [programPath('ts-hot.ts'), markedLine('ts-hot.ts'), 'spin']);
  assert.ok(hot.userMs > 0.5 * a.totals.userMs, `${hot.userMs} of ${a.totals.userMs} ms user on the hot line`);
  assert.equal(a.lines.filter((l) => l.file === script).length, 0, 'no line left at the compiled script');
});

test('source maps: an inline map (tsc --inlineSourceMap)', async () => {
  const dir = tempDir();
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(
    process.execPath,
    [tsc, '--ignoreConfig', '--inlineSourceMap', '--target', 'ES2022', '--module', 'NodeNext', '--types', 'node', '--outDir', dir, programPath('ts-hot.ts')],
    { encoding: 'utf8', cwd: root },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const script = join(dir, 'ts-hot.js');
  assert.match(readFileSync(script, 'utf8'), /\/\/# sourceMappingURL=data:application\/json;base64,/);
  const hot = hottest(await analyzeFile(profile(script)));
  assert.deepEqual([hot.file, hot.line, hot.function], [programPath('ts-hot.ts'), markedLine('ts-hot.ts'), 'spin']);
});

/** Bundles the two-module program with esbuild into `dir`. */
function bundle(dir: string, minify: boolean): string {
  const outfile = join(dir, minify ? 'app.min.mjs' : 'app.mjs');
  buildSync({ entryPoints: [programPath('ts-bundle-main.ts')], bundle: true, sourcemap: true, minify, platform: 'node', format: 'esm', outfile, logLevel: 'error' });
  return outfile;
}

test('source maps: an esbuild bundle: the hot line in the bundled module, then maps moved, missing and broken', async () => {
  const dir = tempDir();
  const script = bundle(dir, false);
  const recorded = profile(script);
  const work = programPath('ts-bundle-work.ts');

  let hot = hottest(await analyzeFile(recorded));
  assert.deepEqual([hot.file, hot.line, hot.function], [work, markedLine('ts-bundle-work.ts'), 'checksum']);

  // The map moved away: the generated position, unless --source-maps names its directory.
  const maps = join(dir, 'maps');
  mkdirSync(maps);
  renameSync(`${script}.map`, join(maps, 'app.mjs.map'));
  hot = hottest(await analyzeFile(recorded));
  assert.equal(hot.file, script);
  // esbuild drops comments: the loop's line is found by its code.
  assert.equal(hot.line, lineOf(readFileSync(script, 'utf8'), '% 2147483648'));
  const r = runCli(['analyze', '--json', '--source-maps', maps, recorded]);
  assert.equal(r.code, 0, r.stderr);
  const lines = (JSON.parse(r.stdout) as { lines: LineStat[] }).lines;
  hot = [...lines].sort((x, y) => y.userMs - x.userMs)[0];
  assert.deepEqual([hot.file, hot.line, hot.function], [work, markedLine('ts-bundle-work.ts'), 'checksum']);

  // The same bundle served to a browser: its map only in the directory given.
  const served = join(dir, 'served.cpuprofile');
  writeFileSync(served, readFileSync(recorded, 'utf8').replaceAll(pathToFileURL(script).href, 'http://localhost:8080/static/app.mjs?v=3'));
  const web = await analyzeFile(served, { sourceMaps: maps });
  hot = hottest(web);
  assert.ok(hot.file.startsWith('http://localhost:8080/') && hot.file.endsWith('/test/programs/ts-bundle-work.ts'), hot.file);
  assert.deepEqual([hot.line, hot.function], [markedLine('ts-bundle-work.ts'), 'checksum']);
  assert.equal(hottest(await analyzeFile(served)).file, 'http://localhost:8080/static/app.mjs?v=3');

  // Broken maps: not JSON; JSON whose mappings do not decode. No crash, the generated position.
  for (const broken of ['{"version": 3, "sources": [', '{"version":3,"sources":["a.ts"],"names":[],"mappings":"!!!;;%%"}']) {
    writeFileSync(`${script}.map`, broken);
    hot = hottest(await analyzeFile(recorded, { sourceMaps: maps + '-missing' }));
    assert.equal(hot.file, script, broken);
  }
});

test('source maps: a minified esbuild bundle: the function under its own name, at its line in the module', async () => {
  const dir = tempDir();
  const script = bundle(dir, true);
  const text = readFileSync(script, 'utf8');
  assert.ok(text.split('\n').length <= 3, 'minified onto one line');
  const a = await analyzeFile(profile(script));
  const hot = hottest(a);
  // A CPU profile's ticks have lines, no columns: on a minified line they count at the function's start.
  const work = readFileSync(programPath('ts-bundle-work.ts'), 'utf8');
  assert.deepEqual([hot.file, hot.line, hot.function], [programPath('ts-bundle-work.ts'), lineOf(work, 'export function checksum'), 'checksum']);
});
