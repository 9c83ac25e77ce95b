import type { StoredCosignature, WitnessEvidence } from '@decisiontrail/clickhouse';
import {
  StreamSigner,
  exportPublicKey,
  generateSigningKey,
  hashLeafData,
  noteText,
  parseCheckpoint,
  parseVerifierKey,
} from '@decisiontrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWitness, type TestWitness } from '../../../core/test/support/test-witness.ts';
import { checkIndependentWitnesses } from '@decisiontrail/cli/internal';

// While serve runs, the store grows between verify's read of each stream's newest checkpoint and its questions to
// the witnesses: a size the store reached in the meantime is not a cut. `storedCheckpoint` is the store as it is
// when asked (here: the checkpoints signed so far), the evidence what verify read before.

const key = generateSigningKey();
const signer = new StreamSigner({ key, streamId: 'live' });
const notes = new Map<number, string>();
let witness: TestWitness;

beforeAll(async () => {
  for (let i = 0; i < 12; i++) {
    signer.append(hashLeafData(Buffer.from(`leaf ${i}`)));
    if ((i + 1) % 4 === 0) notes.set(i + 1, signer.checkpoint()!.note);
  }
  witness = await startTestWitness({
    name: 'witness.test/live',
    logKeys: [parseVerifierKey(exportPublicKey(key).vkey)],
    origins: [signer.origin],
  });
  const twelve = parseCheckpoint(noteText(notes.get(12)!));
  witness.logs.set(signer.origin, { size: 12, root: twelve.rootHash });
});
afterAll(() => witness?.close());

const config = () => ({
  list: [{ name: witness.cosigner.name, url: witness.url, key: witness.cosigner.vkey }],
  quorum: 1,
  intervalMs: 5000,
  timeoutMs: 10_000,
  retryMaxMs: 300_000,
});

function cosignature(size: number): StoredCosignature {
  const checkpoint = parseCheckpoint(noteText(notes.get(size)!));
  return {
    stream: 'live',
    treeSize: size,
    origin: signer.origin,
    root: Buffer.from(checkpoint.rootHash).toString('base64'),
    witness: witness.cosigner.name,
    keyId: witness.cosigner.key.keyId,
    cosignedAt: 1_800_000_000,
    line: witness.cosigner.cosign(noteText(notes.get(size)!)),
  };
}

/** The store now: every checkpoint up to `size`. */
const storeUpTo = (size: number) => ({
  storedCheckpoint: (stream: string, at: number) =>
    Promise.resolve(stream === 'live' && at <= size ? notes.get(at) : undefined),
});

const head8: WitnessEvidence['heads'][number] = {
  stream: 'live',
  origin: signer.origin,
  treeSize: 8,
  note: '',
};

describe('checkIndependentWitnesses while the store grows', () => {
  it('a witness ahead of the head read is a cut only if the store still lacks that size', async () => {
    const evidence: WitnessEvidence = { heads: [{ ...head8, note: notes.get(8)! }], cosignatures: [] };
    const grown = await checkIndependentWitnesses(config(), evidence, storeUpTo(12));
    expect(grown.findings.map((f) => f.code)).not.toContain('truncated');
    expect(grown.findings).toContainEqual(
      expect.objectContaining({
        code: 'not-cosigned',
        size: 12,
        message: expect.stringContaining('which the store reached while verify ran'),
      }),
    );
    const cut = await checkIndependentWitnesses(config(), evidence, storeUpTo(8));
    expect(cut.findings).toContainEqual(
      expect.objectContaining({ code: 'truncated', stream: 'live', size: 12 }),
    );
  });

  it('a stored cosignature past the head read is a cut only if the store still lacks that size', async () => {
    const evidence: WitnessEvidence = {
      heads: [{ ...head8, note: notes.get(8)! }],
      cosignatures: [cosignature(12)],
    };
    const grown = await checkIndependentWitnesses(config(), evidence, storeUpTo(12));
    expect(grown.findings.filter((f) => f.code === 'truncated')).toEqual([]);
    const cut = await checkIndependentWitnesses(config(), evidence, storeUpTo(8));
    expect(cut.findings.filter((f) => f.code === 'truncated').map((f) => f.message)).toContain(
      "stream live: independent witnesses cosigned size 12 (stored cosignatures), but the store's newest checkpoint is size 8",
    );
  });

  it('a stream with cosignatures and no head read is removed only if the store still has none of it', async () => {
    const evidence: WitnessEvidence = { heads: [], cosignatures: [cosignature(4)] };
    const arrived = await checkIndependentWitnesses(config(), evidence, storeUpTo(4));
    expect(arrived.findings).toEqual([]);
    const removed = await checkIndependentWitnesses(config(), evidence, storeUpTo(0));
    expect(removed.findings).toEqual([
      expect.objectContaining({
        code: 'truncated',
        stream: 'live',
        size: 4,
        message: expect.stringContaining(
          'the store holds no checkpoint of this stream: the stream was removed',
        ),
      }),
    ]);
  });
});
