import type { ProcessingActivity } from '@decisiontrail/clickhouse';
import type { DecisionTrailConfig } from '@decisiontrail/core';
import { formatCount, formatTime } from './number-format.ts';
import { escapeXml } from './svg-chart.ts';

/**
 * The GDPR Art. 30 record of processing activities as far as decisiontrail knows it: per model, the purposes,
 * categories of data and how each is recorded, retention and recipients — from decisiontrail.yaml and the store.
 * What only the organisation knows (controller, legal basis, transfers to third countries, security measures
 * beyond these) is left for it to add; the document says so instead of guessing.
 */
export interface ProcessingRecord {
  schemaVersion: 1;
  generatedAt: string;
  period: { from: string | null; to: string };
  /** What the controller adds by hand (Art. 30(1)(a), (b) in part, (e), (g)). */
  toComplete: string[];
  activities: {
    model: string;
    versions: string[];
    purposes: string[];
    services: string[];
    decisionTypes: string[];
    automation: string[];
    riskLevels: string[];
    decisions: number;
    firstDecision: string;
    lastDecision: string;
    /** Categories of data the records hold about people, and how. */
    dataCategories: { category: string; recorded: string; decisions: number }[];
    retention: { recordClass: string; days: number | null; decisions: number }[];
  }[];
  /** Where records go (Art. 30(1)(d)). */
  recipients: { recipient: string; receives: string }[];
  /** Capture modes the configuration sets for the zero-code instrumentation. */
  configuredCapture: { input: string; output: string };
}

const MODE_TEXT: Record<string, string> = {
  hash: 'keyed HMAC-SHA-256 hash only (content not kept)',
  redact: 'hash and a redacted copy',
  full: 'hash and the full content (plaintext)',
  encrypt: 'hash and the content encrypted under the subject’s own key (erasable by crypto-shredding)',
  none: 'nothing',
  '': 'not stated on the span (recorded before capture modes were recorded)',
};

const CLASS_DAYS: Record<string, keyof DecisionTrailConfig['retention']> = {
  standard: 'standard',
  high_risk: 'highRisk',
  incident: 'incident',
  permanent: 'permanent',
};

/** Builds the record from the store's per-model activities and the configuration. */
export function buildProcessingRecord(
  activities: readonly ProcessingActivity[],
  config: DecisionTrailConfig,
  period: { from: Date | null; to: Date },
  now: Date,
): ProcessingRecord {
  const modes = (a: ProcessingActivity, side: 'input' | 'output') => {
    const counts = new Map<string, number>();
    for (const m of a.captureModes) counts.set(m[side], (counts.get(m[side]) ?? 0) + m.decisions);
    return [...counts].sort(([x], [y]) => (x < y ? -1 : 1));
  };
  const recipients: ProcessingRecord['recipients'] = [
    {
      recipient:
        config.storage.clickhouse.url === undefined
          ? `the embedded store at ${config.storage.dataDir}`
          : `ClickHouse at ${config.storage.clickhouse.url}`,
      receives: 'every audit record (decisions, reviews, feedback, deployments)',
    },
  ];
  const { route } = config.processor.stages;
  const forward = config.processor.sinks.forward.url;
  if (forward !== undefined && (route.forwardAudit || route.other === 'forward')) {
    recipients.push({
      recipient: `OTLP endpoint ${forward}`,
      receives: route.forwardAudit
        ? 'every audit record, forwarded'
        : 'the non-audit spans of the application',
    });
  }
  for (const witness of config.witnesses.list) {
    recipients.push({
      recipient: `witness ${witness.name} (${witness.url})`,
      receives: 'signed checkpoints only: stream, tree size and root hash — no personal data',
    });
  }
  return {
    schemaVersion: 1,
    generatedAt: now.toISOString(),
    period: { from: period.from?.toISOString() ?? null, to: period.to.toISOString() },
    toComplete: [
      'name and contact details of the controller, its representative and the data protection officer (Art. 30(1)(a))',
      'the legal basis of each purpose, and the categories of data subjects in plain words (Art. 30(1)(b), (c))',
      'transfers to third countries or international organisations and their safeguards (Art. 30(1)(e))',
      'the technical and organisational security measures beyond those recorded here (Art. 30(1)(g))',
    ],
    activities: activities.map((a) => ({
      model: a.modelId,
      versions: a.versions,
      purposes: a.purposes,
      services: a.services,
      decisionTypes: a.decisionTypes,
      automation: a.automation,
      riskLevels: a.riskLevels,
      decisions: a.decisions,
      firstDecision: a.first.toISOString(),
      lastDecision: a.last.toISOString(),
      dataCategories: [
        {
          category: 'pseudonymous data-subject id',
          recorded: 'as given by the application',
          decisions: a.withSubject,
        },
        {
          category: 'fairness group (for bias monitoring)',
          recorded: 'as given by the application',
          decisions: a.withFairnessGroup,
        },
        {
          category: 'acting user or system id',
          recorded: 'as given by the application',
          decisions: a.withActor,
        },
        ...modes(a, 'input').map(([mode, n]) => ({
          category: 'model input',
          recorded: MODE_TEXT[mode] ?? mode,
          decisions: n,
        })),
        ...modes(a, 'output').map(([mode, n]) => ({
          category: 'model output',
          recorded: MODE_TEXT[mode] ?? mode,
          decisions: n,
        })),
      ],
      retention: Object.entries(a.byRetentionClass)
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([recordClass, decisions]) => ({
          recordClass,
          days: config.retention[CLASS_DAYS[recordClass] ?? 'standard'],
          decisions,
        })),
    })),
    recipients,
    configuredCapture: { input: config.capture.input, output: config.capture.output },
  };
}

const days = (n: number | null): string => (n === null ? 'kept until erased' : `${formatCount(n)} days`);
const list = (values: readonly string[]): string => (values.length === 0 ? '—' : values.join(', '));

function sections(
  record: ProcessingRecord,
): { title: string; rows: [string, string][]; table?: string[][] }[] {
  const out: { title: string; rows: [string, string][]; table?: string[][] }[] = [];
  for (const a of record.activities) {
    out.push({
      title: `Processing activity: decisions of model ${a.model}`,
      rows: [
        ['purposes (audit.decision.purpose)', list(a.purposes)],
        ['versions', list(a.versions)],
        ['services', list(a.services)],
        ['kind of decision', list(a.decisionTypes)],
        ['human involvement', list(a.automation)],
        ['risk level', list(a.riskLevels)],
        [
          'decisions recorded',
          `${formatCount(a.decisions)} (${formatTime(a.firstDecision)} to ${formatTime(a.lastDecision)})`,
        ],
        [
          'retention',
          a.retention
            .map((r) => `${r.recordClass}: ${days(r.days)} (${formatCount(r.decisions)} decisions)`)
            .join('; '),
        ],
      ],
      table: [
        ['category of data', 'how it is recorded', 'decisions'],
        ...a.dataCategories.map((c) => [c.category, c.recorded, formatCount(c.decisions)]),
      ],
    });
  }
  out.push({
    title: 'Recipients of the records',
    rows: record.recipients.map((r) => [r.recipient, r.receives]),
  });
  return out;
}

/** The record as Markdown. */
export function renderProcessingRecordMarkdown(record: ProcessingRecord): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '# Record of processing activities (GDPR Art. 30)',
    '',
    `Generated ${formatTime(record.generatedAt)} by decisiontrail from decisiontrail.yaml and the audit store` +
      `${record.period.from === null ? '' : `, decisions from ${formatTime(record.period.from)}`} to ${formatTime(record.period.to)}.`,
    '',
  ];
  for (const s of sections(record)) {
    lines.push(
      `## ${s.title}`,
      '',
      '| | |',
      '| --- | --- |',
      ...s.rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`),
      '',
    );
    if (s.table !== undefined) {
      const [head, ...rows] = s.table;
      lines.push(`| ${head!.map(cell).join(' | ')} |`, `| ${head!.map(() => '---').join(' | ')} |`);
      lines.push(...rows.map((r) => `| ${r.map(cell).join(' | ')} |`), '');
    }
  }
  lines.push('## To be completed by the controller', '', ...record.toComplete.map((t) => `- ${t}`), '');
  return lines.join('\n');
}

/** The record as one self-contained HTML page (no scripts, no external resources). */
export function renderProcessingRecordHtml(record: ProcessingRecord): string {
  const e = escapeXml;
  const body = sections(record)
    .map(
      (s) =>
        `<h2>${e(s.title)}</h2><table>${s.rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</table>` +
        (s.table === undefined
          ? ''
          : `<table><thead><tr>${s.table[0]!.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${s.table
              .slice(1)
              .map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`)
              .join('')}</tbody></table>`),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="decisiontrail">
<title>Record of processing activities (GDPR Art. 30)</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:0 auto;padding:32px}table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #d5dae0;vertical-align:top}th{background:#f5f7f9}</style>
</head>
<body>
<h1>Record of processing activities (GDPR Art. 30)</h1>
<p>Generated ${e(formatTime(record.generatedAt))} by decisiontrail from decisiontrail.yaml and the audit store.</p>
${body}
<h2>To be completed by the controller</h2>
<ul>${record.toComplete.map((t) => `<li>${e(t)}</li>`).join('')}</ul>
</body>
</html>
`;
}
