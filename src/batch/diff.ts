// What changed between two runs of a program: per-line time with a test against sampling noise, and
// findings that appeared or vanished.
//
// Each line's sample count is taken as Poisson. Counts are scaled to equal total samples (the mean
// of the two totals), and z = (after - before) / sqrt(after + before); |z| >= 3 is significant.

import type { Finding, Severity } from '../model.js';
import type { JsonReport } from '../reports/json.js';
import { round } from '../reports/json.js';

export const SIGNIFICANT_Z = 3;

export interface LineChange {
  file: string;
  line: number;
  function: string;
  beforeMs: number;
  afterMs: number;
  deltaMs: number;
  beforeSamples: number;
  afterSamples: number;
  z: number;
}

export interface Diff {
  before: { wallMs: number; samples: number };
  after: { wallMs: number; samples: number };
  /** Lines whose change is significant (|z| >= 3), largest time change first. */
  lines: LineChange[];
  appeared: Finding[];
  vanished: Finding[];
}

const lineKey = (l: { file: string; line: number; function: string }) => `${l.file}\0${l.line}\0${l.function}`;
const findingKey = (f: Finding) => `${f.kind}\0${f.location.file}\0${f.location.line}`;

export function zScore(before: number, after: number, beforeTotal: number, afterTotal: number): number {
  const mean = (beforeTotal + afterTotal) / 2;
  const b = beforeTotal > 0 ? (before * mean) / beforeTotal : 0;
  const a = afterTotal > 0 ? (after * mean) / afterTotal : 0;
  return a + b > 0 ? (a - b) / Math.sqrt(a + b) : 0;
}

export function diffReports(before: JsonReport, after: JsonReport): Diff {
  const merged = new Map<string, { file: string; line: number; function: string; b: JsonReport['lines'][0] | null; a: JsonReport['lines'][0] | null }>();
  for (const l of before.lines) merged.set(lineKey(l), { file: l.file, line: l.line, function: l.function, b: l, a: null });
  for (const l of after.lines) {
    const entry = merged.get(lineKey(l));
    if (entry) entry.a = l;
    else merged.set(lineKey(l), { file: l.file, line: l.line, function: l.function, b: null, a: l });
  }
  const total = (l: JsonReport['lines'][0] | null) => (l ? l.userMs + l.systemMs + l.idleMs : 0);
  const lines: LineChange[] = [];
  for (const { file, line, function: fn, b, a } of merged.values()) {
    const beforeSamples = b?.samples ?? 0;
    const afterSamples = a?.samples ?? 0;
    const z = zScore(beforeSamples, afterSamples, before.totals.samples, after.totals.samples);
    if (Math.abs(z) < SIGNIFICANT_Z) continue;
    const beforeMs = round(total(b));
    const afterMs = round(total(a));
    lines.push({ file, line, function: fn, beforeMs, afterMs, deltaMs: round(afterMs - beforeMs), beforeSamples, afterSamples, z: Math.round(z * 100) / 100 });
  }
  lines.sort((x, y) => Math.abs(y.deltaMs) - Math.abs(x.deltaMs) || Math.abs(y.z) - Math.abs(x.z) || (lineKey(x) < lineKey(y) ? -1 : 1));
  const beforeKeys = new Set(before.findings.map(findingKey));
  const afterKeys = new Set(after.findings.map(findingKey));
  return {
    before: { wallMs: before.totals.wallMs, samples: before.totals.samples },
    after: { wallMs: after.totals.wallMs, samples: after.totals.samples },
    lines,
    appeared: after.findings.filter((f) => !beforeKeys.has(findingKey(f))),
    vanished: before.findings.filter((f) => !afterKeys.has(findingKey(f))),
  };
}

const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** True when a finding at `severity` or worse appeared. */
export function regressed(diff: Diff, severity: Severity): boolean {
  return diff.appeared.some((f) => RANK[f.severity] <= RANK[severity]);
}

function ms(value: number): string {
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  return abs >= 10_000 ? `${sign}${(abs / 1000).toFixed(2)} s` : `${sign}${abs.toFixed(1)} ms`;
}

const signed = (value: number) => (value > 0 ? `+${ms(value)}` : ms(value));

function location(file: string, line: number, fn: string, width: number): string {
  const text = file ? `${file}:${line}` : '';
  const full = [text, fn].filter(Boolean).join(' ');
  return full.length <= width ? full : '…' + full.slice(full.length - width + 1);
}

export function diffText(diff: Diff, names: { before: string; after: string }, top = 20): string {
  const out: string[] = [];
  out.push(`before ${names.before}  wall ${ms(diff.before.wallMs)}, ${diff.before.samples} samples`);
  out.push(`after  ${names.after}  wall ${ms(diff.after.wallMs)}, ${diff.after.samples} samples`);
  const dw = diff.after.wallMs - diff.before.wallMs;
  const pct = diff.before.wallMs > 0 ? ` (${dw >= 0 ? '+' : ''}${((100 * dw) / diff.before.wallMs).toFixed(1)}%)` : '';
  out.push(`wall ${signed(dw)}${pct}`);
  const findings = (title: string, list: Finding[]) => {
    if (!list.length) return;
    out.push('', title);
    for (const f of list) {
      out.push(`  [${f.severity}] ${f.kind}: ${f.title}`.slice(0, 80));
      out.push(`    at ${location(f.location.file, f.location.line, f.location.function, 73)}`);
    }
  };
  findings('New findings', diff.appeared);
  findings('Findings gone', diff.vanished);
  out.push('');
  if (!diff.lines.length) out.push(`No line changed beyond sampling noise (|z| >= ${SIGNIFICANT_Z}).`);
  else {
    const shown = diff.lines.slice(0, top);
    out.push(`Lines that changed beyond sampling noise (|z| >= ${SIGNIFICANT_Z}): ${shown.length} of ${diff.lines.length}`);
    out.push('     change      before       after       z  location');
    for (const l of shown) {
      const head = `${signed(l.deltaMs).padStart(11)} ${ms(l.beforeMs).padStart(11)} ${ms(l.afterMs).padStart(11)} ${(l.z > 0 ? '+' : '') + l.z.toFixed(1)}`.padEnd(43);
      out.push(`${head}  ${location(l.file, l.line, l.function, 80 - head.length - 2) || '(no line)'}`);
    }
  }
  return out.join('\n') + '\n';
}
