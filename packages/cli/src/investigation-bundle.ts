import type { ProofBundle } from '@decisiontrail/core';
import type { TimelineDocument } from './render/timeline-document.ts';

/** Format tag of {@link InvestigationBundle}. */
export const INVESTIGATION_BUNDLE_FORMAT = 'decisiontrail-investigation-bundle/v1';

/**
 * What `decisiontrail export` writes and `verify-bundle` checks. The proofs are the evidence: each carries its span
 * as committed, its inclusion path, the signed checkpoint and the signer's key. The timelines are the readable
 * view; verify-bundle checks that every span a timeline names is one of the proven spans with the same times.
 */
export interface InvestigationBundle {
  format: typeof INVESTIGATION_BUNDLE_FORMAT;
  createdAt: string;
  target: { kind: 'decision' | 'trace' | 'incident'; id: string };
  timelines: TimelineDocument[];
  proofs: ProofBundle[];
  /** Spans of the timelines that could not be proven (unsigned, or not yet under a checkpoint). */
  unproven: { spanId: string; reason: string }[];
  /** Distinct signed checkpoint notes the proofs rest on. */
  checkpoints: string[];
  /** Verifier keys the exporter trusted. verify-bundle trusts only the keys it is given. */
  publicKeys: string[];
}
