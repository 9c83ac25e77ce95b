import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileCheckpointWitness,
  SigningError,
  createProofBundle,
  exportPublicKey,
  generateSigningKey,
  generateSigningKeyFile,
  loadSigningKey,
  loadVerifierKey,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  readWitnessEntries,
  readWitnessFile,
  rotateSigningKeyFile,
  verifyProofBundle,
  verifySpans,
  type SigningKey,
} from '@decisiontrail/core';
import { SigningSpanExporter, spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { MemoryWitness, makeSpans, signInBatches } from '../support/signed-stream.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signing-exporter-unit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SigningSpanExporter', () => {
  it('numbers spans, emits one checkpoint per batch, and the result verifies', async () => {
    const key = generateSigningKey();
    const witness = new MemoryWitness();
    const spans = await makeSpans(25);
    const { records, exporter } = await signInBatches(spans, { key, batchSize: 10, witness });
    const checkpoints = records.filter((r) => r.attributes['audit.record.type'] === 'checkpoint');
    const leaves = records.filter((r) => r.attributes['audit.record.type'] !== 'checkpoint');
    expect(checkpoints.map((r) => r.attributes['audit.checkpoint.size'])).toEqual(['10', '20', '25']);
    expect(
      checkpoints.every(
        (r) => r.name === 'audit.checkpoint' && r.attributes['audit.integrity.seq'] === undefined,
      ),
    ).toBe(true);
    expect(leaves.map((r) => r.attributes['audit.integrity.seq'])).toEqual(
      Array.from({ length: 25 }, (_, i) => String(i)),
    );
    expect(new Set(leaves.map((r) => r.attributes['audit.integrity.stream']))).toEqual(
      new Set([exporter.streamId]),
    );
    expect(leaves.every((r) => r.attributes['audit.integrity.key_id'] === key.keyId)).toBe(true);
    expect(witness.notes).toHaveLength(3);
    const report = verifySpans(records, {
      publicKeys: [key.verifierKey.vkey],
      witnessCheckpoints: witness.notes,
    });
    expect(report.ok).toBe(true);
    expect(report.streams[0]).toMatchObject({
      verifiedSize: 25,
      sealedSize: 25,
      verifiedRanges: [[0, 25]],
      findings: [],
    });
    await exporter.shutdown();
  });

  it('each instance is its own stream', async () => {
    const key = generateSigningKey();
    const spans = await makeSpans(4);
    const a = await signInBatches(spans, { key, batchSize: 4 });
    const b = await signInBatches(spans, { key, batchSize: 4 });
    expect(a.exporter.streamId).not.toBe(b.exporter.streamId);
    expect(a.exporter.origin).toBe(`decisiontrail.dev/stream/${a.exporter.streamId}`);
  });

  it('rotation: old checkpoints verify under the old key, new ones under the new key', async () => {
    const oldKey = generateSigningKey();
    const newKey = generateSigningKey();
    const spans = await makeSpans(6);
    const memory = new InMemorySpanExporter();
    const exporter = new SigningSpanExporter({ exporter: memory, key: oldKey, witness: null });
    await new Promise<void>((resolve) => exporter.export(spans.slice(0, 3), () => resolve()));
    exporter.rotateKey(newKey);
    await new Promise<void>((resolve) => exporter.export(spans.slice(3), () => resolve()));
    const records = memory.getFinishedSpans().map(spanRecordFromReadableSpan);
    expect(records.map((r) => r.attributes['audit.integrity.key_id'])).toEqual([
      ...Array(4).fill(oldKey.keyId),
      ...Array(4).fill(newKey.keyId),
    ]);
    expect(verifySpans(records, { publicKeys: [oldKey.verifierKey, newKey.verifierKey] }).ok).toBe(true);
    const onlyNew = verifySpans(records, { publicKeys: [newKey.verifierKey] });
    expect(onlyNew.streams[0]?.findings.map((f) => f.code)).toEqual(['checkpoint-unknown-key']);
    expect(onlyNew.streams[0]?.verifiedSize).toBe(6);
  });
});

describe('signed notes and checkpoints', () => {
  it('checkpoint note has the C2SP shape and the signed-note key id', () => {
    const key = generateSigningKey('example.com/log');
    const note = key.signer.sign('example.com/log\n3\nrbZm/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8ynganc=\n');
    const lines = note.split('\n');
    expect(lines[3]).toBe('');
    expect(lines[4]).toMatch(/^\u2014 example\.com\/log [A-Za-z0-9+/]+=*$/u);
    const sig = Buffer.from(lines[4]!.split(' ')[2]!, 'base64');
    expect(sig).toHaveLength(68);
    expect(sig.subarray(0, 4).toString('hex')).toBe(key.keyId);
    expect(parseCheckpoint(openNote(note, [key.verifierKey]).text).size).toBe(3);
    expect(parseVerifierKey(key.verifierKey.vkey).keyId).toBe(key.keyId);
    expect(() => openNote(note.replace('\n3\n', '\n4\n'), [key.verifierKey])).toThrow(
      expect.objectContaining({ code: 'NOTE_INVALID_SIGNATURE' }),
    );
    expect(() => openNote(note, [generateSigningKey('example.com/log').verifierKey])).toThrow(
      expect.objectContaining({ code: 'NOTE_UNKNOWN_KEY' }),
    );
  });

  it('matches the signed-note key id of the C2SP example verifier key', () => {
    // From the C2SP signed-note spec / golang.org/x/mod/sumdb/note documentation.
    const vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    expect(parseVerifierKey(vkey).keyId).toBe('c74f20a3');
  });
});

describe('key files', () => {
  it('generates, loads, exports and rotates Ed25519 PEM keys', async () => {
    const path = join(dir, 'signing.pem');
    const generated = await generateSigningKeyFile(path);
    await expect(generateSigningKeyFile(path)).rejects.toMatchObject({ code: 'KEY_EXISTS' });
    const loaded = await loadSigningKey(path);
    expect(loaded.keyId).toBe(generated.keyId);
    const { pem, vkey } = exportPublicKey(loaded);
    await writeFile(join(dir, 'public.pem'), pem);
    await writeFile(join(dir, 'public.vkey'), vkey);
    expect((await loadVerifierKey(join(dir, 'public.pem'))).vkey).toBe(vkey);
    expect((await loadVerifierKey(join(dir, 'public.vkey'))).keyId).toBe(loaded.keyId);
    const { previous, current, retiredPath } = await rotateSigningKeyFile(path);
    expect(previous.keyId).toBe(loaded.keyId);
    expect(current.keyId).not.toBe(previous.keyId);
    expect((await loadSigningKey(retiredPath)).keyId).toBe(previous.keyId);
    expect((await loadSigningKey(path)).keyId).toBe(current.keyId);
  });

  it('typed errors for an unreadable key file and the wrong key type', async () => {
    await expect(loadSigningKey(join(dir, 'absent.pem'))).rejects.toMatchObject({ code: 'KEY_UNREADABLE' });
    await writeFile(join(dir, 'garbage.pem'), 'not a key');
    await expect(loadSigningKey(join(dir, 'garbage.pem'))).rejects.toMatchObject({ code: 'KEY_INVALID' });
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    await writeFile(join(dir, 'ec.pem'), rsa);
    const error = await loadSigningKey(join(dir, 'ec.pem')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigningError);
    expect(error).toMatchObject({ code: 'KEY_WRONG_TYPE' });
    expect((error as Error).message).toContain('ec');
  });
});

describe('file witness', () => {
  it('appends checkpoints and refuses one that shrinks an origin', async () => {
    const key: SigningKey = generateSigningKey();
    const path = join(dir, 'witness.jsonl');
    const witness = new FileCheckpointWitness(path);
    const spans = await makeSpans(5);
    const { records } = await signInBatches(spans, { key, batchSize: 2, witness });
    const notes = await readWitnessFile(path);
    expect(notes).toHaveLength(3);
    const reopened = new FileCheckpointWitness(path);
    await expect(reopened.witness(notes[0]!)).rejects.toMatchObject({ code: 'WITNESS_REJECTED' });
    expect(verifySpans(records, { publicKeys: [key.verifierKey], witnessCheckpoints: notes }).ok).toBe(true);
  });

  it('creates its directory and file owner-only', async () => {
    const path = join(dir, 'fresh', 'keys', 'witness.jsonl');
    await signInBatches(await makeSpans(2), {
      key: generateSigningKey(),
      batchSize: 2,
      witness: new FileCheckpointWitness(path),
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'fresh', 'keys'))).mode & 0o777).toBe(0o700);
  });

  it('reads strictly for a verifier: every line that is not a note is named, with its stream when it shows', async () => {
    const key: SigningKey = generateSigningKey();
    const path = join(dir, 'strict-witness.jsonl');
    await signInBatches(await makeSpans(4), { key, batchSize: 2, witness: new FileCheckpointWitness(path) });
    const [first, second] = (await readFile(path, 'utf8')).split('\n');
    const origin = (JSON.parse(first!) as { note: string }).note.split('\n')[0]!;
    await writeFile(
      path,
      [first, '{"note": 7}', 'garbage', second, second!.slice(0, second!.length - 10)].join('\n'),
    );
    const contents = await readWitnessEntries(path);
    expect(contents.notes).toHaveLength(2);
    expect(contents.malformed.map((m) => [m.line, m.stream])).toEqual([
      [2, undefined],
      [3, undefined],
      [5, origin.slice(origin.lastIndexOf('/') + 1)],
    ]);
    expect(contents.malformed[1]!.problem).toMatch(/^not JSON/);
    // The writer's view: the same notes; a missing file is empty for it and an error for a verifier.
    expect(await readWitnessFile(path)).toEqual(contents.notes);
    expect(await readWitnessFile(join(dir, 'absent.jsonl'))).toEqual([]);
    await expect(readWitnessEntries(join(dir, 'absent.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('proof bundles', () => {
  it('creates a bundle that verifies offline and fails under any other key', async () => {
    const key = generateSigningKey();
    const spans = await makeSpans(13);
    const { records } = await signInBatches(spans, { key, batchSize: 5 });
    const target = records.find((r) => r.attributes['audit.integrity.seq'] === '7')!;
    const bundle = createProofBundle(records, target.spanId, { publicKeys: [key.verifierKey] });
    expect(bundle.leafIndex).toBe(7);
    expect(verifyProofBundle(JSON.stringify(bundle), [key.verifierKey.vkey])).toMatchObject({
      ok: true,
      leafIndex: 7,
      treeSize: 10,
      spanId: target.spanId,
    });
    expect(verifyProofBundle(bundle, [generateSigningKey().verifierKey]).ok).toBe(false);
    expect(() => createProofBundle(records, 'ffffffffffffffff', { publicKeys: [key.verifierKey] })).toThrow(
      expect.objectContaining({ code: 'BUNDLE_INVALID' }),
    );
  });
});
