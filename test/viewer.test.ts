// The browser viewer in a real Chromium, served by `loopscope serve`: a profile chosen, dropped or
// preloaded runs through the importer, the WASM core and the analysis in a Worker; the page shows
// the findings, totals and the per-line table, renders trace contents as text only, and opens the
// flame graph in speedscope's bundled viewer. Profiles of bytes or counts show their unit, and
// profiles without a time order no timeline. The server answers nothing outside its own files.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { basename, extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { JsonReport } from '../src/reports/json.js';
import { generateProfile } from './bench/generate.js';
import { bytes, count } from '../src/reports/terminal.js';
import { cli, corpus, markedLine, programPath, recordHeap as recordHeapOf, root, runCli, tempDir } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const LOGIN = join(root, 'traces', 'login-server.cpuprofile');
// The program's source: with it, a finding points at the call line V8 does not record for callers.
const LOGIN_SOURCE = join(root, 'traces', 'login-server.mjs');
// A `collect` recording: a synchronous 300 ms sleep (Atomics.wait) holds the loop.
const BLOCKING = join(root, 'traces', 'blocking-sleep');
const blockingFiles = () => readdirSync(BLOCKING).map((name) => join(BLOCKING, name));
const skip = !existsSync(CHROMIUM) && !process.env.CI && 'no /usr/bin/chromium';

interface Served {
  child: ChildProcess;
  url: string;
}

/** Runs `loopscope serve --port 0 [files]` and reads the URL it prints. */
function serve(files: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    // Only until it prints its URL: the server must outlive the tests that use it.
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`serve printed no URL within 10 s: ${out} ${err}`));
    }, 10_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
}

/** A raw GET, the path sent exactly as given (fetch would normalise "/../"). */
function rawGet(url: string, path: string, host?: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `node --heap-prof` of a program that allocates 37 MB in keep(). */
const recordHeap = () => recordHeapOf('heap-alloc.mjs');

function analyzeJson(path: string): JsonReport {
  const r = runCli(['analyze', '--json', path]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JsonReport;
}

async function newPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

describe('viewer', { skip }, () => {
  let plain: Served;
  let preloaded: Served;
  let recording: Served;
  let browser: Browser;

  before(async () => {
    plain = await serve();
    preloaded = await serve([LOGIN, LOGIN_SOURCE]);
    recording = await serve([BLOCKING]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    plain?.child.kill();
    preloaded?.child.kill();
    recording?.child.kill();
  });

  test('the server serves its own files and the preloaded inputs, nothing else', async () => {
    assert.equal((await rawGet(preloaded.url, '/')).status, 200);
    assert.equal((await rawGet(preloaded.url, '/speedscope/index.html')).status, 200);
    const list = JSON.parse((await rawGet(preloaded.url, '/preload.json')).body) as { name: string; url: string }[];
    assert.deepEqual(list.map((f) => f.name), ['login-server.cpuprofile', 'login-server.mjs']);
    const input = await rawGet(preloaded.url, `/${list[0].url}`);
    assert.equal(input.status, 200);
    assert.equal(input.body, readFileSync(LOGIN, 'utf8'));
    for (const path of [
      '/../../package.json',
      '/../package.json',
      '/package.json',
      '/%2e%2e/%2e%2e/package.json',
      '/%2E%2E/%2E%2E/package.json',
      '/..%2f..%2fpackage.json',
      '/..%2F..%2F..%2Fpackage.json',
      '/..%5c..%5cpackage.json',
      '/%252e%252e/%252e%252e/package.json',
      '/speedscope/../../../package.json',
      '/speedscope/..%2f..%2f..%2fpackage.json',
      '/inputs/0/..%2f..%2f..%2fpackage.json',
      '/inputs/0/../../../../etc/passwd',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/index.html%00.png',
      '/%',
      '//etc/passwd',
    ]) {
      assert.equal((await rawGet(preloaded.url, path)).status, 404, path);
    }
    // Another host name pointing at 127.0.0.1 (DNS rebinding) gets nothing.
    assert.equal((await rawGet(preloaded.url, '/', 'attacker.example:80')).status, 403);
  });

  test('a chosen profile shows the blocking finding, the line table and the totals', async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    // The drop zone's button opens a real file input.
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Choose profiles…' }).click()]);
    assert.ok(chooser.isMultiple());
    await page.locator('#file').setInputFiles([LOGIN, LOGIN_SOURCE]);
    const card = page.locator('article.finding').first();
    await card.waitFor({ timeout: 20_000 });
    const heading = (await card.locator('h3').textContent()) ?? '';
    assert.match(heading, /blocking/);
    assert.match(heading, /critical/);
    assert.match((await card.textContent()) ?? '', /login-server\.mjs:9/);
    assert.match((await card.textContent()) ?? '', /Suggestion:.*scrypt/);
    assert.match((await card.textContent()) ?? '', /Impact:.*saves about/);
    const rows = page.locator('table.lines tbody tr');
    const first = (await rows.first().locator('td.loc').textContent()) + ' ' + (await rows.first().locator('td.fn').textContent());
    assert.equal(first, 'login-server.mjs:9 handleLogin');
    assert.ok((await rows.count()) <= 50);
    assert.match((await page.locator('section.totals').textContent()) ?? '', /system 761\.\d ms/);
    // A bare profile's timeline: busy/idle and the blocking stretch at the finding's marker, no series.
    const timeline = page.locator('section.timeline');
    assert.ok(((await timeline.locator('path.busy').getAttribute('d')) ?? '').length > 0);
    assert.ok((await timeline.locator('rect.stretch').count()) > 0);
    assert.ok((await timeline.locator('rect.marker[data-finding="1"]').count()) > 0);
    assert.equal(await timeline.locator('[data-lane=loop-delay], [data-lane=memory], [data-lane=gc]').count(), 0);
    assert.match((await timeline.locator('.timeline-summary').textContent()) ?? '', /bare profile has no loop delay/);
    // docs/viewer.png, the README's picture: UPDATE_SCREENSHOT=1 node --test dist/test/viewer.test.js
    if (process.env.UPDATE_SCREENSHOT) {
      mkdirSync(join(root, 'docs'), { recursive: true });
      // The findings, the timeline, the totals and the top of the line table.
      await page.screenshot({ path: join(root, 'docs', 'viewer.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1400 } });
    } else {
      assert.ok((await page.screenshot()).length > 0);
    }

    // Sorting by a column header, then filtering by file.
    await page.locator('th[data-key=function] button').click();
    assert.equal(await page.locator('th[data-key=function]').getAttribute('aria-sort'), 'ascending');
    const names = await rows.locator('td.fn').allTextContents();
    assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)));
    await page.locator('th[data-key=time] button').click();
    await page.getByLabel('filter lines by file').fill('login-server');
    const locations = await rows.locator('td.loc').allTextContents();
    assert.ok(locations.length > 0 && locations.every((l) => l.startsWith('login-server.mjs:')), locations.join());
    assert.equal(locations[0], 'login-server.mjs:9');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a preloaded profile is analysed when the page opens', async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(preloaded.url);
    await page.locator('article.finding').first().waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('.report h2').textContent(), 'login-server.cpuprofile');
    assert.match((await page.locator('article.finding h3').first().textContent()) ?? '', /critical blocking/);
    assert.match((await page.locator('article.finding').first().textContent()) ?? '', /login-server\.mjs:9 handleLogin/);
    assert.equal(await page.locator('table.lines tbody tr td.loc').first().textContent(), 'login-server.mjs:9');
    assert.equal(await page.locator('table.lines tbody tr td.fn').first().textContent(), 'handleLogin');
    assert.deepEqual(errors, []);
    await page.close();
  });

  /** The CLI's report of a recording directory (blocking-sleep by default): what the page must show. */
  function cliReport(dir = BLOCKING): JsonReport {
    const r = runCli(['analyze', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as JsonReport;
  }

  /** The page's finding cards match the CLI's findings: kind, severity, title, file:line, function. */
  async function assertSameFindings(page: Page | Locator, expected: JsonReport): Promise<void> {
    const cards = page.locator('article.finding');
    assert.equal(await cards.count(), expected.findings.length);
    for (const [i, f] of expected.findings.entries()) {
      const card = cards.nth(i);
      assert.equal(await card.locator('h3').textContent(), `${i + 1}. ${f.severity} ${f.kind}: ${f.title}`);
      assert.equal(await card.locator('.culprit code').first().textContent(), `${basename(f.location.file)}:${f.location.line}`);
      assert.equal(await card.locator('.culprit code.fn').textContent(), f.location.function);
    }
  }

  test('a whole recording dropped at once is analysed like `analyze DIR`, with its timeline', async () => {
    const expected = cliReport();
    const blocking = expected.findings.find((f) => f.kind === 'blocking');
    assert.ok(blocking, 'the recording has a blocking finding');
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    // recording.json and the pid files, dropped together without their folder.
    await page.locator('#drop').drop({ files: blockingFiles() });
    await page.locator('section.timeline').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('.report').count(), 1, 'one input, not one per file');
    assert.equal(await page.locator('.report h2').textContent(), 'recording');
    const manifest = JSON.parse(readFileSync(join(BLOCKING, 'recording.json'), 'utf8')) as { main: number };
    assert.match((await page.locator('.report .recording').textContent()) ?? '', new RegExp(`process ${manifest.main} \\(${manifest.main}\\.cpuprofile\\)`));
    await assertSameFindings(page, expected);
    // For screen readers: findings are headings, and the report's arrival is announced.
    assert.equal(await page.getByRole('heading', { level: 3, name: blocking.title }).count(), 1);
    assert.equal(await page.getByRole('status').textContent(), `recording analysed: ${expected.findings.length} finding${expected.findings.length === 1 ? '' : 's'}`);
    // The table is the CLI's too.
    const top = expected.lines[0];
    assert.equal(await page.locator('table.lines tbody tr td.loc').first().textContent(), `${basename(top.file)}:${top.line}`);

    // The timeline: the recording's series, and the finding's marker on the blocking stretch.
    const timeline = page.locator('section.timeline');
    assert.ok(((await timeline.locator('[data-lane=loop-delay] path.delay').getAttribute('d')) ?? '').startsWith('M'));
    assert.ok(((await timeline.locator('[data-lane=memory] path.rss').getAttribute('d')) ?? '').startsWith('M'));
    const n = expected.findings.indexOf(blocking) + 1;
    const marker = timeline.locator(`rect.marker[data-finding="${n}"]`);
    assert.equal(await marker.count(), blocking.evidence.stretches);
    const span = async (rect: typeof marker) => [Number(await rect.getAttribute('data-start-ms')), Number(await rect.getAttribute('data-end-ms'))];
    const [start, end] = await span(marker.first());
    // The stretch less what is not the call (loading code, the recorder's work) is the evidence's longest stretch.
    const longest = Number(blocking.evidence.longestStretchMs);
    assert.ok(end - start >= longest && end - start < longest * 1.05, `marker ${start}..${end}, longest stretch ${longest} ms`);
    const stretches = await Promise.all((await timeline.locator('rect.stretch').all()).map(span));
    assert.ok(stretches.some(([s, e]) => s === start && e === end), `a drawn stretch at the marker: ${JSON.stringify(stretches)}`);
    // Said in words too: the card's time, the summary and the table.
    assert.match((await page.locator('article.finding').nth(n - 1).locator('.seen').textContent()) ?? '', /When: from \d/);
    assert.match((await timeline.locator('.timeline-summary').textContent()) ?? '', new RegExp(`finding ${n} \\(blocking\\) seen from`));
    await timeline.locator('summary', { hasText: 'Timeline as a table' }).click();
    assert.ok((await timeline.locator('.timeline-table tbody tr', { hasText: `finding ${n}: ${blocking.title}` }).count()) === 1);
    // docs/viewer-timeline.png: UPDATE_SCREENSHOT=1 node --test dist/test/viewer.test.js
    if (process.env.UPDATE_SCREENSHOT) await timeline.screenshot({ path: join(root, 'docs', 'viewer-timeline.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a recording folder chosen, or given to `serve DIR`, is one input', async () => {
    const expected = cliReport();
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    // By keyboard: the second stop is the folder button, Enter opens the chooser. (Listening first:
    // Playwright intercepts the chooser only once someone waits for it.)
    const chosen = page.waitForEvent('filechooser');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Choose a recording folder…');
    await page.keyboard.press('Enter');
    const chooser = await chosen;
    assert.equal(chooser.isMultiple(), false);
    await chooser.setFiles(BLOCKING);
    await page.locator('section.timeline').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('.report h2').textContent(), 'blocking-sleep');
    await assertSameFindings(page, expected);
    assert.deepEqual(errors, []);
    await page.close();

    // serve DIR: the manifest and the pid files, nothing else, under the recording's folder.
    const list = JSON.parse((await rawGet(recording.url, '/preload.json')).body) as { name: string; folder: string }[];
    assert.deepEqual(list.map((f) => `${f.folder}/${f.name}`), readdirSync(BLOCKING).sort().map((name) => `blocking-sleep/${name}`));
    const served = await newPage(browser);
    await served.page.goto(recording.url);
    await served.page.locator('section.timeline').waitFor({ timeout: 20_000 });
    assert.equal(await served.page.locator('.report').count(), 1);
    await assertSameFindings(served.page, expected);
    assert.deepEqual(served.errors, []);
    await served.page.close();
  });

  test('a dropped folder of recordings: each is one input', async () => {
    // A real drag and drop of a folder (Chromium's own, through the DevTools protocol): the page
    // walks it with webkitGetAsEntry and groups the files by the folder of each recording.json.
    const parent = join(tempDir(), 'recordings');
    const starvation = join(root, 'traces', 'starvation');
    cpSync(BLOCKING, join(parent, 'blocking-sleep'), { recursive: true });
    cpSync(starvation, join(parent, 'starvation'), { recursive: true });
    // Beside them: a profile (taken), notes and a dependency's folder (left alone).
    cpSync(LOGIN, join(parent, 'login-server.cpuprofile'));
    writeFileSync(join(parent, 'notes.txt'), 'not a profile');
    cpSync(LOGIN, join(parent, 'node_modules', 'dep', 'bench.cpuprofile'));
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    const cdp = await page.context().newCDPSession(page);
    const data = { items: [], files: [parent], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await cdp.send('Input.dispatchDragEvent', { type, x: 300, y: 150, data });
    await page.locator('section.timeline').nth(2).waitFor({ timeout: 30_000 });
    await page.waitForTimeout(300);
    assert.deepEqual((await page.locator('.report h2').allTextContents()).sort(), ['blocking-sleep', 'login-server.cpuprofile', 'starvation']);
    for (const [name, dir] of [['blocking-sleep', BLOCKING], ['starvation', starvation]]) {
      await assertSameFindings(page.locator('.report', { has: page.locator('h2', { hasText: name }) }), cliReport(dir));
    }
    assert.equal(await page.locator('#error').isHidden(), true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a recording without its CPU profile says which file is missing, as `analyze DIR` does', async () => {
    const { page } = await newPage(browser);
    await page.goto(plain.url);
    const manifest = JSON.parse(readFileSync(join(BLOCKING, 'recording.json'), 'utf8')) as { main: number };
    const without = blockingFiles().filter((f) => !f.endsWith('.cpuprofile'));
    await page.locator('#file').setInputFiles(without);
    await page.locator('#error').waitFor({ timeout: 20_000 });
    const message = `${manifest.main}.cpuprofile, the CPU profile of process ${manifest.main}, is missing from the recording`;
    assert.equal(await page.locator('#error').textContent(), `recording: ${message}`);
    const dir = join(tempDir(), 'blocking-sleep');
    mkdirSync(dir);
    for (const file of without) cpSync(file, join(dir, basename(file)));
    const r = runCli(['analyze', dir]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `loopscope: ${dir}: ${message}\n`);
    assert.equal(await page.locator('.report').count(), 0);
    // A trace file alone is not taken for a profile.
    await page.locator('#file').setInputFiles(join(BLOCKING, `${manifest.main}.trace.json`));
    assert.match((await page.locator('#error').textContent()) ?? '', /trace\.json: part of a `loopscope collect` recording: give it with the recording's recording\.json/);
    await page.close();
  });

  test('function names, URLs and file names from a trace render as text', async () => {
    const profile = JSON.parse(readFileSync(LOGIN, 'utf8')) as { nodes: { callFrame: { functionName: string; url: string } }[] };
    for (const { callFrame } of profile.nodes) {
      if (callFrame.functionName === 'handleLogin') callFrame.functionName = '<img src=x onerror=window.__pwned=1>';
      else if (callFrame.functionName === '') callFrame.functionName = '<script>window.__pwned=2</script>';
      if (callFrame.url.endsWith('login-server.mjs')) callFrame.url = 'file:///srv/<img src=x onerror=window.__pwned=3>.mjs';
    }
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    // Dropped (not chosen), under a name that is markup too.
    await page.locator('#drop').drop({
      files: { name: '<img src=x onerror=window.__pwned=4>.cpuprofile', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(profile)) },
    });
    await page.locator('article.finding').first().waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('.report h2').textContent(), '<img src=x onerror=window.__pwned=4>.cpuprofile');
    const top = page.locator('table.lines tbody tr').first();
    assert.equal(await top.locator('td.fn').textContent(), '<img src=x onerror=window.__pwned=1>');
    // No source file here: the finding and the row stay where the profile puts them (line 10, as
    // `analyze` says when the program's source is not on disk).
    assert.equal(await top.locator('td.loc').textContent(), '<img src=x onerror=window.__pwned=3>.mjs:10');
    assert.match((await page.locator('article.finding').first().textContent()) ?? '', /<img src=x onerror=window\.__pwned=3>\.mjs:10/);
    await page.getByLabel('filter lines by file').fill('<img');
    assert.ok((await page.locator('table.lines tbody tr').count()) > 0);
    assert.equal(await page.locator('#reports img, #reports script').count(), 0);
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('"Open flame graph" opens speedscope on the profile', async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    await page.locator('#file').setInputFiles(LOGIN);
    const button = page.getByRole('button', { name: 'Open flame graph' });
    await button.waitFor({ timeout: 20_000 });
    const [popup] = await Promise.all([page.context().waitForEvent('page'), button.click()]);
    const popupErrors: string[] = [];
    popup.on('pageerror', (e) => popupErrors.push(e.message));
    await popup.getByText('login-server.cpuprofile: by stack').first().waitFor({ timeout: 20_000 });
    assert.ok(new URL(popup.url()).pathname.endsWith('/speedscope/index.html'));
    assert.ok((await popup.locator('canvas').count()) > 0, 'the flame graph draws on a canvas');
    assert.deepEqual(popupErrors, []);
    assert.deepEqual(errors, []);
    await popup.close();
    await page.close();
  });

  test('a file that is not a profile gets a message, and the page keeps working', async () => {
    const { page } = await newPage(browser);
    await page.goto(plain.url);
    await page.locator('#file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\u0001world') });
    await page.locator('#error').waitFor({ timeout: 20_000 });
    assert.match((await page.locator('#error').textContent()) ?? '', /notes\.txt: /);
    await page.locator('#file').setInputFiles(LOGIN);
    await page.locator('article.finding').first().waitFor({ timeout: 20_000 });
    await page.close();
  });

  test('a gzipped pprof profile is decompressed in the page', async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    // The corpus file is gzipped, as Go writes them.
    await page.locator('#file').setInputFiles(join(corpus, 'speedscope', 'pprof', 'simple.prof'));
    await page.locator('section.totals').waitFor({ timeout: 20_000 });
    assert.match((await page.locator('section.totals').textContent()) ?? '', /wall 1\.50 s.*150 samples/);
    assert.ok((await page.locator('table.lines tbody tr').count()) > 0);
    // pprof keeps totals per stack: no timeline, and the header and the note say why.
    assert.equal(await page.locator('.report header .order').textContent(), 'no time order');
    assert.equal(await page.locator('section.timeline').count(), 0);
    assert.match((await page.locator('.report .no-timeline').textContent()) ?? '', /this format keeps no time order/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a heap profile shows bytes per line: the allocating function on top, no time, no timeline', async () => {
    const path = recordHeap();
    const expected = analyzeJson(path);
    assert.equal(expected.unit, 'bytes');
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    // With the program's source, as `analyze` reads it from disk: native callees go to their call lines.
    await page.locator('#drop').drop({ files: [path, programPath('heap-alloc.mjs')] });
    await page.locator('table.lines').waitFor({ timeout: 20_000 });
    const report = page.locator('.report');
    assert.equal(await report.locator('header .unit').textContent(), 'values in bytes');
    assert.equal(await report.locator('header .order').textContent(), 'no time order');
    assert.equal(await report.locator('section.timeline').count(), 0);
    assert.match((await report.locator('.no-timeline').textContent()) ?? '', /^No timeline: this format keeps no time order/);
    assert.match((await report.locator('.findings').textContent()) ?? '', /No findings: the values are bytes, not time/);
    assert.equal(await page.getByRole('status').textContent(), `${basename(path)} analysed: bytes per line`);
    // The totals: the CLI's bytes, in MB, and no user / system / idle split.
    const totals = (await report.locator('section.totals').textContent()) ?? '';
    assert.match(totals, new RegExp(`total ${bytes(expected.totals.self!).replace('.', '\\.')} \\(bytes, not time\\)`));
    assert.match(totals, /total \d+\.\d MB/);
    assert.doesNotMatch(totals, /wall|user|system|idle|\bms\b/);
    // The table: a self column in bytes, keep() on top as in the CLI's report.
    const table = report.locator('table.lines');
    assert.deepEqual(await table.locator('thead th').allTextContents(), ['self', 'share', 'samples', 'self (bytes)', 'location', 'function']);
    const rows = table.locator('tbody tr');
    const top = expected.lines[0];
    assert.deepEqual([top.function, top.line], ['keep', markedLine('heap-alloc.mjs')]);
    assert.equal(await rows.first().locator('td.fn').textContent(), 'keep');
    assert.equal(await rows.first().locator('td.loc').textContent(), `heap-alloc.mjs:${top.line}`);
    const topSelf = (await rows.first().locator('td.num').first().textContent()) ?? '';
    assert.equal(topSelf, bytes(top.self!));
    assert.match(topSelf, /^\d+\.\d MB$/);
    assert.equal(await rows.first().locator('.bar').getAttribute('aria-label'), `self ${topSelf}`);
    assert.doesNotMatch((await table.textContent()) ?? '', /\bms\b/);
    assert.equal(await rows.count(), Math.min(50, expected.lines.length));
    // Sorting: by samples (descending), then by self ascending: the smallest line first.
    await table.locator('th[data-key=samples] button').click();
    assert.equal(await table.locator('th[data-key=samples]').getAttribute('aria-sort'), 'descending');
    const samples = (await rows.locator('td.num:nth-child(3)').allTextContents()).map(Number);
    assert.deepEqual(samples, [...samples].sort((a, b) => b - a));
    await table.locator('th[data-key=self] button').click();
    await table.locator('th[data-key=self] button').click();
    assert.equal(await table.locator('th[data-key=self]').getAttribute('aria-sort'), 'ascending');
    const least = Math.min(...expected.lines.map((l) => l.self!));
    assert.equal(await rows.first().locator('td.num').first().textContent(), bytes(least));

    // The flame graph: speedscope gets the export in bytes.
    const [popup] = await Promise.all([page.context().waitForEvent('page'), report.getByRole('button', { name: 'Open flame graph' }).click()]);
    const popupErrors: string[] = [];
    popup.on('pageerror', (e) => popupErrors.push(e.message));
    await popup.getByText(`${basename(path)}: by stack`).first().waitFor({ timeout: 20_000 });
    assert.ok((await popup.locator('canvas').count()) > 0, 'the flame graph draws on a canvas');
    const exported = await popup.evaluate(async () => {
      const url = new URLSearchParams(location.hash.slice(1)).get('profileURL')!;
      return (await (await fetch(url)).json()) as { profiles: { unit: string; endValue: number }[] };
    });
    assert.deepEqual(exported.profiles.map((p) => [p.unit, p.endValue]), [['bytes', expected.totals.self]]);
    assert.deepEqual(popupErrors, []);
    await popup.close();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('folded stacks and a pprof profile of counts: no timeline, values in their unit', async () => {
    const folded = join(corpus, 'speedscope', 'stackcollapse', 'simple.txt');
    // Go's sample counts, exported by `analyze --pprof`: a pprof profile whose only type is a count.
    const counts = join(tempDir(), 'counts.pb.gz');
    const exported = runCli(['analyze', join(corpus, 'speedscope', 'pprof', 'simple.prof'), '--sample-type', 'samples', '--pprof', counts]);
    assert.equal(exported.code, 0, exported.stderr);
    const [foldedReport, countReport] = [analyzeJson(folded), analyzeJson(counts)];
    assert.equal(foldedReport.timeOrder, 'none');
    assert.equal(countReport.unit, 'count');
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    await page.locator('#drop').drop({ files: [folded, counts] });
    await page.locator('.report').nth(1).waitFor({ timeout: 20_000 });
    const report = (name: string) => page.locator('.report', { has: page.locator('h2', { hasText: name }) });

    // Folded stacks are time (1 sample = 1 ms) without an order: the time columns, no timeline.
    const f = report('simple.txt');
    assert.equal(await f.locator('header .order').textContent(), 'no time order');
    assert.equal(await f.locator('header .unit').count(), 0);
    assert.equal(await f.locator('section.timeline').count(), 0);
    assert.equal(
      await f.locator('.no-timeline').textContent(),
      'No timeline: this format keeps no time order, only totals per stack. Findings rest on shares, never on how long one call ran.',
    );
    assert.match((await f.locator('section.totals').textContent()) ?? '', new RegExp(`wall ${foldedReport.totals.wallMs.toFixed(1)} ms`));
    assert.deepEqual(await f.locator('table.lines thead th').allTextContents(), ['time', 'share', 'user', 'system', 'idle', 'samples', 'user / system / idle', 'location', 'function']);
    assert.equal(await f.locator('table.lines tbody tr td.fn').first().textContent(), foldedReport.lines[0].function);

    // Counts: whole numbers, no time anywhere.
    const c = report('counts.pb.gz');
    assert.equal(await c.locator('header .unit').textContent(), 'values in counts');
    assert.equal(await c.locator('header .order').textContent(), 'no time order');
    assert.equal(await c.locator('section.timeline').count(), 0);
    assert.equal(await c.locator('.no-timeline').textContent(), 'No timeline: this format keeps no time order, only totals per stack.');
    assert.match((await c.locator('section.totals').textContent()) ?? '', new RegExp(`total ${count(countReport.totals.self!)} \\(counts, not time\\)`));
    const rows = c.locator('table.lines tbody tr');
    assert.deepEqual(
      await rows.locator('td.num:first-child').allTextContents(),
      countReport.lines.map((l) => count(l.self!)),
    );
    assert.deepEqual(await rows.locator('td.fn').allTextContents(), countReport.lines.map((l) => l.function));
    assert.doesNotMatch((await c.locator('table.lines').textContent()) ?? '', /\bms\b/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a profile past 1 GB is streamed through the page: the same totals as the command line', async () => {
    // 125 M samples make 1.1 GB: past V8's string limit, so nothing may hold it as one string.
    const big = join(tempDir(), 'big.cpuprofile');
    const { bytes, samples } = await generateProfile(big, { samples: 125_000_000, seed: 7 });
    assert.ok(bytes > 2 ** 30, `${bytes} bytes`);
    const fromCli = runCli(['analyze', '--json', big]);
    assert.equal(fromCli.code, 0, fromCli.stderr);
    const expected = JSON.parse(fromCli.stdout) as JsonReport;
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    await page.locator('#file').setInputFiles(big);
    // The page shows the reading's progress and stays responsive while the Worker reads.
    await page.locator('#progress progress').waitFor({ timeout: 20_000 });
    assert.equal(await page.evaluate(() => 6 * 7), 42);
    await page.locator('section.totals').waitFor({ timeout: 180_000 });
    const totals = (await page.locator('section.totals').textContent()) ?? '';
    assert.equal(expected.totals.samples, samples);
    assert.match(totals.replace(/[,\u202f\u00a0 ]/g, ''), new RegExp(`${samples}samples`), totals);
    assert.deepEqual(errors, []);
    await page.close();
    rmSync(big, { force: true });
  });

  test('dist/viewer works from any static host', async () => {
    // A plain static server: no preload.json, no headers of its own.
    const dir = join(root, 'dist', 'viewer');
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
    const server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
      const file = join(dir, path === '/' ? 'index.html' : path);
      if (!file.startsWith(dir) || !existsSync(file) || !extname(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    const { page } = await newPage(browser);
    try {
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.locator('#file').setInputFiles([LOGIN, LOGIN_SOURCE]);
      await page.locator('article.finding').first().waitFor({ timeout: 20_000 });
      assert.match((await page.locator('article.finding h3').first().textContent()) ?? '', /critical blocking/);
      assert.equal(await page.locator('#error').isHidden(), true);
    } finally {
      await page.close();
      server.close();
    }
  });
});
