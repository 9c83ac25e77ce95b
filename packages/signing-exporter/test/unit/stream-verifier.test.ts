import { beforeAll, describe, expect, it } from 'vitest';
import {
  StreamVerifier,
  generateSigningKey,
  type Finding,
  type SigningKey,
  type SpanRecord,
} from '@decisiontrail/core';
import { pick, prng } from '../../../core/test/support/prng.ts';
import { makeSpans, signInBatches } from '../support/signed-stream.ts';

const isCheckpoint = (record: SpanRecord): boolean => record.attributes['audit.record.type'] === 'checkpoint';

let key: SigningKey;
let records: SpanRecord[];
let stream: string;

beforeAll(async () => {
  key = generateSigningKey();
  const signed = await signInBatches(await makeSpans(40), { key, batchSize: 6 });
  records = signed.records;
  stream = signed.exporter.streamId;
});

function feed(verifier: StreamVerifier, record: SpanRecord): Finding[] {
  return isCheckpoint(record) ? verifier.addCheckpoint(record) : verifier.addSpan(record);
}

describe('StreamVerifier', () => {
  it('verifies spans arriving in any order, across JSON persistence, with no findings', () => {
    const random = prng(7);
    for (let round = 0; round < 20; round++) {
      const shuffled = [...records, ...records.slice(0, 5)];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = pick(random, i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      let verifier = new StreamVerifier(stream, { publicKeys: [key.verifierKey] });
      const findings: Finding[] = [];
      shuffled.forEach((record, i) => {
        findings.push(...feed(verifier, record));
        if (i % 9 === 0) {
          const state = JSON.parse(JSON.stringify(verifier.toJSON())) as ReturnType<StreamVerifier['toJSON']>;
          verifier = StreamVerifier.fromJSON(state, { publicKeys: [key.verifierKey.vkey] });
        }
      });
      expect(findings).toEqual([]);
      expect(verifier.verifiedSize).toBe(40);
      expect(verifier.pendingSpans).toBe(0);
      expect(verifier.pendingCheckpoints).toBe(0);
    }
  });

  it('holds every later batch while the first is missing, then verifies them all and still names a modified leaf', () => {
    // A client retrying a refused request sends its stream's first batch after the others.
    const firstCheckpoint = records.findIndex(isCheckpoint);
    const first = records.slice(0, firstCheckpoint + 1);
    const rest = records.slice(firstCheckpoint + 1).map((record) => structuredClone(record));
    const target = rest.find((record) => !isCheckpoint(record))!;
    target.attributes['audit.decision.outcome'] = 'rewritten';
    const verifier = new StreamVerifier(stream, { publicKeys: [key.verifierKey] });
    const early = rest.flatMap((record) => feed(verifier, record));
    expect(early).toEqual([]);
    expect(verifier.verifiedSize).toBe(0);
    expect(verifier.pendingCheckpoints).toBe(records.filter(isCheckpoint).length - 1);
    const late = first.flatMap((record) => feed(verifier, record));
    expect(late.map((f) => [f.code, f.spanId])).toEqual([['modified', target.spanId]]);
    expect(verifier.verifiedSize).toBe(40);
    expect(verifier.pendingSpans).toBe(0);
    expect(verifier.pendingCheckpoints).toBe(0);
  });

  it('waits for a checkpoint before judging spans, then names modified and forged ones', () => {
    const verifier = new StreamVerifier(stream, { publicKeys: [key.verifierKey] });
    const leaves = records.filter((record) => !isCheckpoint(record));
    const checkpoints = records.filter(isCheckpoint);
    const modified = structuredClone(leaves[2]!);
    modified.attributes['audit.decision.outcome'] = 'approve';
    modified.attributes['audit.decision.explanation'] = 'rewritten';
    const forged = structuredClone(leaves[4]!);
    forged.spanId = '0123456789abcdef';
    expect(verifier.addSpan(modified)).toEqual([]);
    for (const leaf of leaves.slice(0, 6)) if (leaf !== leaves[2]) expect(verifier.addSpan(leaf)).toEqual([]);
    expect(verifier.addSpan(forged)).toEqual([]);
    const findings = verifier.addCheckpoint(checkpoints[0]!);
    expect(findings.map((f) => [f.code, f.spanId])).toEqual(
      expect.arrayContaining([
        ['modified', modified.spanId],
        ['unexpected', forged.spanId],
      ]),
    );
    // A late straggler at a verified seq is checked against the remembered leaves.
    expect(verifier.addSpan(leaves[2]!)).toEqual([]);
    const late = structuredClone(leaves[1]!);
    late.name = 'renamed';
    expect(verifier.addSpan(late).map((f) => f.code)).toEqual(['unexpected']);
  });

  it('reports checkpoints signed by an unknown key or contradicting a verified one', () => {
    const verifier = new StreamVerifier(stream, { publicKeys: [key.verifierKey] });
    for (const record of records) feed(verifier, record);
    const checkpoint = records.find(isCheckpoint)!;
    const note = checkpoint.attributes['audit.checkpoint.note']!;
    const other = generateSigningKey();
    const resigned = structuredClone(checkpoint);
    resigned.attributes['audit.checkpoint.note'] = other.signer.sign(
      note.slice(0, note.lastIndexOf('\n\n') + 1),
    );
    expect(verifier.addCheckpoint(resigned).map((f) => f.code)).toEqual(['checkpoint-unknown-key']);
    const lines = note.slice(0, note.lastIndexOf('\n\n') + 1).split('\n');
    lines[2] = Buffer.alloc(32, 7).toString('base64');
    const contradicting = structuredClone(checkpoint);
    contradicting.attributes['audit.checkpoint.note'] = key.signer.sign(lines.join('\n'));
    contradicting.attributes['audit.checkpoint.root'] = lines[2];
    expect(verifier.addCheckpoint(contradicting).map((f) => f.code)).toEqual(['checkpoint-inconsistent']);
  });
});
