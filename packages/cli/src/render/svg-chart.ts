/** One bar of a chart. */
export interface ChartBar {
  label: string;
  value: number;
  /** Text shown above the bar; defaults to the formatted value. */
  caption?: string;
}

/** Options shared by the chart builders. */
export interface ChartOptions {
  /** Stable id used in `data-chart`, so tests and stylesheets can find the chart. */
  id: string;
  title: string;
  /** Formats axis ticks and captions. */
  format: (value: number) => string;
  /** Fixed top of the value axis (1 for rates); default: the largest value, rounded up. */
  max?: number;
  width?: number;
  height?: number;
}

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= value)!;
  return step * magnitude;
}

const MARGIN = { top: 28, right: 12, bottom: 46, left: 52 };

function frame(options: ChartOptions, max: number, body: string, kind: string, count: number): string {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = MARGIN.top + plotHeight * (1 - f);
    return (
      `<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/>` +
      `<text class="tick" x="${MARGIN.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${escapeXml(options.format(max * f))}</text>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(options.id)}" data-kind="${kind}" data-points="${count}" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}">` +
    `<title>${escapeXml(options.title)}</title>` +
    `<text class="chart-title" x="${MARGIN.left}" y="16">${escapeXml(options.title)}</text>` +
    ticks.join('') +
    body +
    `</svg>`
  );
}

/** A vertical bar chart as a standalone SVG element (no scripts, no external resources). */
export function barChart(bars: readonly ChartBar[], options: ChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const max = options.max ?? niceMax(Math.max(0, ...bars.map((b) => b.value)));
  if (bars.length === 0) {
    return frame(
      options,
      max,
      `<text class="empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">no data in this period</text>`,
      'bar',
      0,
    );
  }
  const slot = plotWidth / bars.length;
  const barWidth = Math.max(1, slot * 0.7);
  // Label every bar when they fit, otherwise about eight evenly spaced ones.
  const labelEvery = Math.max(1, Math.ceil(bars.length / 8));
  const body = bars
    .map((bar, i) => {
      const h = max === 0 ? 0 : (Math.min(bar.value, max) / max) * plotHeight;
      const x = MARGIN.left + i * slot + (slot - barWidth) / 2;
      const y = MARGIN.top + plotHeight - h;
      const caption = bar.caption ?? options.format(bar.value);
      const label =
        i % labelEvery === 0
          ? `<text class="label" x="${(x + barWidth / 2).toFixed(1)}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${escapeXml(bar.label)}</text>`
          : '';
      const valueText =
        bars.length <= 12
          ? `<text class="value" x="${(x + barWidth / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${escapeXml(caption)}</text>`
          : '';
      return (
        `<rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}">` +
        `<title>${escapeXml(`${bar.label}: ${caption}`)}</title></rect>${valueText}${label}`
      );
    })
    .join('');
  return frame(options, max, body, 'bar', bars.length);
}

/** A line chart over evenly spaced points; points with a null value leave a gap. */
export function lineChart(
  points: readonly { label: string; value: number | null }[],
  options: ChartOptions,
): string {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const max = options.max ?? niceMax(Math.max(0, ...values));
  if (values.length === 0) {
    return frame(
      options,
      max,
      `<text class="empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">no data in this period</text>`,
      'line',
      0,
    );
  }
  const step = points.length > 1 ? plotWidth / (points.length - 1) : 0;
  const xy = points.map((p, i) => ({
    x: MARGIN.left + (points.length > 1 ? i * step : plotWidth / 2),
    y: p.value === null ? null : MARGIN.top + plotHeight - (Math.min(p.value, max) / max) * plotHeight,
    point: p,
  }));
  let path = '';
  let pen = false;
  for (const { x, y } of xy) {
    if (y === null) {
      pen = false;
      continue;
    }
    path += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  }
  const labelEvery = Math.max(1, Math.ceil(points.length / 8));
  const marks = xy
    .map(({ x, y, point }, i) => {
      const dot =
        y === null
          ? ''
          : `<circle class="point" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3"><title>${escapeXml(`${point.label}: ${options.format(point.value!)}`)}</title></circle>`;
      const label =
        i % labelEvery === 0
          ? `<text class="label" x="${x.toFixed(1)}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${escapeXml(point.label)}</text>`
          : '';
      return dot + label;
    })
    .join('');
  return frame(options, max, `<path class="line" d="${path}"/>${marks}`, 'line', values.length);
}
