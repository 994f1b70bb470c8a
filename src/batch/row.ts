// One row of a batch summary per input: what `analyze` says about it in a few numbers, or why it
// could not be read. Rows hold nothing about the run itself (no timings, no cache state), so the
// same inputs always give the same bytes, and shard outputs merge into a full run's output.
//
// A profile of bytes or counts (a heap profile, a pprof sample type that is not time) says so in
// `unit`; its ...Ms fields are 0 as in the JSON report, and `total` holds its value in that unit.
// `timeOrder` 'none': a format without a time order (pprof, folded stacks). Outputs written before
// these fields were added read back as ms, total = wallMs, real time order.

import { timeOrderOf, unitOf, type Analysis, type Kind, type Severity, type TimeOrder, type ValueUnit } from '../model.js';
import { jsonReport, round } from '../reports/json.js';

export const KINDS: Kind[] = ['blocking', 'sequential', 'context-switching', 'starvation', 'memory'];
export const SEVERITIES: Severity[] = ['critical', 'warning', 'info'];

export interface TopFinding {
  kind: Kind;
  severity: Severity;
  file: string;
  line: number;
  function: string;
}

/** What an analysis contributes to a row: everything but the path (the part the cache stores). */
export interface Summary {
  unit: ValueUnit;
  /** The profile's total in its unit: wallMs for time, bytes or a count otherwise. */
  total: number;
  timeOrder: TimeOrder;
  wallMs: number;
  userMs: number;
  systemMs: number;
  idleMs: number;
  samples: number;
  /** Shares of the wall time, 0..1, to four decimals. */
  userShare: number;
  systemShare: number;
  idleShare: number;
  findings: number;
  byKind: Record<Kind, number>;
  bySeverity: Record<Severity, number>;
  top: TopFinding | null;
}

export type Row = { trace: string; error: string } | ({ trace: string; error?: undefined } & Summary);

const share = (ms: number, wall: number) => (wall > 0 ? Math.round((ms / wall) * 10000) / 10000 : 0);

export function summarize(analysis: Analysis): Summary {
  const { totals, findings } = jsonReport(analysis);
  const byKind = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) {
    byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
  }
  const first = findings[0];
  return {
    unit: unitOf(analysis.profile),
    total: totals.self ?? totals.wallMs,
    timeOrder: timeOrderOf(analysis.profile),
    wallMs: totals.wallMs,
    userMs: totals.userMs,
    systemMs: totals.systemMs,
    idleMs: totals.idleMs,
    samples: totals.samples,
    userShare: share(totals.userMs, totals.wallMs),
    systemShare: share(totals.systemMs, totals.wallMs),
    idleShare: share(totals.idleMs, totals.wallMs),
    findings: findings.length,
    byKind,
    bySeverity,
    top: first
      ? { kind: first.kind, severity: first.severity, file: first.location.file, line: first.location.line, function: first.location.function }
      : null,
  };
}

/** The row as a plain object with its keys always in the same order (the serialized form). */
export function rowObject(row: Row): Record<string, unknown> {
  if (row.error !== undefined) return { trace: row.trace, error: row.error };
  return {
    trace: row.trace,
    unit: row.unit,
    total: row.total,
    timeOrder: row.timeOrder,
    wallMs: row.wallMs,
    userMs: row.userMs,
    systemMs: row.systemMs,
    idleMs: row.idleMs,
    samples: row.samples,
    userShare: row.userShare,
    systemShare: row.systemShare,
    idleShare: row.idleShare,
    findings: row.findings,
    byKind: Object.fromEntries(KINDS.map((k) => [k, row.byKind[k]])),
    bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, row.bySeverity[s]])),
    top: row.top
      ? { kind: row.top.kind, severity: row.top.severity, file: row.top.file, line: row.top.line, function: row.top.function }
      : null,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const UNITS: ValueUnit[] = ['ms', 'bytes', 'count'];
const ORDERS: TimeOrder[] = ['real', 'none'];

/** Reads a row back from its serialized form; null when it is not one. */
export function parseRow(value: unknown): Row | null {
  if (!isObject(value) || typeof value.trace !== 'string') return null;
  if (typeof value.error === 'string') return { trace: value.trace, error: value.error };
  for (const key of ['wallMs', 'userMs', 'systemMs', 'idleMs', 'samples', 'userShare', 'systemShare', 'idleShare', 'findings']) {
    if (!isNumber(value[key])) return null;
  }
  const byKind = value.byKind;
  const bySeverity = value.bySeverity;
  if (!isObject(byKind) || !KINDS.every((k) => isNumber(byKind[k]))) return null;
  if (!isObject(bySeverity) || !SEVERITIES.every((s) => isNumber(bySeverity[s]))) return null;
  const top = value.top;
  if (top !== null) {
    if (!isObject(top) || !KINDS.includes(top.kind as Kind) || !SEVERITIES.includes(top.severity as Severity)) return null;
    if (typeof top.file !== 'string' || !isNumber(top.line) || typeof top.function !== 'string') return null;
  }
  // Absent in outputs written before they were added: time in ms, in the order it was taken.
  const unit = value.unit ?? 'ms';
  const total = value.total ?? value.wallMs;
  const timeOrder = value.timeOrder ?? 'real';
  if (!UNITS.includes(unit as ValueUnit) || !isNumber(total) || !ORDERS.includes(timeOrder as TimeOrder)) return null;
  return { trace: value.trace, ...(value as unknown as Summary), unit: unit as ValueUnit, total, timeOrder: timeOrder as TimeOrder };
}

/** A cached summary: written by this version, so it has every field (an older entry is analysed again). */
export function isSummary(value: unknown): value is Summary {
  if (!isObject(value) || value.error !== undefined || !('unit' in value && 'total' in value && 'timeOrder' in value)) return false;
  return parseRow({ trace: '', ...value }) !== null;
}

export function compareRows(a: Row, b: Row): number {
  return a.trace < b.trace ? -1 : a.trace > b.trace ? 1 : 0;
}

/** True when some row has a finding at `severity` or worse. */
export function reaches(rows: Row[], severity: Severity): boolean {
  const limit = SEVERITIES.indexOf(severity);
  return rows.some((r) => r.error === undefined && SEVERITIES.some((s, i) => i <= limit && r.bySeverity[s] > 0));
}

export { round };
