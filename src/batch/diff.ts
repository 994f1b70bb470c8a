// What changed between two runs of a program: per-line time with a test against sampling noise, and
// findings that appeared or vanished.
//
// Each line's sample count is taken as Poisson. Counts are scaled to equal total samples (the mean
// of the two totals), and z = (after - before) / sqrt(after + before); |z| >= 3 is significant.
//
// Profiles of bytes or counts (heap profiles, pprof sample types that are not time) compare in their
// unit: as in the JSON report, the ...Ms fields are 0 and the ...Self fields hold the values. Two
// profiles of different units do not compare at all (checkUnits).

import { InputError, type Finding, type Severity, type ValueUnit } from '../model.js';
import type { JsonReport } from '../reports/json.js';
import { round } from '../reports/json.js';
import { bytes, count } from '../reports/terminal.js';

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
  /** Bytes or counts, for a profile of that unit. */
  beforeSelf?: number;
  afterSelf?: number;
  deltaSelf?: number;
}

export interface Side {
  wallMs: number;
  samples: number;
  /** The total in bytes or counts, for a profile of that unit. */
  self?: number;
}

export interface Diff {
  /** What the values measure (as in the JSON report). */
  unit: ValueUnit;
  before: Side;
  after: Side;
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

const unitOfReport = (r: JsonReport): ValueUnit => r.unit ?? 'ms';

/** Two profiles compare only in one unit: time with time, bytes with bytes. */
export function checkUnits(before: JsonReport, after: JsonReport, names: { before: string; after: string }): void {
  const [b, a] = [unitOfReport(before), unitOfReport(after)];
  if (b !== a) throw new InputError(`cannot compare ${names.before} (${b}) with ${names.after} (${a}): a diff needs two profiles of one unit`);
}

export function diffReports(before: JsonReport, after: JsonReport): Diff {
  checkUnits(before, after, { before: 'the first profile', after: 'the second' });
  const unit = unitOfReport(before);
  const time = unit === 'ms';
  const merged = new Map<string, { file: string; line: number; function: string; b: JsonReport['lines'][0] | null; a: JsonReport['lines'][0] | null }>();
  for (const l of before.lines) merged.set(lineKey(l), { file: l.file, line: l.line, function: l.function, b: l, a: null });
  for (const l of after.lines) {
    const entry = merged.get(lineKey(l));
    if (entry) entry.a = l;
    else merged.set(lineKey(l), { file: l.file, line: l.line, function: l.function, b: null, a: l });
  }
  const total = (l: JsonReport['lines'][0] | null) => (l ? (time ? l.userMs + l.systemMs + l.idleMs : (l.self ?? 0)) : 0);
  const lines: LineChange[] = [];
  for (const { file, line, function: fn, b, a } of merged.values()) {
    const beforeSamples = b?.samples ?? 0;
    const afterSamples = a?.samples ?? 0;
    const z = zScore(beforeSamples, afterSamples, before.totals.samples, after.totals.samples);
    if (Math.abs(z) < SIGNIFICANT_Z) continue;
    const beforeValue = round(total(b));
    const afterValue = round(total(a));
    const delta = round(afterValue - beforeValue);
    const change: LineChange = time
      ? { file, line, function: fn, beforeMs: beforeValue, afterMs: afterValue, deltaMs: delta, beforeSamples, afterSamples, z: 0 }
      : { file, line, function: fn, beforeMs: 0, afterMs: 0, deltaMs: 0, beforeSamples, afterSamples, z: 0, beforeSelf: beforeValue, afterSelf: afterValue, deltaSelf: delta };
    change.z = Math.round(z * 100) / 100;
    lines.push(change);
  }
  const deltaOf = (l: LineChange) => Math.abs(time ? l.deltaMs : l.deltaSelf!);
  lines.sort((x, y) => deltaOf(y) - deltaOf(x) || Math.abs(y.z) - Math.abs(x.z) || (lineKey(x) < lineKey(y) ? -1 : 1));
  const beforeKeys = new Set(before.findings.map(findingKey));
  const afterKeys = new Set(after.findings.map(findingKey));
  const side = (r: JsonReport): Side =>
    time ? { wallMs: r.totals.wallMs, samples: r.totals.samples } : { wallMs: 0, samples: r.totals.samples, self: r.totals.self ?? 0 };
  return {
    unit,
    before: side(before),
    after: side(after),
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

/** A value of the diff's unit, with its sign. */
function valueIn(unit: ValueUnit): (value: number) => string {
  if (unit === 'ms') return ms;
  const format = unit === 'bytes' ? bytes : count;
  return (value) => (value < 0 ? '-' : '') + format(Math.abs(value));
}

function location(file: string, line: number, fn: string, width: number): string {
  const text = file ? `${file}:${line}` : '';
  const full = [text, fn].filter(Boolean).join(' ');
  return full.length <= width ? full : '…' + full.slice(full.length - width + 1);
}

export function diffText(diff: Diff, names: { before: string; after: string }, top = 20): string {
  const out: string[] = [];
  const unit = diff.unit;
  const time = unit === 'ms';
  const value = valueIn(unit);
  const signed = (v: number) => (v > 0 ? `+${value(v)}` : value(v));
  const label = time ? 'wall' : `total ${unit}`;
  const totalOf = (side: Side) => (time ? side.wallMs : (side.self ?? 0));
  out.push(`before ${names.before}  ${label} ${value(totalOf(diff.before))}, ${diff.before.samples} samples`);
  out.push(`after  ${names.after}  ${label} ${value(totalOf(diff.after))}, ${diff.after.samples} samples`);
  const dw = totalOf(diff.after) - totalOf(diff.before);
  const pct = totalOf(diff.before) > 0 ? ` (${dw >= 0 ? '+' : ''}${((100 * dw) / totalOf(diff.before)).toFixed(1)}%)` : '';
  out.push(`${label} ${signed(dw)}${pct}`);
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
      const [b, a, d] = time ? [l.beforeMs, l.afterMs, l.deltaMs] : [l.beforeSelf!, l.afterSelf!, l.deltaSelf!];
      const head = `${signed(d).padStart(11)} ${value(b).padStart(11)} ${value(a).padStart(11)} ${(l.z > 0 ? '+' : '') + l.z.toFixed(1)}`.padEnd(43);
      out.push(`${head}  ${location(l.file, l.line, l.function, 80 - head.length - 2) || '(no line)'}`);
    }
  }
  return out.join('\n') + '\n';
}
