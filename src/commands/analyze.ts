// `loopscope analyze <file...>`: read, diagnose, report.

import { basename } from 'node:path';
import { analyzePath } from '../analyze.js';
import { InputError, type ImportOptions, type Severity } from '../model.js';
import { fileSources } from '../recording/source.js';
import { jsonReport } from '../reports/json.js';
import { writeAtomically } from '../reports/output.js';
import { pprofGzipped } from '../reports/pprof.js';
import { speedscopeChunks } from '../reports/speedscope.js';
import { terminalReport } from '../reports/terminal.js';

export interface AnalyzeCommandOptions extends ImportOptions {
  json?: boolean;
  speedscope?: string;
  pprof?: string;
  top: string;
  failOn?: Severity;
}

const SEVERITIES: Severity[] = ['critical', 'warning', 'info'];

/** Returns the exit code: 1 when a finding reaches --fail-on, else 0. */
export async function analyzeCommand(inputs: string[], options: AnalyzeCommandOptions): Promise<number> {
  const top = Number(options.top);
  if (!Number.isInteger(top) || top < 1) throw new InputError(`--top must be a positive integer, not "${options.top}"`);
  if (options.failOn && !SEVERITIES.includes(options.failOn)) {
    throw new InputError(`--fail-on must be one of ${SEVERITIES.join(', ')}, not "${options.failOn}"`);
  }
  if (inputs.length > 1) throw new InputError('analyze reads one profile at a time (several files: use `loopscope batch`)');
  // A `collect` directory is one input: its main process's profile with the recording's evidence.
  const { analysis, profilePath: input, skipped } = await analyzePath(inputs[0], {
    thread: options.thread,
    sampleType: options.sampleType,
    sourceMaps: options.sourceMaps,
  });
  if (skipped) process.stderr.write(`loopscope: warning: ${skipped}\n`);
  if (options.speedscope) {
    await writeAtomically(options.speedscope, speedscopeChunks(analysis, input === '-' ? 'stdin' : basename(input)));
  }
  if (options.pprof) await writeAtomically(options.pprof, [await pprofGzipped(analysis, fileSources())]);
  if (options.json) process.stdout.write(JSON.stringify(jsonReport(analysis), null, 2) + '\n');
  else process.stdout.write(terminalReport(analysis, { top, color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }));
  const limit = options.failOn ? SEVERITIES.indexOf(options.failOn) : -1;
  return analysis.findings.some((f) => SEVERITIES.indexOf(f.severity) <= limit) ? 1 : 0;
}
