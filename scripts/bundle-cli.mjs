// Bundles what `loopscope analyze` loads, so that Node reads and compiles two modules instead of
// about a hundred (a large part of a short run's time). Runs after `tsc`, from the package root.
// - dist/src/cli.js: the command line with commander inlined; every command's module stays a
//   separate file, loaded when the command runs (so `collect` still finds its recorder scripts
//   beside dist/src/collector/, and the viewer its files).
// - dist/src/commands/analyze.bundle.js: the analyze command, importers, WASM host, analysis,
//   reports and their packages. It sits at the depth of dist/src/core/, so the core's
//   `../../../build/core.wasm` still resolves; model.js stays a separate module so that the
//   command line's `instanceof InputError` sees the class the bundle throws.
import { build } from 'esbuild';

// CommonJS packages (commander, protobufjs) call require(), which an ES module has to be given.
const common = {
  bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning', sourcemap: true,
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
};

await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/src/cli.js',
  plugins: [{
    name: 'own-modules-apart',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => (args.importer.endsWith('src/cli.ts') ? { path: args.path, external: true } : undefined));
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
