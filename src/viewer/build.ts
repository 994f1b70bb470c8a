// Builds the browser viewer as static files in dist/viewer/: the page, its Worker (the same
// importer, WASM core and analysis the command line runs), the core's .wasm and a copy of
// speedscope's viewer for the flame graph. Any static host can serve that folder; `loopscope serve`
// serves it on 127.0.0.1. Run after `tsc` (this file runs from dist/src/viewer/).

import { build, type Plugin } from 'esbuild';
import { builtinModules, createRequire } from 'node:module';
import { cp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const src = join(root, 'src', 'viewer');
const out = join(root, 'dist', 'viewer');

/** Modules that read files in Node: analyze.ts imports them for its file entry points, which the
 * Worker never calls. The bundle gets stand-ins whose exports throw, so they cannot end up in it. */
const NODE_ONLY = ['src/core/file-source.ts', 'src/recording.ts', 'src/recording/source.ts'].map((m) => join(root, m));

function throwingStub(what: string, names: string[]): string {
  const fail = `() => { throw new Error(${JSON.stringify(`${what} is not available in the browser viewer: use the command line for this input`)}); }`;
  return `const fail = ${fail};\n${names.map((k) => `export const ${k} = fail;`).join('\n')}\nexport default {};\n`;
}

// Node built-ins (pprof's gunzip, the core's fallback that reads the .wasm from disk) become modules
// whose exports throw when called: a format that needs one in the browser says so instead of
// breaking the whole viewer.
const browserStubs: Plugin = {
  name: 'browser-stubs',
  setup(b) {
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    b.onResolve({ filter: /.*/ }, (args) => {
      if (builtins.has(args.path)) return { path: args.path.replace(/^node:/, ''), namespace: 'node-builtin' };
      if (!args.path.startsWith('.')) return undefined;
      const path = join(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      return NODE_ONLY.includes(path) ? { path, namespace: 'node-only' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, async (args) => {
      const names = Object.keys(await import(`node:${args.path}`)).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
      return { contents: throwingStub(`node:${args.path}`, names), loader: 'js' };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const names = [...text.matchAll(/^export\s+(?:async\s+)?(?:function\*?|const|let|class)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]);
      return { contents: throwingStub(relative(root, args.path), names), loader: 'js' };
    });
  },
};

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

async function main(): Promise<void> {
  // Written in place, stale files pruned at the end: a server or test reading dist/viewer while
  // another build runs never finds the folder missing.
  await mkdir(out, { recursive: true });
  const before = await listFiles(out);
  const result = await build({
    entryPoints: [
      { in: join(src, 'page.ts'), out: 'viewer' },
      { in: join(src, 'worker.ts'), out: 'worker' },
    ],
    outdir: out,
    // Paths in the metafile are relative to this.
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [browserStubs],
  });
  const bundled = new Set(Object.values(result.metafile.outputs).flatMap((o) => Object.keys(o.inputs).map((path) => join(root, path))));
  const leaked = NODE_ONLY.filter((m) => bundled.has(m));
  if (leaked.length) throw new Error(`the viewer bundle must not contain Node-only modules: ${leaked.map((m) => relative(root, m)).join(', ')}`);

  await cp(join(src, 'index.html'), join(out, 'index.html'));
  await cp(join(src, 'viewer.css'), join(out, 'viewer.css'));
  await cp(join(root, 'build', 'core.wasm'), join(out, 'core.wasm'));
  const speedscope = join(dirname(createRequire(import.meta.url).resolve('speedscope/package.json')), 'dist', 'release');
  await cp(speedscope, join(out, 'speedscope'), { recursive: true });
  const written = new Set([
    ...Object.keys(result.metafile.outputs).map((path) => join(root, path)),
    ...['index.html', 'viewer.css', 'core.wasm'].map((name) => join(out, name)),
    ...(await listFiles(speedscope)).map((file) => join(out, 'speedscope', relative(speedscope, file))),
  ]);
  for (const file of before) if (!written.has(file)) await rm(file, { force: true });
  process.stdout.write(`viewer built in ${relative(root, out)}/\n`);
}

await main();
