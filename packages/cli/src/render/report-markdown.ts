import type { ReportDocument } from './report-document.ts';
import { formatCount, formatPercent, formatTime } from './number-format.ts';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(headers: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['_None in this period._'];
  return [
    `| ${headers.map(cell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

/** Renders the period report as Markdown: the same sections and numbers as the HTML report, without charts. */
export function renderReportMarkdown(report: ReportDocument): string {
  const { model, totals, rates } = report;
  const lines = [
    `# EU AI Act period report: ${model.id}${model.versionFilter ? ` ${model.versionFilter}` : ''}`,
    '',
    `Period ${formatTime(report.period.from)} to ${formatTime(report.period.to)} · generated ${formatTime(report.generatedAt)}`,
    '',
    '## Summary',
    '',
    ...table(
      ['decisions', 'reviewed', 'overridden', 'accuracy', 'error rate', 'incidents'],
      [
        [
          formatCount(totals.decisions),
          formatPercent(rates.reviewRate),
          formatPercent(rates.overrideRate),
          formatPercent(rates.accuracy),
          formatPercent(rates.errorRate),
          formatCount(report.incidents.length),
        ],
      ],
    ),
    '',
    '## Model information (Art. 11, Annex IV)',
    '',
    ...table(
      ['version', 'decisions', 'first seen', 'last seen', 'provenance'],
      model.versions.map((v) => [
        v.version,
        formatCount(v.decisions),
        v.firstSeen ? formatTime(v.firstSeen) : '—',
        v.lastSeen ? formatTime(v.lastSeen) : '—',
        v.provenance.map((p) => `${p.label}: ${p.value}`).join('; ') || '—',
      ]),
    ),
    '',
    '## Deployments',
    '',
    ...table(
      ['time', 'version', 'previous', 'environment', 'weights hash'],
      report.deployments.map((d) => [
        formatTime(d.time),
        d.version,
        d.previousVersion || '—',
        d.environment || '—',
        d.weightsHash || '—',
      ]),
    ),
    '',
    '## Outcomes',
    '',
    ...table(
      ['outcome', 'decisions'],
      report.outcomes.map((o) => [o.outcome, formatCount(o.count)]),
    ),
    '',
    '## Accuracy and error rate per version (Art. 15)',
    '',
    ...table(
      ['version', 'decisions', 'with feedback', 'accuracy', 'override rate'],
      report.accuracyByVersion.map((v) => [
        v.version,
        formatCount(v.decisions),
        formatCount(v.withFeedback),
        formatPercent(v.accuracy),
        formatPercent(v.overrideRate),
      ]),
    ),
    '',
    '## Human oversight (Art. 14, Art. 26)',
    '',
    ...table(
      ['action', 'count'],
      report.oversight.map((o) => [o.action, formatCount(o.count)]),
    ),
    '',
    '## Bias monitoring (Art. 10)',
    '',
    `Disparity ratio (lowest group rate / highest): ${report.fairness.disparityRatio === null ? '—' : report.fairness.disparityRatio.toFixed(3)}`,
    '',
    ...table(
      ['fairness group', 'decisions', `outcome "${report.fairness.outcome ?? '—'}"`, 'rate'],
      report.fairness.groups.map((g) => [
        g.group,
        formatCount(g.decisions),
        formatCount(g.outcomeCount),
        formatPercent(g.outcomeRate),
      ]),
    ),
    '',
    '## Serious incidents (Art. 73)',
    '',
    ...table(
      ['id', 'title', 'severity', 'category', 'status', 'aware at', 'deadline'],
      report.incidents.map((i) => [
        i.id,
        i.title,
        i.severity,
        i.category,
        i.status,
        formatTime(i.awareAt),
        formatTime(i.deadline),
      ]),
    ),
    '',
    '## Record keeping and data governance (Art. 12, Art. 19)',
    '',
    ...table(
      ['record class', 'retention'],
      report.retention.map((r) => [r.recordClass, r.period]),
    ),
    '',
    ...table(
      ['fact', 'value'],
      report.dataGovernance.map((d) => [d.label, d.value]),
    ),
    '',
  ];
  return lines.join('\n');
}
