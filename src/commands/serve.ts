// `loopscope serve [--port N] [file...]`: serves the browser viewer (built into dist/viewer/) on
// 127.0.0.1 and prints its URL; the given profiles and `collect` recording directories are preloaded. It serves exactly the viewer's own
// files and the given inputs, looked up by name in a table made at startup: no request path is ever
// joined onto a directory, so no path reaches anything else.

import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST, RECORDING_FILE } from '../collector/format.js';
import { InputError } from '../model.js';

/** dist/src/commands/serve.js -> dist/viewer/ */
export const VIEWER_DIR = fileURLToPath(new URL('../../viewer/', import.meta.url));

const HOST = '127.0.0.1';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

// The viewer page's policy (also in its <meta>): scripts, the Worker and fetches stay on this
// origin, so nothing read from a profile leaves the machine.
const VIEWER_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' blob:; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

export interface ViewerServerOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Profiles and recording directories to preload. */
  files?: string[];
  /** The built viewer (default: dist/viewer/ of this package). */
  viewerDir?: string;
}

export interface ViewerServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

interface Entry {
  file: string;
  type: string;
  csp?: string;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

/** The route table: URL path -> file, fixed at startup. */
/** A file to preload; `folder` groups a recording's files (the viewer reads them as one input). */
interface Input {
  file: string;
  folder?: string;
}

async function routes(viewerDir: string, inputs: Input[]): Promise<{ table: Map<string, Entry>; preload: string }> {
  const table = new Map<string, Entry>();
  for (const file of await listFiles(viewerDir)) {
    const path = '/' + relative(viewerDir, file).split(sep).join('/');
    const inSpeedscope = path.startsWith('/speedscope/');
    table.set(path, {
      file,
      type: TYPES[extname(file)] ?? 'application/octet-stream',
      csp: !inSpeedscope && extname(file) === '.html' ? VIEWER_CSP : undefined,
    });
  }
  const index = table.get('/index.html');
  if (index) table.set('/', index);
  const preload = inputs.map(({ file, folder }, i) => {
    const name = basename(file);
    const url = `inputs/${i}/${encodeURIComponent(name)}`;
    table.set(`/${url}`, { file, type: 'application/octet-stream' });
    return folder === undefined ? { name, url } : { name, url, folder };
  });
  return { table, preload: JSON.stringify(preload) };
}

/** A recording directory's manifest and `<pid>.*` files (nothing else in it is served). */
async function recordingInputs(dir: string): Promise<Input[]> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  if (!names.includes(MANIFEST)) throw new InputError(`${dir}: is a directory, not a recording made by \`loopscope collect\``);
  const folder = basename(resolve(dir));
  return names.filter((n) => n === MANIFEST || RECORDING_FILE.test(n)).sort().map((n) => ({ file: resolve(dir, n), folder }));
}

async function checkInputs(files: string[]): Promise<Input[]> {
  const paths: Input[] = [];
  for (const file of files) {
    let info;
    try {
      info = await stat(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    if (info.isDirectory()) {
      paths.push(...(await recordingInputs(file)));
      continue;
    }
    if (!info.isFile()) throw new InputError(`${file}: not a regular file`);
    paths.push({ file: resolve(file) });
  }
  return paths;
}

export async function startViewerServer(options: ViewerServerOptions = {}): Promise<ViewerServer> {
  const viewerDir = options.viewerDir ?? VIEWER_DIR;
  try {
    await stat(join(viewerDir, 'index.html'));
  } catch {
    throw new InputError(`the viewer is not built (${viewerDir} has no index.html): run npm run build`);
  }
  const inputs = await checkInputs(options.files ?? []);
  const { table, preload } = await routes(viewerDir, inputs);
  let port = 0;

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const send = (status: number, text: string) => {
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(text + '\n');
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'method not allowed');
    // Only this machine's names for the server: a page elsewhere cannot rebind a domain onto it.
    const host = request.headers.host ?? '';
    if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) return send(403, 'forbidden');
    const raw = (request.url ?? '/').split(/[?#]/)[0];
    let path: string;
    try {
      path = decodeURIComponent(raw);
    } catch {
      return send(404, 'not found');
    }
    const headers: Record<string, string> = {
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    };
    if (path === '/preload.json') {
      response.writeHead(200, { ...headers, 'content-type': 'application/json' });
      return void response.end(request.method === 'HEAD' ? undefined : preload);
    }
    // Exact names only: "/../x", "%2e%2e", backslashes and the like match no entry.
    const entry = table.get(raw) ?? table.get(path);
    if (!entry || path.includes('\0')) return send(404, 'not found');
    if (entry.csp) headers['content-security-policy'] = entry.csp;
    stat(entry.file).then(
      (info) => {
        response.writeHead(200, { ...headers, 'content-type': entry.type, 'content-length': String(info.size) });
        if (request.method === 'HEAD') return void response.end();
        createReadStream(entry.file)
          .on('error', () => response.destroy())
          .pipe(response);
      },
      () => send(404, 'not found'),
    );
  });

  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(error.code === 'EADDRINUSE' ? new InputError(`port ${options.port} is in use`) : error),
    );
    server.listen(options.port ?? 0, HOST, () => done());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}/`,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

export interface ServeCommandOptions {
  port: string;
}

/** Serves until interrupted (Ctrl-C); returns the exit code. */
export async function serveCommand(files: string[], options: ServeCommandOptions): Promise<number> {
  const port = Number(options.port);
  if (!/^\d+$/.test(options.port) || !Number.isInteger(port) || port > 65535) {
    throw new InputError(`--port must be an integer from 0 to 65535, not "${options.port}"`);
  }
  const viewer = await startViewerServer({ port, files });
  process.stdout.write(`loopscope viewer: ${viewer.url}\n`);
  if (files.length) process.stdout.write(`preloaded: ${files.join(', ')}\n`);
  process.stdout.write('press Ctrl-C to stop\n');
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void viewer.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
