// The speedscope export opens in speedscope's own viewer (the copy the npm package ships), in a real
// Chromium: both profiles load and the flame graph draws.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { root, runCli, tempDir } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const viewer = join(root, 'node_modules', 'speedscope', 'dist', 'release');

function serve(files: Record<string, string>): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = files[path] ?? join(viewer, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    if (!existsSync(file)) return void response.writeHead(404).end();
    const type = file.endsWith('.html') ? 'text/html' : file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream';
    response.writeHead(200, { 'content-type': type }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve({ server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
  }));
}

test('speedscope opens the export of a recorded profile', { skip: !existsSync(CHROMIUM) && !process.env.CI && 'no /usr/bin/chromium' }, async () => {
  const out = join(tempDir(), 'flame.json');
  const r = runCli(['analyze', join(root, 'traces', 'login-server.cpuprofile'), '--speedscope', out]);
  assert.equal(r.code, 0, r.stderr);
  const { server, url } = await serve({ '/profile.json': out });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/index.html#profileURL=${encodeURIComponent(`${url}/profile.json`)}`);
    // The toolbar names the loaded profile and its position among the file's profiles.
    await page.getByText('login-server.cpuprofile: by stack').first().waitFor({ timeout: 20_000 });
    await page.getByText(/1\s*\/\s*2/).first().waitFor({ timeout: 5_000 });
    assert.ok((await page.locator('canvas').count()) > 0, 'the flame graph draws on a canvas');
    assert.deepEqual(errors, []);
    // The time-ordered profile is the second one: speedscope switches to it on request.
    await page.keyboard.press('n');
    await page.getByText('login-server.cpuprofile: timeline').first().waitFor({ timeout: 5_000 });
  } finally {
    await browser.close();
    server.close();
  }
});
