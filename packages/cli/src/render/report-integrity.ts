import type { IntegrityCoverage } from '@decisiontrail/clickhouse';
import type { NoteVerifierKey } from '@decisiontrail/core';
import { validateCheckpointNote } from '@decisiontrail/core/internal';
import type { ReportDocument } from './report-document.ts';
import { formatCount } from './number-format.ts';

/**
 * The tree size a stream's newest stored checkpoint (one coverage row: per stream and signing key) proves, when a
 * trusted key signed it — signature, origin naming the stream, and the size the row claims all checked — else
 * null. The one rule for "sealed" of the report and of `decisiontrail decisions`.
 */
export function trustedCheckpointSize(
  row: IntegrityCoverage['streams'][number],
  keys: readonly NoteVerifierKey[],
): number | null {
  if (row.stream === '' || row.note === '' || keys.length === 0) return null;
  const checked = validateCheckpointNote(row.note, keys, { stream: row.stream });
  return !('code' in checked) && checked.size === row.treeSize ? row.treeSize : null;
}

/** Per stream, the largest size a trusted checkpoint of {@link trustedCheckpointSize} proves. */
export function trustedSealedSizes(
  coverage: IntegrityCoverage,
  keys: readonly NoteVerifierKey[],
): { stream: string; size: number }[] {
  const sizes = new Map<string, number>();
  for (const row of coverage.streams) {
    const size = trustedCheckpointSize(row, keys);
    if (size !== null) sizes.set(row.stream, Math.max(size, sizes.get(row.stream) ?? 0));
  }
  return [...sizes].map(([stream, size]) => ({ stream, size }));
}

/**
 * The report's integrity headline from the store's per-stream coverage: each stream's checkpoints
 * are checked here against the trusted keys (signature, origin naming the stream, the size the row
 * claims), and a decision counts as sealed when its leaf index is below the size of such a
 * checkpoint. The report does not recompute leaves (that is reading every span of every stream:
 * `verify`'s work), so it never calls these decisions verified.
 */
export function reportIntegrity(
  coverage: IntegrityCoverage,
  keys: readonly NoteVerifierKey[],
  reportedDecisions: number,
): ReportDocument['integrity'] {
  const perStream = new Map<string, { decisions: number; sealed: number; trusted: boolean }>();
  for (const row of coverage.streams) {
    const entry = perStream.get(row.stream) ?? { decisions: row.decisions, sealed: 0, trusted: false };
    if (trustedCheckpointSize(row, keys) !== null) {
      entry.trusted = true;
      entry.sealed = Math.max(entry.sealed, row.covered);
    }
    perStream.set(row.stream, entry);
  }
  const counts = { sealed: 0, unsealed: 0, untrusted: 0, unsigned: 0, unchecked: 0 };
  for (const [stream, entry] of perStream) {
    if (stream === '') counts.unsigned += entry.decisions;
    else if (keys.length === 0) counts.unchecked += entry.decisions;
    else if (!entry.trusted) counts.untrusted += entry.decisions;
    else {
      counts.sealed += entry.sealed;
      counts.unsealed += entry.decisions - entry.sealed;
    }
  }
  const differs =
    reportedDecisions === coverage.decisions
      ? ''
      : ` The report's totals count ${formatCount(reportedDecisions)} decision(s); audit_decisions holds ${formatCount(coverage.decisions)} distinct ones in the period: run decisiontrail verify.`;
  return {
    decisions: coverage.decisions,
    ...counts,
    streams: [...perStream.keys()].filter((s) => s !== '').length,
    trustedKeys: keys.length,
    meaning:
      (keys.length === 0
        ? 'No trusted public key is configured, so no checkpoint was checked. '
        : 'Sealed: the decision’s leaf index is below the size of a checkpoint of its stream that a trusted key signed. ' +
          'The report does not recompute leaves from the stored spans, so sealed is not verified: run decisiontrail verify. ') +
      'Counts come from the stream and leaf index audit_decisions records for each decision.' +
      differs,
  };
}

/** The headline sentence, shared by the Markdown and HTML reports. */
export function integrityHeadline(integrity: ReportDocument['integrity']): string {
  const parts = [
    `${formatCount(integrity.sealed)} sealed by a checkpoint signed by a trusted key (leaves not rechecked here)`,
    `${formatCount(integrity.unsealed)} after the last trusted checkpoint of their stream`,
    `${formatCount(integrity.untrusted)} from streams no trusted key signed`,
    `${formatCount(integrity.unsigned)} unsigned (no integrity stream)`,
  ];
  if (integrity.unchecked > 0) parts.push(`${formatCount(integrity.unchecked)} not checked (no trusted key)`);
  return `Integrity of the ${formatCount(integrity.decisions)} decision(s): ${parts.join(', ')}.`;
}
