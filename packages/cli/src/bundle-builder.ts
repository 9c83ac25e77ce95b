import type { TimelineEntry as StoreTimelineEntry } from '@decisiontrail/clickhouse';
import type { NoteVerifierKey } from '@decisiontrail/core';
import { bundleCosignatures } from './bundle-cosignatures.ts';
import { proveTimelineSpans } from './bundle-proofs.ts';
import { INVESTIGATION_BUNDLE_FORMAT, type InvestigationBundle } from './investigation-bundle.ts';
import type { TimelineDocument } from './render/timeline-document.ts';
import type { AuditQueries } from './store/audit-backend.ts';

/**
 * An investigation bundle of timelines: every span they show proven under a signed checkpoint (or listed as
 * unproven with the reason), the checkpoints, the trusted keys and the witnesses' stored cosignatures. What
 * `export` and `subject --out` write and `verify-bundle` checks.
 */
export async function buildInvestigationBundle(
  queries: AuditQueries,
  target: InvestigationBundle['target'],
  timelines: readonly { document: TimelineDocument; rows: readonly StoreTimelineEntry[] }[],
  keys: readonly NoteVerifierKey[],
  witnessCheckpoints: readonly string[],
): Promise<InvestigationBundle> {
  const { proofs, unproven } = await proveTimelineSpans(
    queries,
    timelines.flatMap((t) => t.rows),
    keys,
    witnessCheckpoints,
  );
  const checkpoints = [...new Set(proofs.map((p) => p.checkpoint))];
  return {
    format: INVESTIGATION_BUNDLE_FORMAT,
    createdAt: new Date().toISOString(),
    target,
    timelines: timelines.map((t) => t.document),
    proofs,
    unproven,
    checkpoints,
    publicKeys: keys.map((key) => key.vkey),
    cosignatures: await bundleCosignatures(queries, checkpoints),
  };
}
