import type { ReportDocument } from './report-document.ts';
import { formatCount, formatPercent, formatTime } from './number-format.ts';
import { integrityHeadline } from './report-integrity.ts';
import {
  AGENT_ACTIONS_NOTE,
  disparityText,
  FAIRNESS_NOTE,
  reportTables,
  reportTitle,
  type ReportTable,
} from './report-tables.ts';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table({ headers, rows }: ReportTable): string[] {
  if (rows.length === 0) return ['_None in this period._'];
  return [
    `| ${headers.map(cell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

/** Renders the period report as Markdown: the same sections and numbers as the HTML report, without charts. */
export function renderReportMarkdown(report: ReportDocument): string {
  const { totals, rates } = report;
  const tables = reportTables(report);
  const lines = [
    `# ${reportTitle(report)}`,
    '',
    `Period ${formatTime(report.period.from)} to ${formatTime(report.period.to)} · generated ${formatTime(report.generatedAt)}`,
    '',
    '## Summary',
    '',
    ...table({
      headers: ['decisions', 'reviewed', 'overridden', 'accuracy', 'error rate', 'incidents'],
      rows: [
        [
          formatCount(totals.decisions),
          formatPercent(rates.reviewRate),
          formatPercent(rates.overrideRate),
          formatPercent(rates.accuracy),
          formatPercent(rates.errorRate),
          formatCount(report.incidents.length),
        ],
      ],
      numeric: new Set(),
    }),
    '',
    `**${integrityHeadline(report.integrity)}** ${report.integrity.meaning}`,
    '',
    '## Model information (Art. 11, Annex IV)',
    '',
    ...table(tables.versions),
    '',
    '## Deployments',
    '',
    ...table(tables.deployments),
    '',
    '## Outcomes',
    '',
    ...table(tables.outcomes),
    '',
    '## Accuracy and error rate per version (Art. 15)',
    '',
    ...table(tables.accuracy),
    '',
    '## Human oversight (Art. 14, Art. 26)',
    '',
    ...table(tables.oversight),
    '',
    '## Agent actions (Art. 12(2), Art. 26(5))',
    '',
    ...table(tables.agentActions),
    '',
    AGENT_ACTIONS_NOTE,
    '',
    '## Bias monitoring (Art. 10)',
    '',
    `Disparity ratio (lowest group selection rate / highest): ${disparityText(report)}`,
    '',
    ...table(tables.fairness),
    '',
    FAIRNESS_NOTE,
    '',
    '## Serious incidents (Art. 73)',
    '',
    ...table(tables.incidents),
    '',
    '## Decision coverage and record completeness (Art. 12)',
    '',
    ...table(tables.recordKeeping),
    '',
    ...(tables.missingAttributes.rows.length === 0 ? [] : [...table(tables.missingAttributes), '']),
    report.recordKeeping.meaning,
    '',
    '## Record keeping and data governance (Art. 12, Art. 19)',
    '',
    ...table(tables.retention),
    '',
    ...table(tables.governance),
    '',
  ];
  return lines.join('\n');
}
