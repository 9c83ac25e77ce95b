import type { TerminalOutput } from '../terminal-output.ts';
import { PROVENANCE_NAMES, provenanceText } from './decision-provenance.ts';
import { formatConfidence, formatTime, formatTimeMs } from './number-format.ts';
import type {
  IntegrityStatus,
  TimelineDecision,
  TimelineDocument,
  TimelineEntry,
} from './timeline-document.ts';

const KIND_LABEL: Record<TimelineEntry['kind'], string> = {
  span: 'span',
  decision: 'DECISION',
  oversight: 'oversight',
  feedback: 'feedback',
  action: 'action',
  deployment: 'deployment',
  incident: 'INCIDENT',
  checkpoint: 'checkpoint',
};

function styleFor(entry: TimelineEntry): 'bold' | 'yellow' | 'cyan' | 'red' | 'dim' | undefined {
  if (entry.status === 'error' || entry.kind === 'incident') return 'red';
  if (entry.kind === 'decision') return 'bold';
  if (entry.kind === 'oversight') return 'yellow';
  if (entry.kind === 'deployment') return 'cyan';
  if (entry.kind === 'checkpoint') return 'dim';
  return undefined;
}

function statusStyleOf(status: IntegrityStatus): 'green' | 'red' | 'yellow' {
  return status === 'verified' ? 'green' : status === 'failed' ? 'red' : 'yellow';
}

/** What the decision lacks of what its convention requires, and whether serve flagged the same at ingest. */
export function completenessText(completeness: TimelineDecision['completeness']): string {
  if (completeness === null) return 'not checked (its span was not read: --no-verify)';
  const { missing, flaggedAtIngest: flagged } = completeness;
  const head =
    missing.length === 0
      ? 'complete: every attribute its convention requires is present'
      : `missing ${missing.join(', ')}`;
  if (flagged === null) return missing.length === 0 ? head : `${head} (not flagged at ingest)`;
  const same = flagged.length === missing.length && flagged.every((key) => missing.includes(key));
  return same ? `${head} (flagged at ingest)` : `${head}; flagged at ingest: ${flagged.join(', ')}`;
}

/** The provenance facts that were recorded, one `name: value` each; what was not, named once at the end. */
export function provenanceSummary(provenance: TimelineDecision['provenance']): string {
  if (provenance === null) return 'not read (its span was not read: --no-verify)';
  const recorded: string[] = [];
  const absent: string[] = [];
  for (const key of Object.keys(PROVENANCE_NAMES) as (keyof typeof PROVENANCE_NAMES)[]) {
    const fact = provenance[key];
    const name = PROVENANCE_NAMES[key].replace(/^the /, '');
    if (fact === null) absent.push(name);
    else recorded.push(`${name}: ${provenanceText(fact)}`);
  }
  if (absent.length > 0) recorded.push(`not recorded: ${absent.join(', ')}`);
  return recorded.join(' · ');
}

/** Renders a timeline for a terminal: the decision summary, then one line per event with its facts indented. */
export function renderTimelineText(doc: TimelineDocument, out: TerminalOutput): string {
  const lines: string[] = [];
  const d = doc.decision;
  if (d !== null) {
    lines.push(out.style('bold', `Decision ${d.id}`));
    const facts: [string, string][] = [
      ['time', formatTime(d.time)],
      ['model', `${d.modelId} ${d.modelVersion}`.trim()],
      [
        'outcome',
        d.finalOutcome !== null && d.finalOutcome !== d.outcome
          ? `${d.outcome} → ${d.finalOutcome} (overridden)`
          : d.outcome || '—',
      ],
      ['confidence', formatConfidence(d.confidence)],
      ['risk level', d.riskLevel || '—'],
      ['purpose', d.purpose || '—'],
      ['subject', d.subjectId || '—'],
      ['actor', d.actorId || '—'],
      ['service', d.service || '—'],
      ['trace', d.traceId],
      ['input hash', d.inputHash || '—'],
      ['output hash', d.outputHash || '—'],
      ['completeness', completenessText(d.completeness)],
    ];
    for (const [label, value] of facts) lines.push(`  ${label.padEnd(12)} ${value}`);
    lines.push(`  ${'provenance'.padEnd(12)} ${provenanceSummary(d.provenance)}`);
  } else {
    lines.push(out.style('bold', `Trace ${doc.query.id}`));
  }
  const status = doc.verification.status;
  lines.push(
    `  ${'integrity'.padEnd(12)} ${out.style(statusStyleOf(status), status)}: ${doc.verification.detail}`,
  );
  lines.push('', out.style('bold', 'Timeline'));
  for (const entry of doc.entries) {
    const duration =
      entry.durationMs === null ? '' : ` (${entry.durationMs.toFixed(entry.durationMs < 10 ? 2 : 0)} ms)`;
    const status = entry.status === 'error' ? ' ERROR' : '';
    const head = `${formatTimeMs(entry.time)}  ${KIND_LABEL[entry.kind].padEnd(10)} ${entry.title}${duration}${status}`;
    const style = styleFor(entry);
    lines.push(style === undefined ? head : out.style(style, head));
    if (entry.details.length > 0) {
      lines.push(
        `${' '.repeat(33)}${entry.details.map((detail) => `${detail.label}: ${detail.value}`).join(' · ')}`,
      );
    }
    if (entry.integrity !== undefined) {
      const { status: entryStatus, check, detail } = entry.integrity;
      const text =
        entryStatus === 'verified'
          ? 'integrity: verified'
          : `integrity: ${entryStatus} (${check}): ${detail}`;
      lines.push(`${' '.repeat(33)}${out.style(statusStyleOf(entryStatus), text)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
