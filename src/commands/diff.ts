// `loopscope diff <before> <after>`: what got slower or faster, line by line beyond sampling noise,
// and which findings appeared or vanished; profiles of bytes or counts in their unit, never against
// a profile of another unit.

import { analyzePath } from '../analyze.js';
import { checkUnits, diffReports, diffText, regressed } from '../batch/diff.js';
import { InputError, type Severity } from '../model.js';
import { jsonReport } from '../reports/json.js';

export interface DiffCommandOptions {
  json?: boolean;
  top: string;
  failOn?: Severity;
}

const SEVERITIES: Severity[] = ['critical', 'warning', 'info'];

/** 1 when a finding at --fail-on or worse appeared, else 0. */
export async function diffCommand(before: string, after: string, options: DiffCommandOptions): Promise<number> {
  const top = Number(options.top);
  if (!Number.isInteger(top) || top < 1) throw new InputError(`--top must be a positive integer, not "${options.top}"`);
  if (options.failOn && !SEVERITIES.includes(options.failOn)) {
    throw new InputError(`--fail-on must be one of ${SEVERITIES.join(', ')}, not "${options.failOn}"`);
  }
  if (before === '-' && after === '-') throw new InputError('diff reads at most one input from standard input');
  const a = await analyzePath(before);
  const b = await analyzePath(after);
  const [reportA, reportB] = [jsonReport(a.analysis), jsonReport(b.analysis)];
  checkUnits(reportA, reportB, { before, after });
  const diff = diffReports(reportA, reportB);
  if (options.json) process.stdout.write(JSON.stringify(diff, null, 2) + '\n');
  else process.stdout.write(diffText(diff, { before, after }, top));
  return options.failOn && regressed(diff, options.failOn) ? 1 : 0;
}
