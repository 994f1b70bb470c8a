// The batch summary as a table (80 columns), CSV, NDJSON (one row a line) or JSON, and the reverse
// for NDJSON and JSON so that shard outputs can be merged. A row of bytes or counts shows its total
// in its unit (the table's first value column, CSV's unit and total); its shares are not time ("-").

import { relative, sep } from 'node:path';
import { InputError, type ValueUnit } from '../model.js';
import { bytes, count } from '../reports/terminal.js';
import { compareRows, KINDS, parseRow, rowObject, SEVERITIES, type Row } from './row.js';

export type BatchFormat = 'table' | 'csv' | 'ndjson' | 'json';
export const FORMATS: BatchFormat[] = ['table', 'csv', 'ndjson', 'json'];

export function render(rows: Row[], format: BatchFormat, width = 80): string[] {
  const sorted = [...rows].sort(compareRows);
  switch (format) {
    case 'ndjson':
      return sorted.map((r) => JSON.stringify(rowObject(r)) + '\n');
    case 'json':
      return [JSON.stringify({ rows: sorted.map(rowObject), totals: totals(sorted) }, null, 2) + '\n'];
    case 'csv':
      return csv(sorted);
    case 'table':
      return table(sorted, width);
  }
}

function totals(rows: Row[]) {
  const analysed = rows.filter((r) => r.error === undefined);
  return {
    inputs: rows.length,
    failed: rows.length - analysed.length,
    findings: Object.fromEntries(SEVERITIES.map((s) => [s, analysed.reduce((n, r) => n + r.bySeverity[s], 0)])),
  };
}

const CSV_HEADER = [
  'trace', 'wall_ms', 'user_ms', 'system_ms', 'idle_ms', 'samples', 'user_share', 'system_share', 'idle_share', 'findings',
  ...KINDS.map((k) => k.replace('-', '_')),
  'top_kind', 'top_severity', 'culprit', 'culprit_function', 'unit', 'total', 'time_order', 'error',
];

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(rows: Row[]): string[] {
  const out = [CSV_HEADER.join(',') + '\n'];
  for (const r of rows) {
    const fields: (string | number)[] =
      r.error !== undefined
        ? [r.trace, ...Array(CSV_HEADER.length - 2).fill(''), r.error]
        : [
            r.trace, r.wallMs, r.userMs, r.systemMs, r.idleMs, r.samples, r.userShare, r.systemShare, r.idleShare, r.findings,
            ...KINDS.map((k) => r.byKind[k]),
            r.top?.kind ?? '', r.top?.severity ?? '', r.top ? `${r.top.file}:${r.top.line}` : '', r.top?.function ?? '',
            r.unit, r.total, r.timeOrder, '',
          ];
    out.push(fields.map(csvField).join(',') + '\n');
  }
  return out;
}

/** Keeps the end of a path (the file name) when it does not fit. */
export function leftTruncate(text: string, width: number): string {
  if (text.length <= width) return text;
  return '…' + text.slice(text.length - width + 1);
}

function rightTruncate(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, width - 1) + '…';
}

function duration(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${ms.toFixed(1)} ms`;
}

/** A row's total in its unit, short enough for the table's 10 columns. */
function amount(unit: ValueUnit, total: number): string {
  if (unit === 'ms') return duration(total);
  if (unit === 'bytes') return bytes(total);
  return total >= 1e6 ? `${(total / 1e6).toFixed(1)}M count` : `${count(total)} count`;
}

const pct = (share: number) => `${Math.round(share * 100)}%`;

/** A file under the working directory relative to it (shorter in a table), others as they are. */
function nearby(file: string): string {
  if (!file.startsWith('/')) return file;
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : file;
}

function table(rows: Row[], width: number): string[] {
  const traceWidth = 30;
  const out = [`${'trace'.padEnd(traceWidth)} ${'wall/total'.padStart(10)}  user  sys idle  findings\n`];
  for (const r of rows) {
    const trace = leftTruncate(r.trace, traceWidth).padEnd(traceWidth);
    if (r.error !== undefined) {
      const message = r.error.startsWith(`${r.trace}: `) ? r.error.slice(r.trace.length + 2) : r.error;
      out.push(`${trace} ${'failed'.padStart(10)}\n`);
      out.push(rightTruncate(`  error: ${message.replace(/\s+/g, ' ')}`, width) + '\n');
      continue;
    }
    const kinds = KINDS.filter((k) => r.byKind[k] > 0).map((k) => `${r.byKind[k]} ${k}`);
    const time = r.unit === 'ms';
    const findings = (r.findings ? kinds.join(', ') : 'none') + (time && r.timeOrder === 'none' ? ' (untimed)' : '');
    // Bytes and counts are not split into user / system / idle time.
    const [user, system, idle] = time ? [r.userShare, r.systemShare, r.idleShare].map(pct) : ['-', '-', '-'];
    const shares = `${user.padStart(5)} ${system.padStart(4)} ${idle.padStart(4)}`;
    const head = `${trace} ${amount(r.unit, r.total).padStart(10)} ${shares}  `;
    out.push(rightTruncate(head + findings, width) + '\n');
    if (r.top) {
      const lead = `  top: ${r.top.severity} ${r.top.kind} at `;
      const fn = r.top.function ? ` ${r.top.function}` : '';
      const room = width - lead.length - fn.length;
      const at = leftTruncate(`${nearby(r.top.file)}:${r.top.line}`, Math.max(room, 16));
      out.push(rightTruncate(lead + at + fn, width) + '\n');
    }
  }
  const t = totals(rows);
  const findings = SEVERITIES.map((s) => `${t.findings[s as keyof typeof t.findings]} ${s}`).join(', ');
  out.push(`\n${t.inputs} inputs, ${t.failed} failed; findings: ${findings}\n`);
  return out;
}

/** A batch output read back: its rows and, for JSON written with --shard, which shard it is. */
export interface ParsedOutput {
  format: 'ndjson' | 'json';
  rows: Row[];
}

export function parseOutput(name: string, text: string): ParsedOutput {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') && !trimmed.includes('\n{')) {
    // One JSON document (pretty-printed JSON never has a line starting with "{" after the first).
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InputError(`${name}: not valid JSON (${(error as Error).message})`);
    }
    const list = (value as { rows?: unknown })?.rows;
    if (Array.isArray(list)) return { format: 'json', rows: list.map((v, i) => rowOrThrow(v, `${name}: row ${i + 1}`)) };
    // A single NDJSON line is also a JSON object: a row.
    const row = parseRow(value);
    if (row) return { format: 'ndjson', rows: [row] };
    throw new InputError(`${name}: not a batch output (ndjson or json from \`loopscope batch\`)`);
  }
  if (trimmed === '') return { format: 'ndjson', rows: [] };
  const rows: Row[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InputError(`${name}:${i + 1}: not a batch output (ndjson or json from \`loopscope batch\`)`);
    }
    rows.push(rowOrThrow(value, `${name}:${i + 1}`));
  });
  return { format: 'ndjson', rows };
}

function rowOrThrow(value: unknown, where: string): Row {
  const row = parseRow(value);
  if (!row) throw new InputError(`${where}: not a batch row`);
  return row;
}
