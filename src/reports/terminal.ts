// The terminal report: the findings in plain words first, then where the time went, line by line.
// Fits 80 columns; colour only when writing to a TTY, and never the only signal (the bars use a
// different glyph per share).

import { relative, isAbsolute } from 'node:path';
import { timeOrderOf, unitOf, type Analysis, type Finding, type LineStat, type ValueUnit } from '../model.js';

export interface TerminalOptions {
  top: number;
  color: boolean;
  width?: number;
  cwd?: string;
}

const GLYPH = { user: '█', system: '▓', idle: '░' };
const COLOR = { user: '\x1b[32m', system: '\x1b[31m', idle: '\x1b[90m', bold: '\x1b[1m', dim: '\x1b[2m', reset: '\x1b[0m' };

export function terminalReport(analysis: Analysis, options: TerminalOptions): string {
  const width = options.width ?? 80;
  const paint = (code: string, text: string) => (options.color ? code + text + COLOR.reset : text);
  const { totals, profile } = analysis;
  const wall = totals.wallMs || 1;
  const pct = (ms: number) => `${((100 * ms) / wall).toFixed(1)}%`;
  const out: string[] = [];

  const about = `  ${profile.format}, ${totals.samples} samples`;
  // A long path gives way first: its end (the file's name) is what tells inputs apart.
  const room = Math.max(24, width - [...about].length);
  const source = [...profile.source].length <= room ? profile.source : '…' + profile.source.slice(profile.source.length - room + 1);
  out.push(paint(COLOR.bold, source) + paint(COLOR.dim, about));
  const unit = unitOf(profile);
  if (unit !== 'ms') return out.concat(selfValues(analysis, unit, options)).join('\n') + '\n';
  out.push(
    `wall ${ms(totals.wallMs)}  ` +
      `${paint(COLOR.user, GLYPH.user)} user ${ms(totals.userMs)} ${pct(totals.userMs)}  ` +
      `${paint(COLOR.system, GLYPH.system)} system ${ms(totals.systemMs)} ${pct(totals.systemMs)}  ` +
      `${paint(COLOR.idle, GLYPH.idle)} idle ${ms(totals.idleMs)} ${pct(totals.idleMs)}`,
  );
  out.push(bar(totals.userMs, totals.systemMs, totals.idleMs, wall, width - 2, paint));
  if (timeOrderOf(profile) === 'none') {
    out.push(paint(COLOR.dim, 'no time order: this format keeps totals per stack, so findings rest on shares,'));
    out.push(paint(COLOR.dim, 'never on how long one call ran nor on the order of waits'));
  }
  out.push('');

  if (analysis.findings.length) {
    out.push(paint(COLOR.bold, 'Findings'));
    analysis.findings.forEach((f, i) => out.push(...finding(f, i + 1, options, paint)));
    out.push('');
  }

  const shown = analysis.lines.slice(0, options.top);
  out.push(paint(COLOR.bold, `Top ${shown.length} of ${analysis.lines.length} lines by time`));
  out.push(paint(COLOR.dim, '   share       time  user/system/idle    location'));
  const barWidth = 18;
  for (const line of shown) {
    const total = line.userMs + line.systemMs + line.idleMs;
    const left = `${pct(total).padStart(8)} ${ms(total).padStart(10)}  `;
    const b = bar(line.userMs, line.systemMs, line.idleMs, wall, barWidth, paint, true);
    const room = width - left.length - barWidth - 2;
    out.push(`${left}${b}  ${fit(where(line, options.cwd), room)}`);
  }
  return out.join('\n') + '\n';
}

/**
 * A profile of bytes or counts: what each line accounts for ("self" values in the profile's unit).
 * Where the value was taken splits no time into user / system / idle, so there are no shares or bars.
 */
function selfValues(analysis: Analysis, unit: ValueUnit, options: TerminalOptions): string[] {
  const value = unit === 'bytes' ? bytes : count;
  const total = analysis.totals.wallMs;
  const pct = (v: number) => `${((100 * v) / (total || 1)).toFixed(1)}%`;
  const out = [`total ${value(total)} (${unit === 'bytes' ? 'bytes' : 'counts'}, not time: no findings)`, ''];
  const shown = analysis.lines.slice(0, options.top);
  out.push(`Top ${shown.length} of ${analysis.lines.length} lines by ${unit === 'bytes' ? 'bytes' : 'count'}`);
  out.push('   share        self  location');
  const room = (options.width ?? 80) - 22;
  for (const line of shown) {
    const self = line.userMs + line.systemMs + line.idleMs;
    out.push(`${pct(self).padStart(8)} ${value(self).padStart(11)}  ${fit(where(line, options.cwd), room)}`);
  }
  return out;
}

export function bytes(value: number): string {
  if (value < 1024) return `${Math.round(value)} B`;
  if (value < 1 << 20) return `${(value / 1024).toFixed(1)} kB`;
  if (value < 1 << 30) return `${(value / (1 << 20)).toFixed(1)} MB`;
  return `${(value / (1 << 30)).toFixed(2)} GB`;
}

export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function finding(f: Finding, n: number, options: TerminalOptions, paint: (c: string, t: string) => string): string[] {
  const tag = f.severity === 'critical' ? COLOR.system : f.severity === 'warning' ? COLOR.bold : COLOR.dim;
  const impact =
    f.impactMs !== undefined
      ? `, fixing it saves about ${ms(f.impactMs)}`
      : f.impactBytes !== undefined
        ? `, about ${mb(f.impactBytes)} at stake`
        : '';
  const at = where({ file: f.location.file, line: f.location.line, function: f.location.function }, options.cwd);
  const width = options.width ?? 80;
  return [
    ...wrap(`${n}. ${paint(tag, `[${f.severity}]`)} ${f.title} (${f.kind}${impact})`, width, '   '),
    `   at ${fit(at, width - 6)}`,
    ...wrap(f.suggestion, width, '   ').map((l) => '   ' + l.trimStart()),
  ];
}

/** Word-wraps `text` to `width` columns; continuation lines start with `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const visible = (t: string) => t.replace(/\x1b\[[0-9;]*m/g, '').length;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && visible(line) + 1 + visible(word) > width) {
      lines.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function mb(bytes: number): string {
  return bytes >= 10 << 20 ? `${Math.round(bytes / (1 << 20))} MB` : `${(bytes / (1 << 20)).toFixed(1)} MB`;
}

function ms(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(2)} s`;
  return `${value.toFixed(1)} ms`;
}

/** A bar of `width` cells: user, system and idle parts of `scale`, full when `relative` is false. */
function bar(
  user: number,
  system: number,
  idle: number,
  scale: number,
  width: number,
  paint: (c: string, t: string) => string,
  relativeToScale = false,
): string {
  const total = relativeToScale ? scale : user + system + idle || 1;
  const cells = (v: number) => Math.round((width * v) / total);
  const u = cells(user);
  const s = Math.min(width - u, cells(system));
  const i = Math.min(width - u - s, cells(idle));
  return (
    paint(COLOR.user, GLYPH.user.repeat(u)) +
    paint(COLOR.system, GLYPH.system.repeat(s)) +
    paint(COLOR.idle, GLYPH.idle.repeat(i)) +
    ' '.repeat(width - u - s - i)
  );
}

function where(line: Pick<LineStat, 'file' | 'line' | 'function'>, cwd = process.cwd()): string {
  if (!line.file) return line.function;
  let file = line.file;
  if (isAbsolute(file)) {
    const rel = relative(cwd, file);
    if (!rel.startsWith('..')) file = rel;
  }
  return `${file}:${line.line} ${line.function}`;
}

/** Shortens a location to `room` columns: directories go first, then the start of what is left. */
function fit(text: string, room: number): string {
  if (text.length <= room) return text;
  const slash = text.lastIndexOf('/', text.indexOf(':', text.indexOf('/') + 1));
  if (slash >= 0 && text.length - slash <= room) return '…' + text.slice(slash);
  return '…' + text.slice(text.length - room + 1);
}
