import type { RecordKeeping } from '@decisiontrail/clickhouse';
import type { ReportDocument } from './report-document.ts';
import { formatCount, formatPercent } from './number-format.ts';

/** What the coverage and completeness figures rest on, as both formats print it under their table. */
const MEANING =
  'Coverage: of the decisions the producers counted (signed audit.count records of the signing exporter, read ' +
  'here without recomputing their leaves — `decisiontrail verify` checks them), those stored. Decisions no count ' +
  'covers (unsigned, from a producer that writes no counts, or after their stream’s last count record in the ' +
  'period) are not measured, and a version with none counted has no coverage figure. Completeness: of the ' +
  'stored decisions, those serve’s completeness check did not flag at ingest as lacking a required attribute ' +
  '(audit.completeness.missing); decisions that reached the store another way were not checked.';

/** The report's record-keeping section from the store's figures, for the versions the report shows. */
export function reportRecordKeeping(figures: RecordKeeping): ReportDocument['recordKeeping'] {
  return {
    targets: { ...figures.targets },
    versions: figures.models.map((m) => ({
      version: m.modelVersion,
      decisions: m.decisions,
      coverage: m.coverage.ratio,
      counted: m.coverage.counted,
      storedOfCounted: m.coverage.stored,
      notMeasured: m.coverage.notMeasured,
      streams: m.coverage.streams,
      inconsistentStreams: m.coverage.inconsistentStreams,
      completeness: m.completeness.ratio,
      incomplete: m.completeness.incomplete,
      missing: Object.entries(m.completeness.missing).map(([attribute, decisions]) => ({
        attribute,
        decisions,
      })),
    })),
    meaning: MEANING,
  };
}

/** `80.6% — below the 100.0% target`, `100.0% — meets the 100.0% target`, or `not measured`. */
function figureText(value: number | null, meets: (value: number) => boolean, targetText: string): string {
  if (value === null) return 'not measured';
  return `${formatPercent(value)} — ${meets(value) ? 'meets' : 'below'} the ${targetText} target`;
}

/** The cells of one version's row in the record-keeping table (both formats). */
export function recordKeepingRow(
  v: ReportDocument['recordKeeping']['versions'][number],
  targets: ReportDocument['recordKeeping']['targets'],
): string[] {
  const inconsistent =
    v.inconsistentStreams === 0
      ? ''
      : `; ${formatCount(v.inconsistentStreams)} stream(s) with contradicting counts`;
  return [
    v.version,
    formatCount(v.decisions),
    figureText(v.coverage, (x) => x >= targets.coverage, formatPercent(targets.coverage)),
    v.counted === 0 ? '—' : `${formatCount(v.storedOfCounted)} of ${formatCount(v.counted)}`,
    `${formatCount(v.notMeasured)}${inconsistent}`,
    figureText(v.completeness, (x) => x > targets.completeness, `> ${formatPercent(targets.completeness)}`),
    formatCount(v.incomplete),
  ];
}
