// The viewer page: takes profiles (dropped, chosen, or preloaded by `loopscope serve`), has the
// Worker analyse them, and shows findings, totals and the per-line table. Everything in a trace
// (function names, URLs, file names) is untrusted: it reaches the page only through textContent.

import type { Finding, LineStat, Totals } from '../model.js';
import type { AnalyzeRequest, ViewerReport, WorkerReply } from './protocol.js';

const TOP_LINES = 50;

const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
const pending = new Map<number, (reply: WorkerReply) => void>();
let nextId = 1;
worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => pending.get(event.data.id)?.(event.data));
worker.addEventListener('error', (event) => showError(`the analysis worker failed: ${event.message || 'could not start'}`));

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  // Strings become text nodes: never parsed as markup.
  node.append(...children);
  return node;
}

function byId<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

const reports = byId<HTMLElement>('reports');
const progressBox = byId<HTMLElement>('progress');
const errorBox = byId<HTMLElement>('error');
const sourcesNote = byId<HTMLElement>('sources');

function showError(message: string): void {
  errorBox.hidden = false;
  errorBox.textContent = message;
}

// ---- input -------------------------------------------------------------------------------------

const jobs = new Map<number, { bar: HTMLProgressElement; label: HTMLElement; row: HTMLElement }>();

function analyze(file: Blob, name: string, sources: { name: string; file: Blob }[]): void {
  const id = nextId++;
  const bar = el('progress', { max: '1', value: '0', 'aria-label': `reading ${name}` });
  const label = el('span', { class: 'phase' }, 'queued');
  const row = el('div', { class: 'job' }, el('span', { class: 'job-name' }, name), bar, label);
  progressBox.append(row);
  progressBox.hidden = false;
  jobs.set(id, { bar, label, row });
  const done = () => {
    pending.delete(id);
    jobs.delete(id);
    row.remove();
    progressBox.hidden = jobs.size === 0;
  };
  pending.set(id, (reply) => {
    if (reply.type === 'progress') {
      bar.value = reply.fraction;
      label.textContent = reply.phase;
    } else if (reply.type === 'result') {
      done();
      showReport(reply.report, reply.speedscope);
    } else {
      done();
      // Importer messages already start with the input's name.
      showError(reply.message.startsWith(`${name}:`) ? reply.message : `${name}: ${reply.message}`);
    }
  });
  const request: AnalyzeRequest = { id, name, file, sources };
  worker.postMessage(request);
}

// The program's own source files, dropped or chosen with a profile (or before it): with them a
// finding points at the line of the call a profile names but cannot place (V8 records no call-site
// lines for callers). They are kept for the profiles that follow.
const SOURCE_FILE = /\.(?:[cm]?js|jsx|[cm]?ts|tsx|py)$/i;
const MAX_SOURCE_BYTES = 4 << 20;
const sources = new Map<string, Blob>();

function analyzeFiles(files: FileList | File[] | null): void {
  errorBox.hidden = true;
  const all = Array.from(files ?? []);
  const profiles = all.filter((f) => !SOURCE_FILE.test(f.name));
  for (const f of all) if (SOURCE_FILE.test(f.name) && f.size <= MAX_SOURCE_BYTES) sources.set(f.name, f);
  const known = [...sources].map(([name, file]) => ({ name, file }));
  for (const file of profiles) analyze(file, file.name, known);
  sourcesNote.hidden = sources.size === 0;
  sourcesNote.textContent = `Source files for call lines: ${[...sources.keys()].join(', ')}`;
}

const input = byId<HTMLInputElement>('file');
byId<HTMLButtonElement>('choose').addEventListener('click', () => input.click());
input.addEventListener('change', () => {
  analyzeFiles(input.files);
  input.value = '';
});

const dropZone = byId<HTMLElement>('drop');
// The whole page takes a drop; without preventDefault on dragover the browser would open the file.
window.addEventListener('dragover', (event) => {
  event.preventDefault();
  if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  dropZone.classList.add('active');
});
window.addEventListener('dragleave', (event) => {
  if (event.relatedTarget === null) dropZone.classList.remove('active');
});
window.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('active');
  analyzeFiles(event.dataTransfer?.files ?? null);
});

// Files given to `loopscope serve`; a static copy of the viewer has none (preload.json is missing).
async function preload(): Promise<void> {
  let list: { name: string; url: string }[];
  try {
    const response = await fetch('preload.json');
    if (!response.ok) return;
    list = await response.json();
  } catch {
    return;
  }
  const files: File[] = [];
  for (const { name, url } of list) {
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      files.push(new File([await response.blob()], String(name)));
    } catch (error) {
      showError(`${name}: could not load it from the server (${(error as Error).message})`);
    }
  }
  if (files.length) analyzeFiles(files);
}
void preload();

// ---- report ------------------------------------------------------------------------------------

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '0%';
}

function bytes(value: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = value;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u ? 1 : 0)} ${units[u]}`;
}

/** The last part of a path or URL: short in the table, the full one in the tooltip. */
function shortFile(file: string): string {
  const trimmed = file.replace(/[/\\]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return cut >= 0 ? trimmed.slice(cut + 1) : trimmed;
}

function place(file: string, line: number): string {
  if (!file) return '';
  return line ? `${shortFile(file)}:${line}` : shortFile(file);
}

/** A stacked user/system/idle bar; the numbers are also in its label, not only in colour. */
function ratioBar(user: number, system: number, idle: number, scale: number): HTMLElement {
  const bar = el('div', { class: 'bar', role: 'img', 'aria-label': `user ${ms(user)}, system ${ms(system)}, idle ${ms(idle)}` });
  bar.title = bar.getAttribute('aria-label') ?? '';
  for (const [cls, value] of [['user', user], ['system', system], ['idle', idle]] as const) {
    const part = el('span', { class: cls });
    part.style.width = `${scale > 0 ? (100 * value) / scale : 0}%`;
    bar.append(part);
  }
  return bar;
}

function totalsView(totals: Totals): HTMLElement {
  const item = (cls: string, label: string, value: number) =>
    el('li', { class: cls }, el('span', { class: 'swatch' }), `${label} ${ms(value)} (${percent(value, totals.wallMs)})`);
  return el(
    'section',
    { class: 'totals' },
    el('h3', {}, 'Totals'),
    el(
      'ul',
      {},
      el('li', {}, `wall ${ms(totals.wallMs)}`),
      item('user', 'user', totals.userMs),
      item('system', 'system', totals.systemMs),
      item('idle', 'idle', totals.idleMs),
      el('li', {}, `${totals.samples} samples`),
    ),
    ratioBar(totals.userMs, totals.systemMs, totals.idleMs, totals.wallMs),
  );
}

function evidenceValue(key: string, value: number | string): string {
  if (typeof value === 'string') return value;
  if (/Ms$/.test(key)) return ms(value);
  if (/Bytes$/.test(key)) return bytes(value);
  if (/Share$/.test(key)) return percent(value, 1);
  return String(value);
}

function findingView(finding: Finding): HTMLElement {
  const { location } = finding;
  const where = el('p', { class: 'culprit' }, 'at ');
  const code = el('code', { title: location.file }, place(location.file, location.line) || '(no location)');
  where.append(code);
  if (location.function) where.append(' ', el('code', { class: 'fn' }, location.function));
  const evidence = el('dl', { class: 'evidence' });
  for (const [key, value] of Object.entries(finding.evidence)) {
    evidence.append(el('dt', {}, key), el('dd', {}, evidenceValue(key, value)));
  }
  const impact =
    finding.impactMs !== undefined
      ? `fixing it saves about ${ms(finding.impactMs)}`
      : finding.impactBytes !== undefined
        ? `about ${bytes(finding.impactBytes)} at stake`
        : 'no estimate';
  return el(
    'article',
    { class: `finding ${finding.severity}` },
    el('h3', {}, el('span', { class: 'severity' }, finding.severity), ' ', el('span', { class: 'kind' }, finding.kind), ': ', finding.title),
    where,
    el('p', { class: 'impact' }, el('strong', {}, 'Impact: '), impact),
    el('p', { class: 'suggestion' }, el('strong', {}, 'Suggestion: '), finding.suggestion),
    el('details', {}, el('summary', {}, 'Evidence'), evidence),
  );
}

type Column = { key: string; label: string; value: (line: LineStat) => number | string; numeric: boolean };

const COLUMNS: Column[] = [
  { key: 'time', label: 'time', value: (l) => l.userMs + l.systemMs + l.idleMs, numeric: true },
  { key: 'user', label: 'user', value: (l) => l.userMs, numeric: true },
  { key: 'system', label: 'system', value: (l) => l.systemMs, numeric: true },
  { key: 'idle', label: 'idle', value: (l) => l.idleMs, numeric: true },
  { key: 'samples', label: 'samples', value: (l) => l.samples, numeric: true },
  { key: 'location', label: 'location', value: (l) => `${l.file}\u0000${String(l.line).padStart(9, '0')}`, numeric: false },
  { key: 'function', label: 'function', value: (l) => l.function, numeric: false },
];

function lineTableView(lines: LineStat[], totals: Totals): HTMLElement {
  let sortKey = 'time';
  let descending = true;
  const filter = el('input', { type: 'search', placeholder: 'filter by file', 'aria-label': 'filter lines by file' });
  const caption = el('caption', {});
  const headRow = el('tr', {});
  const body = el('tbody', {});
  const table = el('table', { class: 'lines' }, caption, el('thead', {}, headRow), body);
  const scale = Math.max(0, ...lines.map((l) => l.userMs + l.systemMs + l.idleMs));

  const headers = new Map<string, HTMLElement>();
  const sortable = (column: Column) => {
    const button = el('button', { type: 'button' }, column.label);
    button.addEventListener('click', () => {
      if (sortKey === column.key) descending = !descending;
      else {
        sortKey = column.key;
        descending = column.numeric;
      }
      render();
    });
    const th = el('th', { scope: 'col', 'data-key': column.key }, button);
    headers.set(column.key, th);
    return th;
  };
  headRow.append(sortable(COLUMNS[0]), el('th', { scope: 'col' }, 'share'), ...COLUMNS.slice(1, 5).map(sortable), el('th', { scope: 'col' }, 'user / system / idle'), ...COLUMNS.slice(5).map(sortable));

  function render(): void {
    const needle = filter.value.trim().toLowerCase();
    const column = COLUMNS.find((c) => c.key === sortKey) ?? COLUMNS[0];
    const shown = lines.filter((l) => !needle || l.file.toLowerCase().includes(needle));
    const sign = descending ? -1 : 1;
    shown.sort((a, b) => {
      const x = column.value(a);
      const y = column.value(b);
      return sign * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
    });
    const top = shown.slice(0, TOP_LINES);
    for (const [key, th] of headers) th.setAttribute('aria-sort', key === sortKey ? (descending ? 'descending' : 'ascending') : 'none');
    const which = needle ? `${shown.length} lines in files matching “${filter.value.trim()}” (of ${lines.length})` : `${lines.length} lines`;
    caption.textContent = `${top.length < shown.length ? `Top ${top.length} of ` : ''}${which}, by ${column.label} ${descending ? '↓' : '↑'}`;
    body.replaceChildren(
      ...top.map((l) => {
        const time = l.userMs + l.systemMs + l.idleMs;
        return el(
          'tr',
          {},
          el('td', { class: 'num' }, ms(time)),
          el('td', { class: 'num' }, percent(time, totals.wallMs)),
          el('td', { class: 'num' }, ms(l.userMs)),
          el('td', { class: 'num' }, ms(l.systemMs)),
          el('td', { class: 'num' }, ms(l.idleMs)),
          el('td', { class: 'num' }, String(l.samples)),
          el('td', {}, ratioBar(l.userMs, l.systemMs, l.idleMs, scale)),
          el('td', { class: 'loc', title: l.file }, place(l.file, l.line)),
          el('td', { class: 'fn' }, l.function),
        );
      }),
    );
  }
  filter.addEventListener('input', render);
  render();
  return el('section', { class: 'table' }, el('h3', {}, 'Lines'), el('label', { class: 'filter' }, 'File ', filter), el('div', { class: 'scroll' }, table));
}

function showReport(report: ViewerReport, speedscope: Blob): void {
  const flameUrl = URL.createObjectURL(speedscope);
  const open = el('button', { type: 'button', class: 'flame' }, 'Open flame graph');
  open.addEventListener('click', () => {
    // No title: speedscope then shows the export's own profile names.
    const hash = `#profileURL=${encodeURIComponent(flameUrl)}`;
    window.open(new URL(`speedscope/index.html${hash}`, document.baseURI).href, '_blank', 'noopener');
  });
  const close = el('button', { type: 'button', class: 'close', 'aria-label': `close ${report.name}` }, '×');
  const findings = el('section', { class: 'findings', 'aria-label': 'findings' });
  if (report.findings.length === 0) findings.append(el('p', { class: 'none' }, 'No bottleneck found.'));
  const view = el(
    'section',
    { class: 'report' },
    el('header', {}, el('h2', {}, report.name), el('span', { class: 'format' }, report.format), open, close),
    findings,
    totalsView(report.totals),
    lineTableView(report.lines, report.totals),
  );
  findings.append(...report.findings.map(findingView));
  close.addEventListener('click', () => {
    URL.revokeObjectURL(flameUrl);
    view.remove();
  });
  reports.prepend(view);
}
