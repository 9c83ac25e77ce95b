import { ATTR_AUDIT_CHECKPOINT_NOTE } from '@decisiontrail/semconv';
import { COMMITTED_RESOURCE_PREFIX, EXCLUDED_ATTRIBUTE_PREFIXES, leafHash } from './canonical-span.ts';
import { proveSpanInCheckpoint } from './checkpoint-inclusion.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { SigningError } from './errors.ts';
import { inclusionProof, verifyInclusion } from './merkle-tree.ts';
import {
  isCheckpointRecord,
  leafEntry,
  seqOf,
  streamOf,
  validateCheckpointNote,
  type ValidCheckpoint,
} from './record-classifier.ts';
import { openNote, parseVerifierKey } from './signed-note.ts';
import type { SpanRecord } from './span-record.ts';
import { resolveTrustedKeys, type TrustedKey } from './trusted-keys.ts';
import { authenticateStream } from './verify-spans.ts';

/** Format tag of {@link ProofBundle}. */
export const PROOF_BUNDLE_FORMAT = 'decisiontrail-proof-bundle/v1';

/**
 * Everything needed to show, offline, that one span is in a signed log: the span (as committed:
 * without `audit.integrity.*`/`audit.completeness.*` attributes and non-`service.*` resource
 * attributes, so every byte of it counts), its leaf index, the RFC 9162 inclusion path, the signed
 * checkpoint and the signer's verifier key.
 */
export interface ProofBundle {
  format: typeof PROOF_BUNDLE_FORMAT;
  span: SpanRecord;
  leafIndex: number;
  /** Lowercase hex hashes, leaf to root. */
  inclusionPath: string[];
  /** The signed checkpoint note. */
  checkpoint: string;
  /** Signed-note verifier key string of the checkpoint's signer. */
  publicKey: string;
}

/** Result of {@link verifyProofBundle}. */
export type ProofBundleVerification =
  | { ok: true; origin: string; leafIndex: number; treeSize: number; spanId: string }
  | { ok: false; reason: string };

/**
 * Builds a proof bundle for the span `spanId` from stored records (the span's stream and its
 * checkpoint spans). Uses the smallest valid checkpoint that covers the span. Throws
 * `BUNDLE_INVALID` if the span is absent, not verified, or covered by no valid checkpoint.
 */
export function createProofBundle(
  records: readonly SpanRecord[],
  spanId: string,
  options: { publicKeys: readonly TrustedKey[]; witnessCheckpoints?: readonly string[] },
): ProofBundle {
  const keys = resolveTrustedKeys(options.publicKeys);
  const target = records.find((record) => record.spanId === spanId && !isCheckpointRecord(record));
  const stream = target && streamOf(target);
  const seq = target && seqOf(target);
  if (!target || stream === undefined || seq === undefined) {
    throw new SigningError('BUNDLE_INVALID', `span ${spanId} is not a signed span among the records`);
  }
  const leaves = records
    .filter((record) => !isCheckpointRecord(record) && streamOf(record) === stream)
    .flatMap((record) => {
      const recordSeq = seqOf(record);
      return recordSeq === undefined ? [] : [leafEntry(record, stream, recordSeq)];
    });
  const checkpointRecords = records.filter(
    (record) => isCheckpointRecord(record) && streamOf(record) === stream,
  );
  const witness = (options.witnessCheckpoints ?? []).flatMap((note) => {
    const result = validateCheckpointNote(note, keys, { stream });
    return 'code' in result ? [] : [result];
  });
  const auth = authenticateStream(stream, leaves, checkpointRecords, witness, keys);
  // leafEntry, not leafHash: a target with an unknown kind or status is simply not verified.
  const { leaf } = leafEntry(target, stream, seq);
  if (seq >= auth.authentic.length || auth.authentic[seq] !== leaf) {
    throw new SigningError('BUNDLE_INVALID', `span ${spanId} is not verified against a signed checkpoint`);
  }
  const checkpoint = auth.checkpoints.find(
    (candidate: ValidCheckpoint) => candidate.size > seq && candidate.size <= auth.authentic.length,
  ) as ValidCheckpoint;
  const key = keys.find((candidate) => candidate.keyId === checkpoint.keyId);
  if (!key) throw new SigningError('BUNDLE_INVALID', 'the checkpoint key is not among the trusted keys');
  const path = inclusionProof(
    auth.authentic.slice(0, checkpoint.size).map((hex) => Buffer.from(hex, 'hex')),
    seq,
  );
  return {
    format: PROOF_BUNDLE_FORMAT,
    span: committedSpan(target),
    leafIndex: seq,
    inclusionPath: path.map((hash) => Buffer.from(hash).toString('hex')),
    checkpoint: checkpoint.note,
    publicKey: key.vkey,
  };
}

/**
 * Builds a proof bundle for one stored span from the one checkpoint span that adds its leaf (see
 * {@link proveSpanInCheckpoint}: the inclusion path comes from the checkpoint's compact range and
 * leaves, so no other leaf of the stream is read). Throws `BUNDLE_INVALID` with the reason when the
 * checkpoint does not prove the span under a trusted key.
 */
export function proofBundleFromCheckpoint(
  span: SpanRecord,
  checkpoint: SpanRecord,
  trustedKeys: readonly TrustedKey[],
): ProofBundle {
  const keys = resolveTrustedKeys(trustedKeys);
  const result = proveSpanInCheckpoint(span, checkpoint, keys);
  if (result.status !== 'verified') {
    const reason =
      result.status === 'untrusted'
        ? `its checkpoint is signed by key ${result.keyId}, which is not trusted`
        : result.reason;
    throw new SigningError('BUNDLE_INVALID', `span ${span.spanId} is not proven: ${reason}`);
  }
  const key = keys.find((candidate) => candidate.keyId === result.keyId);
  if (!key) throw new SigningError('BUNDLE_INVALID', 'the checkpoint key is not among the trusted keys');
  return {
    format: PROOF_BUNDLE_FORMAT,
    span: committedSpan(span),
    leafIndex: result.seq,
    inclusionPath: result.proof,
    checkpoint: checkpoint.attributes[ATTR_AUDIT_CHECKPOINT_NOTE] ?? '',
    publicKey: key.vkey,
  };
}

/** The span as the leaf commits to it: excluded attributes and non-service resource attributes removed. */
function committedSpan(record: SpanRecord): SpanRecord {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(record.attributes)) {
    if (!EXCLUDED_ATTRIBUTE_PREFIXES.some((prefix) => key.startsWith(prefix))) attributes[key] = value;
  }
  const resourceAttributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(record.resourceAttributes)) {
    if (key.startsWith(COMMITTED_RESOURCE_PREFIX)) resourceAttributes[key] = value;
  }
  return { ...record, attributes, resourceAttributes };
}

/**
 * Verifies a proof bundle offline: its verifier key must be one of `trustedKeys`, the checkpoint
 * must be signed by it, and the span's leaf must be included at `leafIndex` under the signed root.
 * Accepts the bundle object or its JSON text; never throws.
 */
export function verifyProofBundle(
  bundle: unknown,
  trustedKeys: readonly TrustedKey[],
): ProofBundleVerification {
  try {
    const parsed: unknown = typeof bundle === 'string' ? JSON.parse(bundle) : bundle;
    const checked = checkBundleShape(parsed);
    const trusted = resolveTrustedKeys(trustedKeys);
    const key = parseVerifierKey(checked.publicKey);
    const trustedKey = trusted.find(
      (candidate) => candidate.vkey === key.vkey && key.vkey === checked.publicKey,
    );
    if (!trustedKey) return { ok: false, reason: 'the bundle key is not a trusted key' };
    const { text } = openNote(checked.checkpoint, [trustedKey]);
    const checkpoint = parseCheckpoint(text);
    const leaf = leafHash(checked.span);
    const path = checked.inclusionPath.map((hex) => Buffer.from(hex, 'hex'));
    if (!verifyInclusion(leaf, checked.leafIndex, checkpoint.size, path, checkpoint.rootHash)) {
      return { ok: false, reason: 'the span is not included under the signed root at that index' };
    }
    return {
      ok: true,
      origin: checkpoint.origin,
      leafIndex: checked.leafIndex,
      treeSize: checkpoint.size,
      spanId: checked.span.spanId,
    };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

const HEX_HASH = /^[0-9a-f]{64}$/u;
const BUNDLE_KEYS = ['checkpoint', 'format', 'inclusionPath', 'leafIndex', 'publicKey', 'span'];
const SPAN_STRING_KEYS = [
  'traceId',
  'spanId',
  'parentSpanId',
  'traceState',
  'name',
  'kind',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'statusCode',
  'statusMessage',
  'scopeName',
  'scopeVersion',
];
const SPAN_KEYS = [...SPAN_STRING_KEYS, 'attributes', 'resourceAttributes', 'events', 'links'].sort();

function fail(message: string): never {
  throw new SigningError('BUNDLE_INVALID', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exactKeys(value: Record<string, unknown>, keys: readonly string[], what: string): void {
  const actual = Object.keys(value).sort();
  if (actual.length !== keys.length || actual.some((key, i) => key !== [...keys].sort()[i])) {
    fail(`${what} has unexpected or missing fields`);
  }
}

function stringMap(value: unknown, what: string): Record<string, string> {
  if (!isObject(value) || Object.values(value).some((item) => typeof item !== 'string'))
    fail(`${what} must map strings`);
  return value as Record<string, string>;
}

/** Strict structural check, so that no byte of a bundle can change without failing verification. */
function checkBundleShape(value: unknown): ProofBundle {
  if (!isObject(value)) fail('bundle is not an object');
  exactKeys(value, BUNDLE_KEYS, 'bundle');
  if (value.format !== PROOF_BUNDLE_FORMAT) fail('unsupported bundle format');
  if (typeof value.checkpoint !== 'string' || typeof value.publicKey !== 'string')
    fail('bad checkpoint or key');
  if (!Number.isSafeInteger(value.leafIndex) || (value.leafIndex as number) < 0) fail('bad leaf index');
  if (
    !Array.isArray(value.inclusionPath) ||
    value.inclusionPath.some((h) => typeof h !== 'string' || !HEX_HASH.test(h))
  ) {
    fail('inclusion path must be lowercase hex SHA-256 hashes');
  }
  const span = value.span;
  if (!isObject(span)) fail('span is not an object');
  exactKeys(span, SPAN_KEYS, 'span');
  for (const key of SPAN_STRING_KEYS) if (typeof span[key] !== 'string') fail(`span.${key} must be a string`);
  const attributes = stringMap(span.attributes, 'span.attributes');
  if (
    Object.keys(attributes).some((key) =>
      EXCLUDED_ATTRIBUTE_PREFIXES.some((prefix) => key.startsWith(prefix)),
    )
  ) {
    fail('span carries attributes the leaf does not commit to');
  }
  const resource = stringMap(span.resourceAttributes, 'span.resourceAttributes');
  if (Object.keys(resource).some((key) => !key.startsWith(COMMITTED_RESOURCE_PREFIX))) {
    fail('span carries resource attributes the leaf does not commit to');
  }
  if (!Array.isArray(span.events) || !Array.isArray(span.links)) fail('span events and links must be arrays');
  for (const event of span.events as unknown[]) {
    if (!isObject(event)) fail('bad event');
    exactKeys(event, ['attributes', 'name', 'timeUnixNano'], 'event');
    if (typeof event.name !== 'string' || typeof event.timeUnixNano !== 'string') fail('bad event');
    stringMap(event.attributes, 'event.attributes');
  }
  for (const link of span.links as unknown[]) {
    if (!isObject(link)) fail('bad link');
    exactKeys(link, ['attributes', 'spanId', 'traceId', 'traceState'], 'link');
    if (
      typeof link.traceId !== 'string' ||
      typeof link.spanId !== 'string' ||
      typeof link.traceState !== 'string'
    ) {
      fail('bad link');
    }
    stringMap(link.attributes, 'link.attributes');
  }
  return value as unknown as ProofBundle;
}
