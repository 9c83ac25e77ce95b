import { beforeAll, describe, expect, it } from 'vitest';
import {
  createProofBundle,
  generateSigningKey,
  LogVerifier,
  verifyProofBundle,
  verifySpans,
  type FindingCode,
  type SigningKey,
  type SpanRecord,
} from '@decisiontrail/core';
import { pick, prng } from '../../../core/test/support/prng.ts';
import { MemoryWitness, makeSpans, signInBatches } from '../support/signed-stream.ts';

const SEED = 20261125;
const TRIALS = 1000;
const OPERATIONS = [
  'modify-attribute',
  'change-timestamp',
  'delete-span',
  'insert-forged-span',
  'swap-spans',
  'truncate-tail',
  'replace-checkpoint',
  'sign-with-unknown-key',
] as const;
type Operation = (typeof OPERATIONS)[number];

const isCheckpoint = (record: SpanRecord): boolean => record.attributes['audit.record.type'] === 'checkpoint';
const seqOf = (record: SpanRecord): number => Number(record.attributes['audit.integrity.seq']);
const streamOf = (record: SpanRecord): string => record.attributes['audit.integrity.stream'] as string;
const hex = (random: () => number, length: number): string =>
  Array.from({ length }, () => pick(random, 16).toString(16)).join('');

let key: SigningKey;
let unknownKey: SigningKey;
let clean: SpanRecord[];
let witnessNotes: string[];

beforeAll(async () => {
  key = generateSigningKey();
  unknownKey = generateSigningKey();
  const witness = new MemoryWitness();
  clean = [];
  for (const [service, count, batch] of [
    ['loan-api', 30, 7],
    ['fraud-api', 23, 5],
    ['triage', 12, 12],
  ] as const) {
    const { records } = await signInBatches(await makeSpans(count, service), {
      key,
      batchSize: batch,
      witness,
    });
    clean.push(...records);
  }
  witnessNotes = witness.notes;
});

interface Expectation {
  code: FindingCode;
  spanIds?: string[];
  seq?: number;
}

function tamper(records: SpanRecord[], operation: Operation, random: () => number): Expectation[] {
  const leaves = records
    .map((record, index) => ({ record, index }))
    .filter(({ record }) => !isCheckpoint(record));
  const checkpoints = records
    .map((record, index) => ({ record, index }))
    .filter(({ record }) => isCheckpoint(record));
  const { record, index } = leaves[pick(random, leaves.length)]!;
  switch (operation) {
    case 'modify-attribute': {
      const copy = structuredClone(record);
      const keys = Object.keys(copy.attributes).filter(
        (k) => !k.startsWith('audit.integrity.') && !k.startsWith('audit.completeness.'),
      );
      const attribute = keys[pick(random, keys.length)]!;
      copy.attributes[attribute] = `${copy.attributes[attribute]}${hex(random, 1)}`;
      records[index] = copy;
      return [{ code: 'modified', spanIds: [record.spanId] }];
    }
    case 'change-timestamp': {
      const copy = structuredClone(record);
      const delta = BigInt(1 + pick(random, 1_000_000));
      const field = pick(random, 3);
      if (field === 0) copy.startTimeUnixNano = String(BigInt(copy.startTimeUnixNano) - delta);
      else if (field === 1) copy.endTimeUnixNano = String(BigInt(copy.endTimeUnixNano) + delta);
      else copy.events[0]!.timeUnixNano = String(BigInt(copy.events[0]!.timeUnixNano) + delta);
      records[index] = copy;
      return [{ code: 'modified', spanIds: [record.spanId] }];
    }
    case 'delete-span':
      records.splice(index, 1);
      return [{ code: 'missing', seq: seqOf(record) }];
    case 'insert-forged-span': {
      const forged = structuredClone(record);
      forged.spanId = hex(random, 16);
      forged.attributes['audit.decision.outcome'] = 'approve-forged';
      records.splice(pick(random, records.length + 1), 0, forged);
      return [{ code: 'unexpected', spanIds: [forged.spanId] }];
    }
    case 'swap-spans': {
      const sameStream = leaves.filter(
        (other) => streamOf(other.record) === streamOf(record) && seqOf(other.record) !== seqOf(record),
      );
      const other = sameStream[pick(random, sameStream.length)]!;
      const a = structuredClone(record);
      const b = structuredClone(other.record);
      a.attributes['audit.integrity.seq'] = other.record.attributes['audit.integrity.seq']!;
      b.attributes['audit.integrity.seq'] = record.attributes['audit.integrity.seq']!;
      records[index] = a;
      records[other.index] = b;
      return [{ code: 'reordered', spanIds: [a.spanId, b.spanId] }];
    }
    case 'truncate-tail': {
      const stream = streamOf(record);
      const cut = seqOf(record);
      const kept = records.filter((r) =>
        streamOf(r) !== stream
          ? true
          : isCheckpoint(r)
            ? Number(r.attributes['audit.checkpoint.size']) <= cut
            : seqOf(r) < cut,
      );
      records.splice(0, records.length, ...kept);
      return [{ code: 'truncated' }, { code: 'missing', seq: cut }];
    }
    case 'replace-checkpoint': {
      const target = checkpoints[pick(random, checkpoints.length)]!;
      const copy = structuredClone(target.record);
      const note = copy.attributes['audit.checkpoint.note']!;
      const variant = pick(random, 3);
      if (variant === 0) {
        // A forged note: bigger size, the old signature kept (the attacker has no key).
        const lines = note.split('\n');
        lines[1] = String(Number(lines[1]) + 1 + pick(random, 5));
        copy.attributes['audit.checkpoint.note'] = lines.join('\n');
        copy.attributes['audit.checkpoint.size'] = lines[1];
      } else if (variant === 1) {
        copy.attributes['audit.checkpoint.size'] = String(
          Number(copy.attributes['audit.checkpoint.size']) - 1,
        );
      } else {
        const leavesAttr = Buffer.from(copy.attributes['audit.checkpoint.leaves']!, 'base64');
        leavesAttr[pick(random, leavesAttr.length)]! ^= 1 + pick(random, 255);
        copy.attributes['audit.checkpoint.leaves'] = leavesAttr.toString('base64');
      }
      records[target.index] = copy;
      return [{ code: 'checkpoint-invalid' }];
    }
    case 'sign-with-unknown-key': {
      const target = checkpoints[pick(random, checkpoints.length)]!;
      const copy = structuredClone(target.record);
      const note = copy.attributes['audit.checkpoint.note']!;
      copy.attributes['audit.checkpoint.note'] = unknownKey.signer.sign(
        note.slice(0, note.lastIndexOf('\n\n') + 1),
      );
      copy.attributes['audit.integrity.key_id'] = unknownKey.keyId;
      records[target.index] = copy;
      return [{ code: 'checkpoint-unknown-key', spanIds: [] }];
    }
  }
}

/**
 * Verifies the way `decisiontrail verify` reads a store: records in start-time order (as time slices of the
 * store return them, each slice in stream and sequence order) handed over in slices of random sizes.
 */
function verifyInSlices(records: readonly SpanRecord[], random: () => number) {
  const verifier = new LogVerifier({ publicKeys: [key.verifierKey], witnessCheckpoints: witnessNotes });
  const ordered = [...records].sort((a, b) =>
    BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano)
      ? -1
      : BigInt(a.startTimeUnixNano) > BigInt(b.startTimeUnixNano)
        ? 1
        : 0,
  );
  for (let at = 0; at < ordered.length;) {
    const size = 1 + pick(random, 16);
    const slice = ordered.slice(at, at + size);
    slice.sort((a, b) =>
      streamOf(a) !== streamOf(b) ? (streamOf(a) < streamOf(b) ? -1 : 1) : seqOf(a) - seqOf(b),
    );
    verifier.add(slice);
    at += size;
  }
  return verifier.finish();
}

function expectDetected(
  report: ReturnType<typeof verifySpans>,
  expectations: readonly Expectation[],
  label: string,
): void {
  const findings = report.streams.flatMap((stream) => stream.findings);
  const context = `${label}: ${JSON.stringify(findings.map((f) => [f.code, f.spanId, f.ranges]))}`;
  expect(report.ok, context).toBe(false);
  for (const expected of expectations) {
    const matching = findings.filter((f) => f.code === expected.code);
    expect(matching.length, context).toBeGreaterThan(0);
    for (const spanId of expected.spanIds ?? []) {
      expect(
        matching.some((f) => f.spanId === spanId),
        context,
      ).toBe(true);
    }
    if (expected.seq !== undefined) {
      const seq = expected.seq;
      expect(
        matching.some((f) => f.ranges?.some(([from, to]) => seq >= from && seq < to)),
        context,
      ).toBe(true);
    }
  }
}

describe('tamper fuzz', () => {
  it('reports nothing on untampered data', () => {
    const report = verifySpans(clean, { publicKeys: [key.verifierKey], witnessCheckpoints: witnessNotes });
    expect(report.ok).toBe(true);
    expect(report.streams).toHaveLength(3);
    for (const stream of report.streams) {
      expect(stream.findings).toEqual([]);
      expect(stream.verifiedRanges).toEqual([[0, stream.sealedSize]]);
    }
    // Order of records does not matter; duplicates from at-least-once delivery are harmless.
    const shuffled = [...clean].reverse().concat(clean.slice(0, 10));
    expect(
      verifySpans(shuffled, { publicKeys: [key.verifierKey], witnessCheckpoints: witnessNotes }).ok,
    ).toBe(true);
    // Read in time slices, the report is the same as all at once.
    expect(verifyInSlices(clean, prng(SEED - 1))).toEqual(report);
  });

  it('names a second copy of a span with different content, in one read and in slices', () => {
    const target = clean.find((record) => !isCheckpoint(record) && seqOf(record) === 4)!;
    const copy = structuredClone(target);
    copy.attributes['audit.decision.outcome'] = 'reject';
    copy.endTimeUnixNano = String(BigInt(copy.endTimeUnixNano) + 1n);
    for (const report of [
      verifySpans([...clean, copy], { publicKeys: [key.verifierKey], witnessCheckpoints: witnessNotes }),
      verifyInSlices([...clean, copy], prng(SEED - 2)),
    ]) {
      const findings = report.streams.flatMap((stream) => stream.findings);
      expect(report.ok).toBe(false);
      expect(findings.map((f) => [f.code, f.spanId, f.seq, f.stream])).toEqual([
        ['conflicting-copy', target.spanId, 4, streamOf(target)],
      ]);
      // The stored row that matches the committed leaf still counts as verified.
      const stream = report.streams.find((s) => s.stream === streamOf(target))!;
      expect(stream.verifiedRanges).toEqual([[0, stream.sealedSize]]);
    }
  });

  it('checks a read that begins mid-stream from the first checkpoint range it holds, and still names tampering', () => {
    const byTime = [...clean].sort((a, b) =>
      BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1,
    );
    for (const cut of [1, 9, 20, Math.floor(byTime.length / 2)]) {
      const tail = byTime.slice(cut);
      const options = { publicKeys: [key.verifierKey], witnessCheckpoints: witnessNotes, midStream: true };
      const verifier = new LogVerifier(options);
      verifier.add(tail);
      const report = verifier.finish();
      expect(report.ok, `cut ${cut}: ${JSON.stringify(report.streams.map((s) => s.findings))}`).toBe(true);
      for (const stream of report.streams) {
        const read = tail.filter((r) => !isCheckpoint(r) && streamOf(r) === stream.stream).map(seqOf);
        if (read.length === 0) continue;
        // Every leaf read whose checkpoint was read is verified; nothing before the first one read is missing.
        const verified = stream.verifiedRanges.flatMap(([from, to]) =>
          Array.from({ length: to - from }, (_, i) => from + i),
        );
        expect(verified.length).toBeGreaterThan(0);
        expect(verified.every((seq) => read.includes(seq))).toBe(true);
        expect(stream.checkedFrom).toBeLessThanOrEqual(Math.min(...verified));
      }
      // Checkpoints met out of log order (the largest first): what precedes the first one is outside the
      // check, never a finding.
      const reordered = new LogVerifier(options);
      reordered.add([
        ...tail.filter(isCheckpoint).reverse(),
        ...tail.filter((record) => !isCheckpoint(record)),
      ]);
      const reorderedReport = reordered.finish();
      expect(reorderedReport.ok, JSON.stringify(reorderedReport.streams.map((s) => s.findings))).toBe(true);
      // The same read without midStream cannot authenticate the streams it cut into.
      expect(verifySpans(tail, { publicKeys: [key.verifierKey], witnessCheckpoints: witnessNotes }).ok).toBe(
        false,
      );
      // A modified leaf after the cut is still named.
      const victim = tail.findIndex((r) => !isCheckpoint(r) && seqOf(r) > 0);
      const tampered = [...tail];
      tampered[victim] = structuredClone(tail[victim]!);
      tampered[victim]!.attributes['audit.decision.outcome'] = 'forged';
      const caught = new LogVerifier(options);
      caught.add(tampered);
      const findings = caught.finish().streams.flatMap((s) => s.findings);
      expect(
        findings.some((f) => f.code === 'modified' && f.spanId === tail[victim]!.spanId),
        JSON.stringify([cut, seqOf(tail[victim]!), streamOf(tail[victim]!), findings]),
      ).toBe(true);
    }
  });

  it('calls a stream with no checkpoint by a trusted key untrusted, never intact', () => {
    const leavesOnly = clean.filter((record) => !isCheckpoint(record));
    const report = verifySpans(leavesOnly, { publicKeys: [key.verifierKey] });
    expect(report.ok).toBe(false);
    for (const stream of report.streams) {
      expect(stream.findings.map((f) => [f.code, f.tamper, f.stream])).toEqual([
        ['untrusted-stream', false, stream.stream],
      ]);
      expect(stream.verifiedRanges).toEqual([]);
    }
    // Signed by a key the verifier does not trust: the same, naming the key.
    const untrusted = verifySpans(clean, { publicKeys: [unknownKey.verifierKey] });
    expect(untrusted.ok).toBe(false);
    for (const stream of untrusted.streams) {
      expect(stream.findings.map((f) => [f.code, f.keyId])).toEqual([['untrusted-stream', key.keyId]]);
    }
  });

  it(`detects and names every one of ${TRIALS} random tamper operations (seed ${SEED})`, () => {
    const random = prng(SEED);
    const counts = new Map<Operation, number>();
    for (let trial = 0; trial < TRIALS; trial++) {
      const operation = OPERATIONS[pick(random, OPERATIONS.length)]!;
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      const records = [...clean];
      const expectations = tamper(records, operation, random);
      const report = verifySpans(records, {
        publicKeys: [key.verifierKey],
        witnessCheckpoints: witnessNotes,
      });
      expectDetected(report, expectations, `trial ${trial} (${operation})`);
    }
    expect(counts.size).toBe(OPERATIONS.length);
  }, 90_000);

  it(`detects and names them as well when the records come in time slices (seed ${SEED + 2})`, () => {
    const random = prng(SEED + 2);
    for (let trial = 0; trial < TRIALS; trial++) {
      const operation = OPERATIONS[pick(random, OPERATIONS.length)]!;
      const records = [...clean];
      const expectations = tamper(records, operation, random);
      expectDetected(
        verifyInSlices(records, random),
        expectations,
        `trial ${trial} (${operation}), in slices`,
      );
    }
  }, 90_000);

  it(`detects combinations of 2–4 operations (seed ${SEED + 1})`, () => {
    const random = prng(SEED + 1);
    for (let trial = 0; trial < 200; trial++) {
      const records = [...clean];
      const operations = Array.from(
        { length: 2 + pick(random, 3) },
        () => OPERATIONS[pick(random, OPERATIONS.length)]!,
      );
      for (const operation of operations) tamper(records, operation, random);
      const report = verifySpans(records, {
        publicKeys: [key.verifierKey],
        witnessCheckpoints: witnessNotes,
      });
      expect(report.ok, `trial ${trial}: ${operations.join(', ')}`).toBe(false);
    }
  });

  it('every proof bundle fails when any byte of it changes', () => {
    const leaves = clean.filter((record) => !isCheckpoint(record));
    // XOR 0x01 changes every byte to a neighbour, 0x20 flips letter case (hex must stay lowercase),
    // 0x80 breaks UTF-8; the second bundle (a last leaf, with a short path) gets the first mask only.
    for (const [target, masks] of [
      [leaves[3]!, [0x01, 0x20, 0x80]],
      [leaves[leaves.length - 1]!, [0x01]],
    ] as const) {
      const bundle = createProofBundle(clean, target.spanId, { publicKeys: [key.verifierKey] });
      const bytes = Buffer.from(JSON.stringify(bundle), 'utf8');
      expect(verifyProofBundle(bytes.toString('utf8'), [key.verifierKey]).ok).toBe(true);
      for (const mask of masks) {
        for (let i = 0; i < bytes.length; i++) {
          const changed = Buffer.from(bytes);
          changed[i]! ^= mask;
          const result = verifyProofBundle(changed.toString('utf8'), [key.verifierKey]);
          expect(result.ok, `byte ${i} ^ ${mask}: ${String.fromCharCode(bytes[i]!)}`).toBe(false);
        }
      }
    }
  });
});
