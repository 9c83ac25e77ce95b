import type { ReportDocument } from './report-document.ts';
import { formatCount, formatPercent, formatTime } from './number-format.ts';
import {
  AGENT_ACTIONS_NOTE,
  disparityText,
  FAIRNESS_NOTE,
  reportTables,
  reportTitle,
  type ReportTable,
} from './report-tables.ts';
import { integrityHeadline } from './report-integrity.ts';
import { barChart, escapeXml, lineChart } from './svg-chart.ts';

const STYLE = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #5b6470; --line: #d5dae0; --accent: #2f5d8a; --accent2: #b5542d; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; max-width: 980px; padding: 32px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 16px 0; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.kpi b { display: block; font-size: 22px; } .kpi span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: #f5f7f9; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: 1fr; gap: 16px; }
.chart { width: 100%; height: auto; max-width: 640px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.chart .grid { stroke: #e6e9ed; } .chart .tick, .chart .label, .chart .value { font-size: 10px; fill: var(--muted); }
.chart .chart-title { font-size: 12px; font-weight: 600; fill: var(--ink); } .chart .bar { fill: var(--accent); }
.chart .line { fill: none; stroke: var(--accent2); stroke-width: 2; } .chart .point { fill: var(--accent2); } .chart .empty { font-size: 12px; fill: var(--muted); }
.note { color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; max-width: none; } h2 { break-after: avoid; } .chart, table, .kpis { break-inside: avoid; } @page { margin: 16mm; } }
`;

function table({ headers, rows, numeric }: ReportTable): string {
  if (rows.length === 0) return '<p class="note">None in this period.</p>';
  const head = headers
    .map((h, i) => `<th${numeric.has(i) ? ' class="num"' : ''}>${escapeXml(h)}</th>`)
    .join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((cell, i) => `<td${numeric.has(i) ? ' class="num"' : ''}>${escapeXml(cell)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function kpi(label: string, value: string): string {
  return `<div class="kpi"><b>${escapeXml(value)}</b><span>${escapeXml(label)}</span></div>`;
}

const count = (v: number): string => formatCount(Math.round(v));
const percent = (v: number): string => formatPercent(v);

/**
 * Renders the period report as one self-contained, printable HTML file: inline CSS, inline SVG charts, no scripts
 * and no external resources, so it opens offline and archives as it is.
 */
export function renderReportHtml(report: ReportDocument): string {
  const { period, totals, rates } = report;
  const tables = reportTables(report);
  const title = reportTitle(report);
  // Buckets shorter than a minute are labelled to the second, shorter than a day by time of day, longer by date.
  const series = report.decisionsOverTime;
  const width = series.length > 1 ? Date.parse(series[1]!.start) - Date.parse(series[0]!.start) : 86_400_000;
  const bucketLabel = (start: string): string =>
    width < 60_000 ? start.slice(11, 19) : width < 86_400_000 ? start.slice(11, 16) : start.slice(5, 10);
  const charts = [
    barChart(
      series.map((b) => ({ label: bucketLabel(b.start), value: b.decisions })),
      { id: 'decisions-over-time', title: 'Decisions over time', format: count },
    ),
    lineChart(
      series.map((b) => ({ label: bucketLabel(b.start), value: b.overrideRate })),
      {
        id: 'override-rate',
        title: 'Human override rate',
        format: percent,
        max: niceRateMax(report.decisionsOverTime.map((b) => b.overrideRate)),
      },
    ),
    barChart(
      report.confidenceHistogram.map((b) => ({ label: b.lower.toFixed(1), value: b.count })),
      { id: 'confidence-histogram', title: 'Confidence distribution', format: count },
    ),
    barChart(
      report.accuracyByVersion.map((v) => ({
        label: v.version,
        value: v.accuracy ?? 0,
        caption: formatPercent(v.accuracy),
      })),
      {
        id: 'accuracy-by-version',
        title: 'Accuracy per model version (from feedback)',
        format: percent,
        max: 1,
      },
    ),
    barChart(
      report.fairness.groups.map((g) => ({
        label: g.group,
        value: g.outcomeRate ?? 0,
        caption: formatPercent(g.outcomeRate),
      })),
      {
        id: 'outcome-rate-by-group',
        title: `Rate of outcome "${report.fairness.outcome ?? '—'}" per fairness group`,
        format: percent,
        max: 1,
      },
    ),
  ];
  const sections = [
    `<h1>${escapeXml(title)}</h1>`,
    `<p class="meta">Period ${escapeXml(formatTime(period.from))} to ${escapeXml(formatTime(period.to))} · generated ${escapeXml(formatTime(report.generatedAt))} by decisiontrail</p>`,
    `<section class="kpis">${[
      kpi('decisions', formatCount(totals.decisions)),
      kpi('reviewed by a human', formatPercent(rates.reviewRate)),
      kpi('overridden', formatPercent(rates.overrideRate)),
      kpi('accuracy (feedback)', formatPercent(rates.accuracy)),
      kpi('error rate (feedback)', formatPercent(rates.errorRate)),
      kpi('incidents', formatCount(report.incidents.length)),
    ].join('')}</section>`,
    `<p class="integrity"><strong>${escapeXml(integrityHeadline(report.integrity))}</strong> ${escapeXml(report.integrity.meaning)}</p>`,
    `<h2>Model information (Art. 11, Annex IV)</h2>`,
    table(tables.versions),
    `<h2>Deployments</h2>`,
    table(tables.deployments),
    `<h2>Charts</h2><div class="charts">${charts.join('')}</div>`,
    `<h2>Outcomes</h2>`,
    table(tables.outcomes),
    `<h2>Accuracy and error rate per version (Art. 15)</h2>`,
    table(tables.accuracy),
    `<h2>Human oversight (Art. 14, Art. 26)</h2>`,
    table(tables.oversight),
    `<h2>Agent actions (Art. 12(2), Art. 26(5))</h2>`,
    table(tables.agentActions),
    `<p class="note">${escapeXml(AGENT_ACTIONS_NOTE)}</p>`,
    `<h2>Bias monitoring (Art. 10)</h2>`,
    `<p class="note">Disparity ratio (lowest group selection rate / highest): ${escapeXml(disparityText(report))}.</p>`,
    table(tables.fairness),
    `<p class="note">${escapeXml(FAIRNESS_NOTE)}</p>`,
    `<h2>Serious incidents (Art. 73)</h2>`,
    table(tables.incidents),
    `<h2>Decision coverage and record completeness (Art. 12)</h2>`,
    table(tables.recordKeeping),
    ...(tables.missingAttributes.rows.length === 0 ? [] : [table(tables.missingAttributes)]),
    `<p class="note">${escapeXml(report.recordKeeping.meaning)}</p>`,
    `<h2>Record keeping and data governance (Art. 12, Art. 19)</h2>`,
    table(tables.retention),
    table(tables.governance),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="decisiontrail">
<title>${escapeXml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${sections.join('\n')}
</body>
</html>
`;
}

function niceRateMax(rates: readonly (number | null)[]): number {
  const top = Math.max(0, ...rates.filter((r): r is number => r !== null));
  return top === 0 ? 1 : Math.min(1, Math.ceil(top * 10) / 10);
}
