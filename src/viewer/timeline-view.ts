// The timeline of one input, drawn as SVG: when the loop was busy, its long busy stretches, loop
// delay, memory and GC of a recording, and the findings at the time they were seen. Nothing relies
// on colour alone: stretches are hatched, RSS is dashed, findings carry their number, and the same
// facts are in a text summary and a table beside the drawing. Text reaches the SVG as textContent.

import type { Finding } from '../model.js';
import type { TimelineView } from './protocol.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 1000;
const LEFT = 118;
const RIGHT = 12;
const PLOT = WIDTH - LEFT - RIGHT;
const GAP = 8;
/** Finding spans drawn as bands across every lane; the markers lane shows them all. */
const MAX_BANDS = 60;
const MAX_TABLE_ROWS = 200;
/** Pattern ids are per drawing: several reports share the page. */
let drawings = 0;

type Attrs = Record<string, string | number>;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

/** A tooltip that screen readers read too. */
const title = (text: string) => svg('title', {}, text);

function html<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export function time(ms: number): string {
  if (ms === 0) return '0';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MB`;
}

const round = (v: number) => Math.round(v * 10) / 10;

/** A sampled level as a step line: each value holds until the next sample (the last for one bucket). */
function stepPath(values: number[], x: (b: number) => number, y: (v: number) => number): string {
  const sampled = values.flatMap((v, b) => (Number.isNaN(v) ? [] : [b]));
  return sampled
    .map((b, k) => {
      const until = k + 1 < sampled.length ? sampled[k + 1] : b + 1;
      return `${k ? 'L' : 'M'}${round(x(b))} ${round(y(values[b]))}H${round(x(until))}`;
    })
    .join('');
}

/** Tick spacing of 1, 2 or 5 times a power of ten, for about `count` ticks. */
function tickStep(durationMs: number, count: number): number {
  const raw = durationMs / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
}

const finite = (values: number[]) => values.filter((v) => !Number.isNaN(v));
const max = (values: number[]) => finite(values).reduce((a, b) => Math.max(a, b), 0);

interface Lane {
  name: string;
  label: string;
  detail?: string;
  height: number;
  draw(top: number, height: number): SVGElement[];
}

export function timelineView(view: TimelineView, findings: Finding[]): HTMLElement {
  const { durationMs, bucketMs } = view;
  const buckets = view.busy.length;
  const x = (ms: number) => LEFT + (Math.max(0, Math.min(durationMs, ms)) / durationMs) * PLOT;
  const xb = (b: number) => x(b * bucketMs);
  const lanes: Lane[] = [];
  const hatchId = `hatch-${++drawings}`;

  if (view.findings.length) {
    lanes.push({
      name: 'findings',
      label: 'findings',
      height: 22,
      draw: (top) =>
        view.findings.flatMap(({ index, spans }) => {
          const f = findings[index];
          const n = index + 1;
          const marks: SVGElement[] = spans.map((s) =>
            svg(
              'rect',
              {
                class: `marker ${f.severity}`,
                x: round(x(s.startMs)),
                y: top + 9,
                width: Math.max(2, round(x(s.endMs) - x(s.startMs))),
                height: 12,
                'data-finding': n,
                'data-start-ms': round(s.startMs),
                'data-end-ms': round(s.endMs),
              },
              title(`finding ${n}, ${f.kind}: ${f.title} (${time(s.startMs)} to ${time(s.endMs)})`),
            ),
          );
          marks.push(svg('text', { class: 'marker-label', x: round(x(spans[0].startMs)), y: top + 7 }, String(n)));
          return marks;
        }),
    });
  }

  lanes.push({
    name: 'loop',
    label: 'loop busy',
    detail: `stretches ≥ ${view.stretchMinMs} ms`,
    height: 52,
    draw: (top, height) => {
      const barsTop = top + 12;
      const barsHeight = height - 12;
      let d = '';
      view.busy.forEach((share, b) => {
        if (Number.isNaN(share) || share <= 0) return;
        const y = barsTop + barsHeight * (1 - share);
        d += `M${round(xb(b))} ${round(barsTop + barsHeight)}V${round(y)}H${round(xb(b + 1))}V${round(barsTop + barsHeight)}Z`;
      });
      const idle = svg('rect', { class: 'lane-bg', x: LEFT, y: barsTop, width: PLOT, height: barsHeight });
      const stretches = view.stretches.map((s) =>
        svg(
          'rect',
          {
            class: 'stretch',
            x: round(x(s.startMs)),
            y: top,
            width: Math.max(2, round(x(s.endMs) - x(s.startMs))),
            height: 10,
            fill: `url(#${hatchId})`,
            'data-start-ms': round(s.startMs),
            'data-end-ms': round(s.endMs),
          },
          title(`busy for ${time(s.endMs - s.startMs)} from ${time(s.startMs)}${s.site ? `: ${s.site}` : ''}`),
        ),
      );
      return [idle, svg('path', { class: 'busy', d }), ...stretches];
    },
  });

  if (view.loopDelay && finite(view.loopDelay).length) {
    const values = view.loopDelay;
    const top = Math.max(max(values), 1);
    lanes.push({
      name: 'loop-delay',
      label: 'loop delay',
      detail: `up to ${time(max(values))}`,
      height: 40,
      draw: (y0, height) => [
        svg('rect', { class: 'lane-bg', x: LEFT, y: y0, width: PLOT, height }),
        svg('path', { class: 'delay', d: stepPath(values, xb, (v) => y0 + height * (1 - v / top)) }, title(`timers ran up to ${time(max(values))} late`)),
      ],
    });
  }

  if (view.memory && finite(view.memory.rss).length + finite(view.memory.heapUsed).length) {
    const { heapUsed, rss } = view.memory;
    const top = Math.max(max(rss), max(heapUsed), 1);
    lanes.push({
      name: 'memory',
      label: 'memory',
      detail: `RSS up to ${megabytes(max(rss))}`,
      height: 48,
      draw: (y0, height) => {
        const y = (v: number) => y0 + height * (1 - v / top);
        return [
          svg('rect', { class: 'lane-bg', x: LEFT, y: y0, width: PLOT, height }),
          svg('path', { class: 'rss', d: stepPath(rss, xb, y) }, title(`RSS, up to ${megabytes(max(rss))}`)),
          svg('path', { class: 'heap', d: stepPath(heapUsed, xb, y) }, title(`heap used, up to ${megabytes(max(heapUsed))}`)),
        ];
      },
    });
  }

  if (view.gc && view.gc.count) {
    const { pauseMs } = view.gc;
    const longest = Math.max(max(pauseMs), 1e-3);
    lanes.push({
      name: 'gc',
      label: 'GC pauses',
      detail: `${view.gc.count}, ${time(view.gc.totalMs)}`,
      height: 22,
      draw: (y0, height) => [
        svg('rect', { class: 'lane-bg', x: LEFT, y: y0, width: PLOT, height }),
        ...pauseMs.flatMap((ms, b) => {
          if (!(ms > 0)) return [];
          const h = Math.max(4, height * (ms / longest));
          return [svg('rect', { class: 'gc', x: round(xb(b)), y: round(y0 + height - h), width: Math.max(1.5, round(xb(b + 1) - xb(b))), height: round(h) }, title(`GC ${time(ms)} at ${time(b * bucketMs)}`))];
        }),
      ],
    });
  }

  // Lanes stacked top to bottom, then the time axis.
  const body: SVGElement[] = [];
  let y = 4;
  const lanesTop = y;
  for (const lane of lanes) {
    const g = svg('g', { 'data-lane': lane.name });
    g.append(svg('text', { class: 'lane-label', x: 4, y: y + Math.min(lane.height, 26) / 2 + 4 }, lane.label));
    if (lane.detail) g.append(svg('text', { class: 'lane-detail', x: 4, y: y + Math.min(lane.height, 26) / 2 + 17 }, lane.detail));
    g.append(...lane.draw(y, lane.height));
    body.push(g);
    y += lane.height + GAP;
  }
  const lanesBottom = y - GAP;
  // Each finding's spans as faint bands through every lane, behind the data.
  const bands = svg('g', { class: 'bands' });
  for (const { index, spans } of view.findings) {
    for (const s of spans.slice(0, MAX_BANDS)) {
      bands.append(svg('rect', { class: `band ${findings[index].severity}`, x: round(x(s.startMs)), y: lanesTop, width: Math.max(1, round(x(s.endMs) - x(s.startMs))), height: lanesBottom - lanesTop }));
    }
  }
  const axis = svg('g', { class: 'axis', 'data-lane': 'axis' }, svg('line', { x1: LEFT, x2: LEFT + PLOT, y1: y, y2: y }));
  const step = tickStep(durationMs, 8);
  for (let t = 0; t <= durationMs + 1e-9; t += step) {
    axis.append(svg('line', { x1: round(x(t)), x2: round(x(t)), y1: y, y2: y + 4 }), svg('text', { x: round(x(t)), y: y + 16 }, time(t)));
  }
  const height = y + 22;
  const hatch = svg(
    'pattern',
    { id: hatchId, patternUnits: 'userSpaceOnUse', width: 6, height: 6, patternTransform: 'rotate(45)' },
    svg('rect', { class: 'hatch-bg', width: 6, height: 6 }),
    svg('line', { class: 'hatch-line', x1: 0, y1: 0, x2: 0, y2: 6 }),
  );
  const drawing = svg(
    'svg',
    { class: 'timeline-chart', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': 'Timeline chart: its content is in the summary and the table' },
    svg('defs', {}, hatch),
    bands,
    ...body,
    axis,
  );

  return html(
    'section',
    { class: 'timeline', 'aria-label': 'timeline' },
    html('h3', {}, 'Timeline'),
    html('p', { class: 'timeline-summary' }, summary(view, findings)),
    drawing,
    legend(view),
    table(view, findings),
  );
}

function legend(view: TimelineView): HTMLElement {
  const item = (cls: string, text: string) => html('li', {}, html('span', { class: `key ${cls}` }), text);
  const items = [item('busy', 'loop busy (bar height: share of the time)')];
  if (view.stretches.length) items.push(item('stretch', `busy stretch ≥ ${view.stretchMinMs} ms (hatched)`));
  if (view.findings.length) items.unshift(item('marker', 'finding, numbered as in the list above'));
  if (view.loopDelay) items.push(item('delay', 'loop delay (line)'));
  if (view.memory) items.push(item('heap', 'heap used (solid)'), item('rss', 'RSS (dashed)'));
  if (view.gc) items.push(item('gc', 'GC pause (tick height: its length)'));
  return html('ul', { class: 'legend' }, ...items);
}

function summary(view: TimelineView, findings: Finding[]): string {
  const parts = [`${time(view.durationMs)} recorded; the loop was busy ${Math.round(100 * view.busyShare)}% of the sampled time`];
  if (view.stretchCount) {
    const longest = view.stretches.reduce((a, s) => (s.endMs - s.startMs > a.endMs - a.startMs ? s : a));
    parts.push(
      `${view.stretchCount} busy stretch${view.stretchCount === 1 ? '' : 'es'} of ${view.stretchMinMs} ms or more, the longest ${time(longest.endMs - longest.startMs)} from ${time(longest.startMs)}${longest.site ? `, mostly in ${longest.site}` : ''}`,
    );
  } else parts.push(`no busy stretch of ${view.stretchMinMs} ms or more`);
  for (const { index, spans } of view.findings) {
    const first = spans[0];
    parts.push(`finding ${index + 1} (${findings[index].kind}) seen ${spans.length === 1 ? 'from' : `${spans.length} times, first from`} ${time(first.startMs)} to ${time(first.endMs)}`);
  }
  if (view.loopDelay) parts.push(`the heartbeat timer ran up to ${time(max(view.loopDelay))} late`);
  if (view.loopDelayMaxMs !== null) parts.push(`the largest loop delay of the run was ${time(view.loopDelayMaxMs)}`);
  if (view.memory) parts.push(`heap used up to ${megabytes(max(view.memory.heapUsed))}, RSS up to ${megabytes(max(view.memory.rss))}`);
  if (view.gc) parts.push(`${view.gc.count} GC pause${view.gc.count === 1 ? '' : 's'}, ${time(view.gc.totalMs)} in all, the longest ${time(view.gc.longestMs)}`);
  if (!view.loopDelay && !view.memory && !view.gc) parts.push('a bare profile has no loop delay, memory or GC series (a recording made with loopscope collect has them)');
  return parts.join('; ') + '.';
}

function table(view: TimelineView, findings: Finding[]): HTMLElement {
  const rows: { startMs: number; endMs: number; what: string }[] = [];
  for (const { index, spans } of view.findings) {
    for (const s of spans) rows.push({ ...s, what: `finding ${index + 1}: ${findings[index].title}` });
  }
  for (const s of view.stretches) rows.push({ ...s, what: `busy stretch${s.site ? `: ${s.site}` : ''}` });
  const peak = (values: number[] | undefined) => {
    if (!values || !finite(values).length) return -1;
    const top = max(values);
    return values.indexOf(top);
  };
  const delayPeak = peak(view.loopDelay ?? undefined);
  if (delayPeak >= 0) rows.push({ startMs: delayPeak * view.bucketMs, endMs: NaN, what: `largest loop delay: ${time(view.loopDelay![delayPeak])}` });
  const rssPeak = peak(view.memory?.rss);
  if (rssPeak >= 0) rows.push({ startMs: rssPeak * view.bucketMs, endMs: NaN, what: `largest RSS: ${megabytes(view.memory!.rss[rssPeak])}` });
  rows.sort((a, b) => a.startMs - b.startMs);
  const shown = rows.slice(0, MAX_TABLE_ROWS);
  const body = html(
    'tbody',
    {},
    ...shown.map((r) =>
      html(
        'tr',
        {},
        html('td', { class: 'num' }, time(r.startMs)),
        html('td', { class: 'num' }, Number.isNaN(r.endMs) ? '' : time(r.endMs - r.startMs)),
        html('td', {}, r.what),
      ),
    ),
  );
  const caption = `${shown.length < rows.length ? `First ${shown.length} of ${rows.length}` : `${rows.length}`} events, in time order`;
  return html(
    'details',
    { class: 'timeline-table' },
    html('summary', {}, 'Timeline as a table'),
    html(
      'table',
      {},
      html('caption', {}, caption),
      html('thead', {}, html('tr', {}, html('th', { scope: 'col' }, 'at'), html('th', { scope: 'col' }, 'for'), html('th', { scope: 'col' }, 'what'))),
      body,
    ),
  );
}
