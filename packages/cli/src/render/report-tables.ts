import type { ReportDocument } from './report-document.ts';
import { formatCount, formatEstimate, formatPercent, formatTime } from './number-format.ts';
import { recordKeepingRow } from './report-record-keeping.ts';

/** One table of the period report: cells already formatted, and which columns hold numbers. */
export interface ReportTable {
  headers: string[];
  rows: string[][];
  numeric: ReadonlySet<number>;
}

function reportTable(headers: string[], rows: string[][], numeric: number[] = []): ReportTable {
  return { headers, rows, numeric: new Set(numeric) };
}

/**
 * The tables of the period report, shared by the HTML and Markdown renderers so both formats carry the
 * same columns and numbers; each renderer only decides the markup around them.
 */
export function reportTables(report: ReportDocument) {
  const { model, totals } = report;
  return {
    versions: reportTable(
      ['version', 'decisions', 'first seen', 'last seen', 'provenance'],
      model.versions.map((v) => [
        v.version,
        formatCount(v.decisions),
        v.firstSeen ? formatTime(v.firstSeen) : '—',
        v.lastSeen ? formatTime(v.lastSeen) : '—',
        v.provenance.map((p) => `${p.label}: ${p.value}`).join('; ') || '—',
      ]),
      [1],
    ),
    deployments: reportTable(
      ['time', 'version', 'previous', 'environment', 'weights hash'],
      report.deployments.map((d) => [
        formatTime(d.time),
        d.version,
        d.previousVersion || '—',
        d.environment || '—',
        d.weightsHash || '—',
      ]),
    ),
    outcomes: reportTable(
      ['outcome', 'decisions', 'share'],
      report.outcomes.map((o) => [
        o.outcome,
        formatCount(o.count),
        formatPercent(totals.decisions === 0 ? null : o.count / totals.decisions),
      ]),
      [1, 2],
    ),
    accuracy: reportTable(
      ['version', 'decisions', 'with feedback', 'accuracy', 'override rate'],
      report.accuracyByVersion.map((v) => [
        v.version,
        formatCount(v.decisions),
        formatCount(v.withFeedback),
        formatPercent(v.accuracy),
        formatPercent(v.overrideRate),
      ]),
      [1, 2, 3, 4],
    ),
    oversight: reportTable(
      ['action', 'count'],
      report.oversight.map((o) => [o.action, formatCount(o.count)]),
      [1],
    ),
    agentActions: reportTable(
      ['tool', 'runs', 'failed', 'tied to a decision', 'requested by decisions'],
      report.agentActions.map((a) => [
        a.tool,
        formatCount(a.ran),
        formatCount(a.failed),
        formatCount(a.linked),
        formatCount(a.requested),
      ]),
      [1, 2, 3, 4],
    ),
    fairness: reportTable(
      [
        'fairness group',
        'decisions',
        `outcome "${report.fairness.outcome ?? '—'}" (selection rate)`,
        'accuracy',
        'error rate',
        'true positive rate',
        'false positive rate',
      ],
      report.fairness.groups.map((g) => [
        `${g.group}${report.fairness.smallGroups.includes(g.group) ? ' (too few to compare)' : ''}`,
        formatCount(g.decisions),
        formatEstimate(g.selectionRate),
        formatEstimate(g.accuracy),
        formatEstimate(g.errorRate),
        formatEstimate(g.truePositiveRate),
        formatEstimate(g.falsePositiveRate),
      ]),
      [1, 2, 3, 4, 5, 6],
    ),
    incidents: reportTable(
      ['id', 'title', 'severity', 'category', 'status', 'aware at', 'reporting deadline'],
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
    retention: reportTable(
      ['record class', 'retention'],
      report.retention.map((r) => [r.recordClass, r.period]),
    ),
    recordKeeping: reportTable(
      ['version', 'decisions', 'coverage', 'stored of counted', 'not measured', 'completeness', 'incomplete'],
      report.recordKeeping.versions.map((v) => recordKeepingRow(v, report.recordKeeping.targets)),
      [1, 3, 4, 6],
    ),
    missingAttributes: reportTable(
      ['version', 'required attribute missing', 'decisions'],
      report.recordKeeping.versions.flatMap((v) =>
        v.missing.map((m) => [v.version, m.attribute, formatCount(m.decisions)]),
      ),
      [2],
    ),
    governance: reportTable(
      ['fact', 'value'],
      report.dataGovernance.map((d) => [d.label, d.value]),
    ),
  };
}

/** What the agent-actions table counts, as both formats print it under the table. */
export const AGENT_ACTIONS_NOTE =
  'Tool runs are the stored execute_tool action spans (MCP tool calls, LangChain tool runs); "requested by ' +
  'decisions" counts the tool calls the period\'s decisions asked for. The two need not agree: a model may ask ' +
  'for a tool the application never runs, and a tool may run that no recorded decision asked for. Counted from ' +
  'the stored spans; decisiontrail verify checks their signatures.';

/** The report's title as both formats print it. */
export function reportTitle(report: ReportDocument): string {
  const { model } = report;
  return `EU AI Act period report: ${model.id}${model.versionFilter ? ` ${model.versionFilter}` : ''}`;
}

/** The disparity ratio and the four-fifths rule as both formats print them. */
export function disparityText(report: ReportDocument): string {
  const f = report.fairness;
  if (f.disparityRatio === null) return '— (needs two groups and at least one positive outcome)';
  return `${f.disparityRatio.toFixed(3)} — ${f.failsFourFifths ? 'below 0.8: fails the four-fifths rule' : 'not below 0.8 (four-fifths rule)'}${
    f.smallGroups.length > 0 ? `; groups too small to compare: ${f.smallGroups.join(', ')}` : ''
  }`;
}

/** What the fairness table shows, as both formats print it under the table. */
export const FAIRNESS_NOTE =
  'Each rate with its 95% Wilson interval and the number it is computed over. Accuracy and error rate count the ' +
  'labelled decisions (their latest ground-truth label); the true positive rate counts those whose ground truth is ' +
  'the outcome above, the false positive rate those whose ground truth is not. Groups under 30 decisions are too ' +
  'uncertain to compare.';
