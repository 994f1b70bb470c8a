// Bundles the command line and what `loopscope analyze` loads, so that Node reads and compiles a few
// modules instead of about a hundred (a large part of a short run's time). Runs after `tsc`, from
// the package root.
// - dist/src/cli.cjs: the command line (the package's bin) as one CommonJS file, with commander
//   and the `collect` command inside: `collect` spawns the program before Node has loaded any ES
//   module (an ES module entry costs the loader's start and the builtins' module facades, about
//   10 ms, and Node then competes with the starting program for the CPU), which every recording
//   pays. The other commands stay ES modules, imported when they run, so that the viewer finds its
//   files and the analyze bundle its WASM where they are. tsc's dist/src/cli.js stays runnable
//   (and executable): a bin link that an earlier install made (npx caches them) points at it.
// - dist/src/commands/analyze.bundle.js: the analyze command, importers, WASM host, analysis,
//   reports and their packages. It sits at the depth of dist/src/core/, so the core's
//   `../../../build/core.wasm` still resolves; model.js stays a separate module.
import { build } from 'esbuild';

// CommonJS packages (commander, protobufjs) call require(), which an ES module has to be given.
const common = {
  bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning', sourcemap: true,
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
};

// Each bundled module keeps its own location: `import.meta.url` becomes the URL of the file tsc
// wrote (the collect command finds the recorder beside itself, the command line the analyze bundle).
const DIST = new URL('../dist/src/', import.meta.url).pathname;
/** Commands that stay ES modules, imported when they run. */
const SEPARATE = /^\.\/commands\/(analyze|batch|diff|serve)\.js$/;
await build({
  bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning', sourcemap: true,
  entryPoints: ['dist/src/cli.js'],
  outfile: 'dist/src/cli.cjs',
  banner: { js: "const __fileUrl = (p) => require('node:url').pathToFileURL(require('node:path').join(__dirname, p)).href;" },
  plugins: [{
    name: 'commands-apart',
    setup(b) {
      b.onResolve({ filter: SEPARATE }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined));
      b.onLoad({ filter: /\/dist\/src\/.*\.js$/ }, async (args) => {
        const { readFile } = await import('node:fs/promises');
        const text = await readFile(args.path, 'utf8');
        const own = JSON.stringify(args.path.slice(DIST.length));
        return { contents: text.replaceAll('import.meta.url', `__fileUrl(${own})`), loader: 'js' };
      });
    },
  }],
});

await build({
  ...common,
  entryPoints: ['dist/src/commands/analyze.js'],
  outfile: 'dist/src/commands/analyze.bundle.js',
  plugins: [{
    name: 'shared-model',
    setup(b) {
      b.onResolve({ filter: /(^|\/)model\.js$/ }, (args) => {
        const resolved = new URL(args.path, `file://${args.resolveDir}/`).pathname;
        return resolved.endsWith('/dist/src/model.js') ? { path: '../model.js', external: true } : undefined;
      });
    },
  }],
});
