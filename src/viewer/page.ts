// The viewer page: takes profiles and `collect` recordings (files or folders dropped, chosen, or
// preloaded by `loopscope serve`), has the Worker analyse them, and shows findings, the timeline,
// totals and the per-line table in the profile's unit (time, bytes or counts). Everything in a
// trace (function names, URLs, file names) is untrusted: it reaches the page only through textContent.

import { MANIFEST, RECORDING_FILE } from '../collector/format.js';
import type { Finding, LineStat, TimeOrder, Totals, ValueUnit } from '../model.js';
import { bytes, count } from '../reports/terminal.js';
import type { AnalyzeRequest, NamedBlob, ViewerReport, WorkerReply } from './protocol.js';
import { timelineView, time } from './timeline-view.js';

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
const statusLine = byId<HTMLElement>('status');

function showError(message: string): void {
  errorBox.hidden = false;
  errorBox.textContent = message;
}

// ---- input -------------------------------------------------------------------------------------

const jobs = new Map<number, { bar: HTMLProgressElement; label: HTMLElement; row: HTMLElement }>();

function analyze(name: string, input: AnalyzeRequest['input'], sources: NamedBlob[]): void {
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
      // Importer messages already start with the input's name (a recording's: with its folder).
      showError(reply.message.startsWith(name) ? reply.message : `${name}: ${reply.message}`);
    }
  });
  const request: AnalyzeRequest = { id, name, input, sources };
  worker.postMessage(request);
}

/** A file as given, with its path inside what was given ("rec/1234.cpuprofile"; the bare name when it came alone). */
interface Given {
  file: File;
  path: string;
}

const folderOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));

// The program's own source files, dropped or chosen with a profile (or before it): with them a
// finding points at the line of the call a profile names but cannot place (V8 records no call-site
// lines for callers). They are kept for the profiles that follow.
const SOURCE_FILE = /\.(?:[cm]?js|jsx|[cm]?ts|tsx|py)$/i;
const MAX_SOURCE_BYTES = 4 << 20;
const sources = new Map<string, Blob>();

/** Profiles by their usual names: what is taken from a folder besides recordings and sources. */
const PROFILE_FILE = /\.(?:cpuprofile|heapprofile|prof|pprof|pb|pb\.gz|folded|collapsed)$|\.speedscope\.json$/i;

/**
 * The files of a `collect` recording (recording.json and `<pid>.*` beside it in one folder, or
 * given together without folders) go to the Worker as one input, like `loopscope analyze DIR`.
 * Every other file given by itself is a profile of its own; in a folder, only files named like one.
 */
function analyzeGiven(given: Given[]): void {
  errorBox.hidden = true;
  for (const { file } of given) if (SOURCE_FILE.test(file.name) && file.size <= MAX_SOURCE_BYTES) sources.set(file.name, file);
  const recordings = new Map<string, NamedBlob[]>();
  for (const { file, path } of given) if (file.name === MANIFEST) recordings.set(folderOf(path), []);
  const profiles: Given[] = [];
  for (const g of given) {
    if (SOURCE_FILE.test(g.file.name)) continue;
    const recording = recordings.get(folderOf(g.path));
    if (recording && (g.file.name === MANIFEST || RECORDING_FILE.test(g.file.name))) {
      recording.push({ name: g.file.name, file: g.file });
    } else if (/^\d+\.(?:trace\.json|heapprofile|process\.json)$/.test(g.file.name)) {
      showError(`${g.path}: part of a \`loopscope collect\` recording: give it with the recording's ${MANIFEST} (or drop the whole folder)`);
    } else if (!folderOf(g.path) || PROFILE_FILE.test(g.file.name)) profiles.push(g);
  }
  if (!recordings.size && !profiles.length && given.some((g) => folderOf(g.path) && !SOURCE_FILE.test(g.file.name))) {
    showError(`no profile or \`loopscope collect\` recording among the ${given.length} files of ${given[0].path.split('/')[0]}`);
  }
  const known = [...sources].map(([name, file]) => ({ name, file }));
  for (const [folder, files] of recordings) analyze(folder.split('/').pop() || 'recording', { kind: 'recording', files }, known);
  for (const { file } of profiles) analyze(file.name, { kind: 'profile', file }, known);
  sourcesNote.hidden = sources.size === 0;
  sourcesNote.textContent = `Source files for call lines: ${[...sources.keys()].join(', ')}`;
}

const fromList = (files: FileList | null): Given[] => Array.from(files ?? [], (file) => ({ file, path: file.webkitRelativePath || file.name }));

/** The files under dropped folders (and dropped files), with their paths. */
async function readEntries(entries: FileSystemEntry[]): Promise<Given[]> {
  const out: Given[] = [];
  const visit = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ file, path: entry.fullPath.replace(/^\/+/, '') });
    } else if (entry.isDirectory && entry.name !== 'node_modules' && !entry.name.startsWith('.')) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // Each call returns a batch (100 in Chromium); an empty one ends the folder.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const child of batch) await visit(child);
      }
    }
  };
  for (const entry of entries) await visit(entry);
  return out;
}

const input = byId<HTMLInputElement>('file');
const folderInput = byId<HTMLInputElement>('folder');
byId<HTMLButtonElement>('choose').addEventListener('click', () => input.click());
byId<HTMLButtonElement>('choose-folder').addEventListener('click', () => folderInput.click());
for (const chooser of [input, folderInput]) {
  chooser.addEventListener('change', () => {
    analyzeGiven(fromList(chooser.files));
    chooser.value = '';
  });
}

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
  const transfer = event.dataTransfer;
  // Entries must be taken during the event; a folder among them is then walked asynchronously.
  const entries = Array.from(transfer?.items ?? [], (item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null)).filter((e) => e !== null);
  if (entries.some((e) => e.isDirectory)) {
    readEntries(entries).then(analyzeGiven, (error: Error) => showError(`could not read the dropped folder: ${error.message}`));
  } else analyzeGiven(fromList(transfer?.files ?? null));
});

// Files given to `loopscope serve`; a static copy of the viewer has none (preload.json is missing).
async function preload(): Promise<void> {
  let list: { name: string; url: string; folder?: string }[];
  try {
    const response = await fetch('preload.json');
    if (!response.ok) return;
    list = await response.json();
  } catch {
    return;
  }
  const files: Given[] = [];
  for (const { name, url, folder } of list) {
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      files.push({ file: new File([await response.blob()], String(name)), path: folder ? `${folder}/${name}` : String(name) });
    } catch (error) {
      showError(`${name}: could not load it from the server (${(error as Error).message})`);
    }
  }
  if (files.length) analyzeGiven(files);
}
void preload();

// ---- report ------------------------------------------------------------------------------------

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '0%';
}

/** A value in the profile's unit: in a profile of bytes or counts the `...Ms` fields hold those. */
function formatter(unit: ValueUnit): (value: number) => string {
  return unit === 'bytes' ? bytes : unit === 'count' ? count : ms;
}

const unitWord = (unit: ValueUnit) => (unit === 'bytes' ? 'bytes' : 'counts');

const selfOf = (l: LineStat) => l.userMs + l.systemMs + l.idleMs;

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

/** A profile of bytes or counts splits nothing into user / system / idle: one bar of the line's value. */
function selfBar(value: number, scale: number, unit: ValueUnit): HTMLElement {
  const bar = el('div', { class: 'bar', role: 'img', 'aria-label': `self ${formatter(unit)(value)}` });
  bar.title = bar.getAttribute('aria-label') ?? '';
  const part = el('span', { class: 'self' });
  part.style.width = `${scale > 0 ? (100 * value) / scale : 0}%`;
  bar.append(part);
  return bar;
}

function totalsView(totals: Totals, unit: ValueUnit): HTMLElement {
  if (unit !== 'ms') {
    return el(
      'section',
      { class: 'totals' },
      el('h3', {}, 'Totals'),
      el('ul', {}, el('li', { class: 'self' }, `total ${formatter(unit)(totals.wallMs)} (${unitWord(unit)}, not time)`), el('li', {}, `${count(totals.samples)} samples`)),
    );
  }
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

/** A finding's card; `spans` are when it was seen (from the start of the run), where known. */
function findingView(finding: Finding, number: number, spans: { startMs: number; endMs: number }[]): HTMLElement {
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
    el('h3', {}, el('span', { class: 'number' }, `${number}.`), ' ', el('span', { class: 'severity' }, finding.severity), ' ', el('span', { class: 'kind' }, finding.kind), ': ', finding.title),
    where,
    ...(spans.length ? [el('p', { class: 'seen' }, el('strong', {}, 'When: '), seen(spans))] : []),
    el('p', { class: 'impact' }, el('strong', {}, 'Impact: '), impact),
    el('p', { class: 'suggestion' }, el('strong', {}, 'Suggestion: '), finding.suggestion),
    el('details', {}, el('summary', {}, 'Evidence'), evidence),
  );
}

function seen(spans: { startMs: number; endMs: number }[]): string {
  const [first] = spans;
  const range = `${time(first.startMs)} to ${time(first.endMs)} into the run`;
  return spans.length === 1 ? `from ${range}` : `${spans.length} times, the first from ${range}`;
}

type Column = { key: string; label: string; value: (line: LineStat) => number | string; numeric: boolean };
/** A value column: what its cell shows. */
type ValueColumn = Column & { text: (line: LineStat) => string };

const SAMPLES: ValueColumn = { key: 'samples', label: 'samples', value: (l) => l.samples, numeric: true, text: (l) => String(Math.round(l.samples * 10) / 10) };

/**
 * The value columns, the first one also shown as a share: time split into user / system / idle, or,
 * for a profile of bytes or counts, its `self` value (as the terminal report shows it).
 */
function valueColumns(unit: ValueUnit): ValueColumn[] {
  if (unit !== 'ms') {
    const format = formatter(unit);
    return [{ key: 'self', label: 'self', value: selfOf, numeric: true, text: (l) => format(selfOf(l)) }, SAMPLES];
  }
  const column = (key: string, value: (l: LineStat) => number): ValueColumn => ({ key, label: key, value, numeric: true, text: (l) => ms(value(l)) });
  return [column('time', selfOf), column('user', (l) => l.userMs), column('system', (l) => l.systemMs), column('idle', (l) => l.idleMs), SAMPLES];
}

const PLACE_COLUMNS: Column[] = [
  { key: 'location', label: 'location', value: (l) => `${l.file}\u0000${String(l.line).padStart(9, '0')}`, numeric: false },
  { key: 'function', label: 'function', value: (l) => l.function, numeric: false },
];

function lineTableView(lines: LineStat[], totals: Totals, unit: ValueUnit): HTMLElement {
  const values = valueColumns(unit);
  const columns: Column[] = [...values, ...PLACE_COLUMNS];
  let sortKey = columns[0].key;
  let descending = true;
  const filter = el('input', { type: 'search', placeholder: 'filter by file', 'aria-label': 'filter lines by file' });
  const caption = el('caption', {});
  const headRow = el('tr', {});
  const body = el('tbody', {});
  const table = el('table', { class: 'lines' }, caption, el('thead', {}, headRow), body);
  const scale = lines.reduce((most, l) => Math.max(most, selfOf(l)), 0);

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
  const barLabel = unit === 'ms' ? 'user / system / idle' : `self (${unitWord(unit)})`;
  headRow.append(sortable(values[0]), el('th', { scope: 'col' }, 'share'), ...values.slice(1).map(sortable), el('th', { scope: 'col' }, barLabel), ...PLACE_COLUMNS.map(sortable));

  function render(): void {
    const needle = filter.value.trim().toLowerCase();
    const column = columns.find((c) => c.key === sortKey) ?? columns[0];
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
      ...top.map((l) =>
        el(
          'tr',
          {},
          el('td', { class: 'num' }, values[0].text(l)),
          el('td', { class: 'num' }, percent(selfOf(l), totals.wallMs)),
          ...values.slice(1).map((c) => el('td', { class: 'num' }, c.text(l))),
          el('td', {}, unit === 'ms' ? ratioBar(l.userMs, l.systemMs, l.idleMs, scale) : selfBar(selfOf(l), scale, unit)),
          el('td', { class: 'loc', title: l.file }, place(l.file, l.line)),
          el('td', { class: 'fn' }, l.function),
        ),
      ),
    );
  }
  filter.addEventListener('input', render);
  render();
  return el('section', { class: 'table' }, el('h3', {}, 'Lines'), el('label', { class: 'filter' }, 'File ', filter), el('div', { class: 'scroll' }, table));
}

function recordingNote(recording: NonNullable<ViewerReport['recording']>): HTMLElement {
  const others = recording.processes - 1;
  return el(
    'p',
    { class: 'recording' },
    'Recording of ',
    el('code', {}, recording.command),
    `: process ${recording.pid} (${recording.profile})${others ? `, the main one of ${recording.processes} recorded` : ''}.`,
  );
}

/**
 * In place of the timeline of a format that keeps totals per stack only (its importer's order is
 * made up), or of values that are not time.
 */
function noTimelineNote(unit: ValueUnit, timeOrder: TimeOrder): HTMLElement {
  const why =
    timeOrder === 'none'
      ? `this format keeps no time order, only totals per stack.${unit === 'ms' ? ' Findings rest on shares, never on how long one call ran.' : ''}`
      : `the values are ${unitWord(unit)}, not time.`;
  return el('p', { class: 'no-timeline' }, `No timeline: ${why}`);
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
  const { unit, timeOrder } = report;
  const findings = el('section', { class: 'findings', 'aria-label': 'findings' });
  if (report.findings.length === 0) {
    const none = unit === 'ms' ? 'No bottleneck found.' : `No findings: the values are ${unitWord(unit)}, not time; the table shows where they went.`;
    findings.append(el('p', { class: 'none' }, none));
  }
  const notes = [
    ...(unit !== 'ms' ? [el('span', { class: 'unit' }, `values in ${unitWord(unit)}`)] : []),
    ...(timeOrder === 'none' ? [el('span', { class: 'order' }, 'no time order')] : []),
  ];
  const view = el(
    'section',
    { class: 'report' },
    el('header', {}, el('h2', {}, report.name), el('span', { class: 'format' }, report.format), ...notes, open, close),
    ...(report.recording ? [recordingNote(report.recording)] : []),
    findings,
    report.timeline ? timelineView(report.timeline, report.findings) : noTimelineNote(unit, timeOrder),
    totalsView(report.totals, unit),
    lineTableView(report.lines, report.totals, unit),
  );
  const spans = new Map((report.timeline?.findings ?? []).map((f) => [f.index, f.spans]));
  findings.append(...report.findings.map((f, i) => findingView(f, i + 1, spans.get(i) ?? [])));
  close.addEventListener('click', () => {
    URL.revokeObjectURL(flameUrl);
    view.remove();
  });
  reports.prepend(view);
  // Screen readers hear that the report is there (the progress bar that announced the reading is gone).
  const found = report.findings.length;
  const outcome = found ? `${found} finding${found === 1 ? '' : 's'}` : unit === 'ms' ? 'no bottleneck found' : `${unitWord(unit)} per line`;
  statusLine.textContent = `${report.name} analysed: ${outcome}`;
}
