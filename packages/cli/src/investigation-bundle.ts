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
  target: { kind: 'decision' | 'trace' | 'incident' | 'subject'; id: string };
  /**
   * For a data subject's bundle (`decisiontrail subject --out`, GDPR Art. 15): the recorded content of each of the
   * subject's records, decrypted with the keys held when it was written. The proofs cover what was signed — the
   * ciphertext —, not this decryption.
   */
  content?: SubjectContent[];
  timelines: TimelineDocument[];
  proofs: ProofBundle[];
  /** Spans of the timelines that could not be proven (unsigned, or not yet under a checkpoint). */
  unproven: { spanId: string; reason: string }[];
  /** Distinct signed checkpoint notes the proofs rest on. */
  checkpoints: string[];
  /** Verifier keys the exporter trusted. verify-bundle trusts only the keys it is given. */
  publicKeys: string[];
  /**
   * Independent witnesses' cosignatures (C2SP tlog-cosignature) that vouch for the checkpoints, as serve stored
   * them; verify-bundle checks them against the witness keys it is given. Absent in bundles written before.
   */
  cosignatures?: BundleCosignature[];
}

/** The recorded content of one field of one of a subject's records, as `decisiontrail subject` reads it. */
export interface SubjectContent {
  decisionId: string;
  spanId: string;
  field: 'input' | 'output';
  /** How the content was recorded: plaintext (full capture), encrypted, or only as a keyed hash. */
  recorded: 'plaintext' | 'encrypted' | 'hash';
  /** The content, when it is readable: plaintext, or decrypted with the subject's key. */
  text: string | null;
  /** Why the content is not readable (its key erased, only a hash kept), else null. */
  unreadable: string | null;
}

/**
 * Cosignatures that vouch for one of a bundle's checkpoints: lines over that checkpoint itself, or over a later
 * checkpoint of its stream with the RFC 9162 consistency proof that the later tree extends it (serve submits a
 * stream's newest checkpoint, so the one a span is proven under is often not the one a witness saw).
 */
export interface BundleCosignature {
  /** The bundle checkpoint (one of `checkpoints`, its signed note) these cosignatures vouch for. */
  checkpoint: string;
  /** The signed note the witnesses cosigned: `checkpoint` itself, or a later checkpoint of the same stream. */
  cosigned: string;
  /** Lowercase hex consistency proof from `checkpoint` to `cosigned`; empty when they are one. */
  consistency: string[];
  /** The witnesses' signature lines over the body of `cosigned`. */
  lines: string[];
}
