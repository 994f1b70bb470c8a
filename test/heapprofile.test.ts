// V8 sampling heap profiles read as profiles of allocated bytes: one recorded in the test with
// `node --heap-prof`, and the corpus's Chrome and Node ones against speedscope's own snapshots.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeFile } from '../src/analyze.js';
import { openFile } from '../src/core/file-source.js';
import type { Profile } from '../src/model.js';
import { readHeapProfile } from '../src/recording/heap.js';
import type { JsonReport } from '../src/reports/json.js';
import { corpus, markedLine, programPath, recordHeap as recordHeapOf, runCli, tempDir } from './support.js';

interface Node {
  selfSize: number;
  children: Node[];
}

/** The bytes of a heap profile's tree, added up here rather than by the importer. */
function treeBytes(root: Node): number {
  let sum = 0;
  const stack = [root];
  while (stack.length) {
    const node = stack.pop()!;
    sum += node.selfSize;
    stack.push(...node.children);
  }
  return sum;
}

/** `node --heap-prof` of a program that allocates 37 MB in keep(). */
const recordHeap = () => recordHeapOf('heap-alloc.mjs');

test('node --heap-prof: bytes per line, the allocating function on top, no findings', async () => {
  const path = recordHeap();
  const r = runCli(['analyze', '--json', path]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  const bytes = treeBytes(JSON.parse(readFileSync(path, 'utf8')).head);
  assert.equal(report.unit, 'bytes');
  assert.equal(report.totals.self, bytes);
  assert.equal(report.totals.wallMs, 0);
  assert.deepEqual(report.findings, []);
  const [top] = report.lines;
  assert.deepEqual([top.file, top.line, top.function], [programPath('heap-alloc.mjs'), markedLine('heap-alloc.mjs'), 'keep']);
  const spare = report.lines.find((l) => l.function === 'spare')!;
  assert.ok(top.self! > 10 * spare.self!, `keep ${top.self} B, spare ${spare.self} B`);
  const text = runCli(['analyze', path]).stdout;
  assert.match(text, /total [\d.]+ MB \(bytes, not time/);
  assert.match(text, /Top \d+ of \d+ lines by bytes/);

  // The recording's reader parses the same file the same way: its allocation sites agree.
  const source = await openFile(path);
  try {
    const summary = await readHeapProfile(source);
    assert.equal(summary.totalBytes, bytes);
    assert.deepEqual([summary.sites[0].function, summary.sites[0].line], ['keep', markedLine('heap-alloc.mjs')]);
  } finally {
    await source.close();
  }
});

/** speedscope's snapshot of a heap profile: self and total bytes by frame position. */
function snapshotWeights(name: string): Map<string, [number, number]> {
  const text = readFileSync(join(corpus, 'speedscope', 'expected', 'v8heapalloc.test.ts.snap'), 'utf8');
  const block = text.split(/^exports\[/m).find((b) => b.startsWith(`\`importV8HeapAlloc from ${name} 1\``))!;
  const weights = new Map<string, [number, number]>();
  for (const m of block.matchAll(/Frame \{([^}]*)\}/g)) {
    const field = (key: string) => JSON.parse(new RegExp(`"${key}": (.*),`).exec(m[1])![1]);
    const file: string = field('file');
    const key = `${file ? '' : field('name')}@${file}:${field('line')}:${field('col')}`;
    const [self, total] = weights.get(key) ?? [0, 0];
    weights.set(key, [self + field('selfWeight'), total + field('totalWeight')]);
  }
  return weights;
}

/** The same from our Profile: a frame's total counts each stack holding it once. */
function profileWeights(profile: Profile): Map<string, [number, number]> {
  const weights = new Map<string, [number, number]>();
  const keyOf = (frame: number) => {
    const f = profile.frames[frame];
    return `${f.file ? '' : f.name}@${f.file}:${f.line - 1}:${f.column - 1}`;
  };
  for (let node = 0; node < profile.nodeParent.length; node++) {
    const self = profile.nodeSelfMs[node];
    if (!self) continue;
    const seen = new Set<string>();
    for (let i = node; i >= 0; i = profile.nodeParent[i]) {
      const key = keyOf(profile.nodeFrame[i]);
      const w = weights.get(key) ?? [0, 0];
      if (i === node) w[0] += self;
      if (!seen.has(key)) w[1] += self;
      seen.add(key);
      weights.set(key, w);
    }
  }
  return weights;
}

for (const [name, file] of [
  ['Chrome', 'Chrome/69/Heap-20181005T144546.heapprofile'],
  ['NodeJS', 'node/10.11.0/Heap-20181003T105432.heapprofile'],
]) {
  test(`corpus ${file}: every frame's bytes as speedscope reads them`, async () => {
    const analysis = await analyzeFile(join(corpus, 'speedscope', file));
    assert.equal(analysis.profile.unit, 'bytes');
    const expected = snapshotWeights(name);
    const got = profileWeights(analysis.profile);
    let compared = 0;
    for (const [key, [self, total]] of expected) {
      // Frames without bytes below them are no stack of the profile.
      if (total === 0) continue;
      assert.deepEqual(got.get(key), [self, total], key);
      compared++;
    }
    assert.ok(compared > 10, `${compared} frames`);
    for (const key of got.keys()) assert.ok(expected.has(key), `${key} not in the snapshot`);
  });
}

test('a broken heap profile is one line that says what is wrong', () => {
  const dir = tempDir();
  const cases: [string, RegExp][] = [
    ['{"head": {"callFrame": {"functionName": "(root)"}, "selfSize": 0, "children": 3}, "samples": []}', /"children" is not an array/],
    ['{"head": {"callFrame": {}, "children": [7]}, "samples": []}', /a heap profile node that is not an object/],
    ['{"head": 5, "samples": []}', /not a heap profile \(no "head"\)/],
  ];
  cases.forEach(([text, message], i) => {
    const path = join(dir, `broken-${i}.heapprofile`);
    writeFileSync(path, text);
    const r = runCli(['analyze', path]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  });
});
