// The browser viewer in a real Chromium, served by `loopscope serve`: a profile chosen, dropped or
// preloaded runs through the importer, the WASM core and the analysis in a Worker; the page shows
// the findings, totals and the per-line table, renders trace contents as text only, and opens the
// flame graph in speedscope's bundled viewer. The server answers nothing outside its own files.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cli, corpus, root } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const LOGIN = join(root, 'traces', 'login-server.cpuprofile');
// The program's source: with it, a finding points at the call line V8 does not record for callers.
const LOGIN_SOURCE = join(root, 'traces', 'login-server.mjs');
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
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
      if (url) resolve({ child, url });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
    setTimeout(() => {
      child.kill();
      reject(new Error(`serve printed no URL within 10 s: ${out} ${err}`));
    }, 10_000).unref();
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

async function newPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

describe('viewer', { skip }, () => {
  let plain: Served;
  let preloaded: Served;
  let browser: Browser;

  before(async () => {
    plain = await serve();
    preloaded = await serve([LOGIN, LOGIN_SOURCE]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    plain?.child.kill();
    preloaded?.child.kill();
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
    await page.locator('input[type=file]').setInputFiles([LOGIN, LOGIN_SOURCE]);
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
    // docs/viewer.png, the README's picture: UPDATE_SCREENSHOT=1 node --test dist/test/viewer.test.js
    if (process.env.UPDATE_SCREENSHOT) {
      mkdirSync(join(root, 'docs'), { recursive: true });
      await page.screenshot({ path: join(root, 'docs', 'viewer.png'), fullPage: false });
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
    await page.locator('input[type=file]').setInputFiles(LOGIN);
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
    await page.locator('input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\u0001world') });
    await page.locator('#error').waitFor({ timeout: 20_000 });
    assert.match((await page.locator('#error').textContent()) ?? '', /notes\.txt: /);
    await page.locator('input[type=file]').setInputFiles(LOGIN);
    await page.locator('article.finding').first().waitFor({ timeout: 20_000 });
    await page.close();
  });

  test('a gzipped pprof profile is decompressed in the page', async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(plain.url);
    // The corpus file is gzipped, as Go writes them.
    await page.locator('input[type=file]').setInputFiles(join(corpus, 'speedscope', 'pprof', 'simple.prof'));
    await page.locator('section.totals').waitFor({ timeout: 20_000 });
    assert.match((await page.locator('section.totals').textContent()) ?? '', /wall 1\.50 s.*150 samples/);
    assert.ok((await page.locator('table.lines tbody tr').count()) > 0);
    assert.deepEqual(errors, []);
    await page.close();
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
      await page.locator('input[type=file]').setInputFiles([LOGIN, LOGIN_SOURCE]);
      await page.locator('article.finding').first().waitFor({ timeout: 20_000 });
      assert.match((await page.locator('article.finding h3').first().textContent()) ?? '', /critical blocking/);
      assert.equal(await page.locator('#error').isHidden(), true);
    } finally {
      await page.close();
      server.close();
    }
  });
});
