import { describe, expect, it } from 'vitest';
import { ATTR_AUDIT_CHECKPOINT_RANGE, ATTR_AUDIT_DECISION_OUTCOME } from '@decisiontrail/semconv';
import {
  CompactMerkleTree,
  StreamSigner,
  generateSigningKey,
  hashLeafData,
  inclusionProof,
  inclusionProofFromRange,
  proofBundleFromCheckpoint,
  proveSpanInCheckpoint,
  verifyProofBundle,
  type SpanRecord,
} from '@decisiontrail/core';
import { isCheckpointRecord } from '@decisiontrail/core/internal';
import { makeSpans, signInBatches } from '../support/signed-stream.ts';
import { pick, prng } from '../../../core/test/support/prng.ts';

const toHex = (hashes: readonly Uint8Array[]): string[] => hashes.map((h) => Buffer.from(h).toString('hex'));

describe('inclusionProofFromRange', () => {
  it('equals the proof computed from every leaf, for 2,000 random sizes, ranges and leaves', () => {
    const random = prng(16);
    const leaves = Array.from({ length: 300 }, (_, i) => hashLeafData(Buffer.from(String(i))));
    for (let trial = 0; trial < 2000; trial++) {
      const size = 1 + pick(random, leaves.length);
      const rangeSize = pick(random, size);
      const index = rangeSize + pick(random, size - rangeSize);
      const tree = new CompactMerkleTree();
      for (const leaf of leaves.slice(0, rangeSize)) tree.append(leaf);
      const range = tree.toJSON().peaks.map((hex) => Buffer.from(hex, 'hex'));
      const fromRange = inclusionProofFromRange(range, rangeSize, leaves.slice(rangeSize, size), index);
      expect(toHex(fromRange), `size ${size} range ${rangeSize} index ${index}`).toEqual(
        toHex(inclusionProof(leaves.slice(0, size), index)),
      );
    }
  });

  it('refuses a leaf before the range end and a range of the wrong length', () => {
    const leaves = Array.from({ length: 8 }, (_, i) => hashLeafData(Buffer.from([i])));
    const tree = new CompactMerkleTree();
    for (const leaf of leaves.slice(0, 5)) tree.append(leaf);
    const range = tree.toJSON().peaks.map((hex) => Buffer.from(hex, 'hex'));
    expect(() => inclusionProofFromRange(range, 5, leaves.slice(5), 4)).toThrow(RangeError);
    expect(() => inclusionProofFromRange(range.slice(1), 5, leaves.slice(5), 6)).toThrow(RangeError);
  });
});

describe('StreamSigner compact range', () => {
  it('carries the range where each checkpoint’s leaves begin, also after resuming from state', () => {
    const key = generateSigningKey('test');
    const signer = new StreamSigner({ key });
    const all: Uint8Array[] = [];
    const append = (n: number, target: StreamSigner): void => {
      for (let i = 0; i < n; i++) {
        const leaf = hashLeafData(Buffer.from(`leaf ${all.length}`));
        all.push(leaf);
        target.append(leaf);
      }
    };
    append(3, signer);
    expect(toHex(signer.checkpoint()!.range!)).toEqual([]);
    append(6, signer);
    const resumed = new StreamSigner({ key, state: signer.toJSON() });
    append(2, resumed);
    const second = resumed.checkpoint()!;
    const prefix = new CompactMerkleTree();
    for (const leaf of all.slice(0, 3)) prefix.append(leaf);
    expect(toHex(second.range!)).toEqual(prefix.toJSON().peaks);
    expect(second.leaves).toHaveLength(8);
  });
});

describe('proveSpanInCheckpoint', () => {
  async function signedStream(): Promise<{
    records: SpanRecord[];
    key: ReturnType<typeof generateSigningKey>;
  }> {
    const key = generateSigningKey('test');
    const spans = await makeSpans(23);
    const { records } = await signInBatches(spans, { key, batchSize: 5 });
    return { records, key };
  }
  const checkpointFor = (records: SpanRecord[], seq: number): SpanRecord =>
    records.find(
      (r) => isCheckpointRecord(r) && Number(r.attributes['audit.checkpoint.size']) > seq,
    ) as SpanRecord;

  it('proves every leaf of a stream from its own checkpoint span alone', async () => {
    const { records, key } = await signedStream();
    const leaves = records.filter((r) => !isCheckpointRecord(r));
    for (const span of leaves) {
      const seq = Number(span.attributes['audit.integrity.seq']);
      const result = proveSpanInCheckpoint(span, checkpointFor(records, seq), [key.verifierKey]);
      expect(result, `seq ${seq}`).toMatchObject({ status: 'verified', seq });
    }
  });

  it('names the failed check: an edited row, a forged range, an untrusted key', async () => {
    const { records, key } = await signedStream();
    const span = records.find((r) => r.attributes['audit.integrity.seq'] === '7')!;
    const checkpoint = checkpointFor(records, 7);
    const edited = { ...span, attributes: { ...span.attributes, [ATTR_AUDIT_DECISION_OUTCOME]: 'reject' } };
    expect(proveSpanInCheckpoint(edited, checkpoint, [key.verifierKey])).toMatchObject({
      status: 'failed',
      check: 'leaf-mismatch',
    });
    const range = Buffer.from(checkpoint.attributes[ATTR_AUDIT_CHECKPOINT_RANGE]!, 'base64');
    range[0] = range[0]! ^ 1;
    const forged = {
      ...checkpoint,
      attributes: { ...checkpoint.attributes, [ATTR_AUDIT_CHECKPOINT_RANGE]: range.toString('base64') },
    };
    expect(proveSpanInCheckpoint(span, forged, [key.verifierKey])).toMatchObject({
      status: 'failed',
      check: 'inclusion',
    });
    const other = generateSigningKey('other');
    expect(proveSpanInCheckpoint(span, checkpoint, [other.verifierKey])).toMatchObject({
      status: 'untrusted',
      keyId: key.keyId,
    });
    const { [ATTR_AUDIT_CHECKPOINT_RANGE]: _range, ...withoutRange } = checkpoint.attributes;
    expect(
      proveSpanInCheckpoint(span, { ...checkpoint, attributes: withoutRange }, [key.verifierKey]),
    ).toMatchObject({ status: 'unproven' });
    const later = checkpointFor(records, 12);
    expect(proveSpanInCheckpoint(span, later, [key.verifierKey])).toMatchObject({ status: 'unproven' });
  });

  it('proves a checkpoint it validated before afresh whenever a byte it reads or a trusted key differs', async () => {
    const { records, key } = await signedStream();
    const span = records.find((r) => r.attributes['audit.integrity.seq'] === '7')!;
    const checkpoint = checkpointFor(records, 7);
    const trusted = [key.verifierKey];
    // Validated once, then the same checkpoint and keys again (remembered): the same result both times.
    expect(proveSpanInCheckpoint(span, checkpoint, trusted)).toMatchObject({ status: 'verified', seq: 7 });
    expect(proveSpanInCheckpoint(span, checkpoint, trusted)).toMatchObject({ status: 'verified', seq: 7 });
    const edit = (name: string, change: (value: string) => string): SpanRecord => ({
      ...checkpoint,
      attributes: { ...checkpoint.attributes, [name]: change(checkpoint.attributes[name]!) },
    });
    // The leaf list is not signed by the note: a list with leaf 7 changed must not prove from the remembered one.
    const leaves = Buffer.from(checkpoint.attributes['audit.checkpoint.leaves']!, 'base64');
    const from = Number(checkpoint.attributes['audit.checkpoint.size']) - leaves.length / 32;
    leaves[(7 - from) * 32] = leaves[(7 - from) * 32]! ^ 1;
    expect(
      proveSpanInCheckpoint(
        span,
        edit('audit.checkpoint.leaves', () => leaves.toString('base64')),
        trusted,
      ),
    ).toMatchObject({ status: 'failed', check: 'leaf-mismatch' });
    // A note with its signature altered, attributes that disagree with the note: validated again, and refused.
    const note = checkpoint.attributes['audit.checkpoint.note']!;
    // One character of the signature bytes (past the 4-byte key id at the start of the base64).
    const at = note.lastIndexOf(' ') + 40;
    const badSignature = note.slice(0, at) + (note[at] === 'A' ? 'B' : 'A') + note.slice(at + 1);
    expect(badSignature).not.toBe(note);
    expect(
      proveSpanInCheckpoint(
        span,
        edit('audit.checkpoint.note', () => badSignature),
        trusted,
      ),
    ).toMatchObject({
      status: 'failed',
      check: 'checkpoint',
    });
    expect(
      proveSpanInCheckpoint(
        span,
        edit('audit.checkpoint.root', (root) => `${root.slice(1)}A`),
        trusted,
      ),
    ).toMatchObject({ status: 'failed', check: 'checkpoint' });
    // Other trusted keys: the remembered verification under the signing key does not carry over.
    expect(proveSpanInCheckpoint(span, checkpoint, [generateSigningKey('test').verifierKey])).toMatchObject({
      status: 'untrusted',
    });
    // The span claims another stream: the checkpoint is checked for that stream, not taken from memory.
    const moved = { ...span, attributes: { ...span.attributes, 'audit.integrity.stream': 'another-stream' } };
    expect(proveSpanInCheckpoint(moved, checkpoint, trusted)).toMatchObject({
      status: 'failed',
      check: 'checkpoint',
    });
    // And the original still proves.
    expect(proveSpanInCheckpoint(span, checkpoint, trusted)).toMatchObject({ status: 'verified', seq: 7 });
  });

  it('makes proof bundles that verify offline, and refuses a checkpoint no trusted key signed', async () => {
    const { records, key } = await signedStream();
    for (const span of records.filter((r) => !isCheckpointRecord(r))) {
      const seq = Number(span.attributes['audit.integrity.seq']);
      const bundle = proofBundleFromCheckpoint(span, checkpointFor(records, seq), [key.verifierKey]);
      expect(verifyProofBundle(JSON.stringify(bundle), [key.verifierKey])).toMatchObject({
        ok: true,
        leafIndex: seq,
      });
    }
    const span = records.find((r) => r.attributes['audit.integrity.seq'] === '3')!;
    expect(() =>
      proofBundleFromCheckpoint(span, checkpointFor(records, 3), [generateSigningKey('other').verifierKey]),
    ).toThrow(/not trusted/);
  });
});
