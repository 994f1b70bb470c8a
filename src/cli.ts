#!/usr/bin/env node
// The loopscope command line. Bad input or usage: one line on stderr, exit code 2, no stack trace.

import { statSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { InputError } from './model.js';
import { mark, timingEnabled, timingReport } from './core/timing.js';

mark('node started, command line loaded');
if (timingEnabled) process.on('exit', () => process.stderr.write(timingReport()));

// Each command's module is loaded when the command runs: starting Node and loading modules is most
// of what `analyze` costs on a small profile. `analyze` loads its bundle (one module instead of
// about a hundred, scripts/bundle-cli.mjs), or the separate modules when only `tsc` has run since.
async function analyzeModule(): Promise<typeof import('./commands/analyze.js')> {
  const bundle = new URL('./commands/analyze.bundle.js', import.meta.url);
  const fresh = mtimeAndSize(bundle).mtimeMs >= mtimeAndSize(new URL('./commands/analyze.js', import.meta.url)).mtimeMs;
  const loaded = fresh ? await import(bundle.href) : await import('./commands/analyze.js');
  mark('analyze command loaded');
  return loaded as typeof import('./commands/analyze.js');
}

/** Zeros for a file that cannot be read: the command says what is wrong with it. */
function mtimeAndSize(path: string | URL): { mtimeMs: number; size: number } {
  try {
    return statSync(path);
  } catch {
    return { mtimeMs: 0, size: 0 };
  }
}

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const program = new Command()
  .name('loopscope')
  .description('Finds out why an asynchronous program is slow: which bottleneck, at which line, what a fix saves.')
  .version('0.1.0')
  .exitOverride()
  .enablePositionalOptions()
  .configureOutput({ outputError: (text, write) => write(text) });

program
  .command('analyze')
  .description('read a profile, trace or recording (- for standard input), print the findings and the per-line table')
  .argument('<file...>', 'a .cpuprofile, Chrome trace, pprof, .heapprofile, speedscope, folded stacks, scalene JSON, or a collect directory')
  .option('--json', 'print the report as JSON (see SPEC.md for the contract)')
  .option('--speedscope <out.json>', 'also write a speedscope file for the flame graph')
  .option('--pprof <out.pb.gz>', 'also write a gzipped pprof profile (go tool pprof reads it)')
  .option('--top <n>', 'how many lines to show', '20')
  .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is this severe or worse').choices(['critical', 'warning', 'info']))
  .option('--thread <name|tid>', 'trace events: the thread to analyse (default: the main thread)')
  .option('--sample-type <type>', 'pprof: the sample type to read (default: the profile\'s default)')
  .option('--source-maps <dir>', 'also look for source maps in this directory')
  .action(async (files: string[], options) => {
    process.exitCode = await (await analyzeModule()).analyzeCommand(files, options);
    mark('analysis and report');
  });

program
  .command('batch')
  .description('analyse many stored profiles and recordings in parallel, print one summary row per input')
  .argument('<path...>', 'profiles, directories (walked; a collect recording is one input) or glob patterns')
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'ndjson', 'json']).default('table'))
  .option('--out <file>', 'write the output to a file (atomically) instead of standard output')
  .option('--jobs <n>', 'worker threads (default: the number of cores)')
  .option('--cache <dir>', 'cache directory (default: node_modules/.cache/loopscope, else ~/.cache/loopscope)')
  .option('--no-cache', 'analyse every input even when the cache has it')
  .option('--shard <k/n>', 'analyse only shard K of N (combine the outputs with `loopscope merge`)')
  .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is this severe or worse').choices(['critical', 'warning', 'info']))
  .action(async (paths: string[], options) => {
    process.exitCode = await (await import('./commands/batch.js')).batchCommand(paths, options);
  });

program
  .command('merge')
  .description('combine the ndjson or json outputs of `batch --shard K/N` into what one full run prints')
  .argument('<output...>', 'the shard outputs')
  .addOption(new Option('--format <format>', 'output format (default: the shards\' format)').choices(['table', 'csv', 'ndjson', 'json']))
  .option('--out <file>', 'write the output to a file (atomically) instead of standard output')
  .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is this severe or worse').choices(['critical', 'warning', 'info']))
  .action(async (outputs: string[], options) => {
    process.exitCode = await (await import('./commands/batch.js')).mergeCommand(outputs, options);
  });

program
  .command('diff')
  .description('compare two profiles or recordings: lines that changed beyond sampling noise, findings that appeared or vanished')
  .argument('<before>', 'the earlier profile or recording')
  .argument('<after>', 'the later profile or recording')
  .option('--json', 'print the comparison as JSON')
  .option('--top <n>', 'how many changed lines to show', '20')
  .addOption(new Option('--fail-on <severity>', 'exit 1 when a new finding is this severe or worse').choices(['critical', 'warning', 'info']))
  .action(async (before: string, after: string, options) => {
    process.exitCode = await (await import('./commands/diff.js')).diffCommand(before, after, options);
  });

program
  .command('collect')
  .description('run a Node or Python asyncio program and record CPU samples, async activity, event loop, off-CPU time, GC and memory')
  .argument('<command...>', 'the command to run (after --): node app.mjs, npm start, python3 app.py, ...')
  .option('--out <dir>', 'directory for the recording (default: loopscope-<timestamp>)')
  .option('--interval <ms>', 'CPU sampling interval in milliseconds', '1')
  .passThroughOptions()
  .action(async (command: string[], options) => {
    process.exitCode = await (await import('./commands/collect.js')).collectCommand(command, options);
  });

program
  .command('serve')
  .description('serve the browser viewer on 127.0.0.1 and print its URL; the given profiles and recordings are preloaded')
  .argument('[file...]', 'profiles and `collect` recording directories to open in the viewer, and the program\'s source files (findings then point at the call line)')
  .option('--port <n>', 'port to listen on (0: any free port)', '7878')
  .action(async (files: string[], options) => {
    process.exitCode = await (await import('./commands/serve.js')).serveCommand(files, options);
  });

// No top-level await: the command line is also bundled as CommonJS (scripts/bundle-cli.mjs).
program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof InputError || (error as Error)?.name === 'InputError') {
    // By name too: the bundled command line and an ES module command each have their own class.
    process.stderr.write(`loopscope: ${(error as Error).message}\n`);
    process.exitCode = 2;
  } else {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code ? `${(error as Error).message}` : String((error as Error)?.message ?? error);
    process.stderr.write(`loopscope: ${message}\n`);
    process.exitCode = 2;
  }
});
