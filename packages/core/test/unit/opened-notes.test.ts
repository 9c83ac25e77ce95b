import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LogVerifier, createNoteSigner, formatCheckpoint } from '@decisiontrail/core';
import { validateCheckpointNote } from '@decisiontrail/core/internal';

const signer = createNoteSigner('test-signer', generateKeyPairSync('ed25519').privateKey);
const keys = [signer.verifierKey];
const note = (size: number, root = 7) =>
  signer.sign(
    formatCheckpoint({ origin: 'decisiontrail/stream-a', size, rootHash: new Uint8Array(32).fill(root) }),
  );

describe('notes opened once per key set', () => {
  it('keeps a note that opened, keyed by its exact text, and gives the same checkpoint as without the cache', () => {
    const opened = new Map();
    const text = note(4);
    const first = validateCheckpointNote(text, keys, {}, opened);
    expect(opened.size).toBe(1);
    const second = validateCheckpointNote(text, keys, { spanId: 'abcdef0123456789' }, opened);
    expect(second).toEqual({ ...validateCheckpointNote(text, keys, { spanId: 'abcdef0123456789' }) });
    expect(first).toEqual(validateCheckpointNote(text, keys, {}));
    expect(opened.size).toBe(1);
  });

  it('never lets a kept note stand in for another text: a changed signature, size or root is checked anew', () => {
    const opened = new Map();
    const text = note(4);
    validateCheckpointNote(text, keys, {}, opened);
    // The same body, one signature byte changed.
    const lines = text.split('\n');
    const signature = lines[lines.length - 2] as string;
    const flipped = signature.slice(0, -6) + (signature.at(-6) === 'A' ? 'B' : 'A') + signature.slice(-5);
    const forged = [...lines.slice(0, -2), flipped, ''].join('\n');
    expect(validateCheckpointNote(forged, keys, {}, opened)).toMatchObject({ code: 'checkpoint-invalid' });
    // Another signed size and root are their own notes.
    expect(validateCheckpointNote(note(5, 9), keys, {}, opened)).toMatchObject({ size: 5 });
    // A note that did not open is not kept: asked again, it fails again.
    expect(validateCheckpointNote(forged, keys, {}, opened)).toMatchObject({ code: 'checkpoint-invalid' });
    expect([...opened.keys()].sort()).toEqual([text, note(5, 9)].sort());
  });

  it('an untrusted signer is a finding with or without a note kept for the trusted keys', () => {
    const other = createNoteSigner('other', generateKeyPairSync('ed25519').privateKey);
    const opened = new Map();
    const body = formatCheckpoint({
      origin: 'decisiontrail/stream-a',
      size: 4,
      rootHash: new Uint8Array(32),
    });
    validateCheckpointNote(signer.sign(body), keys, {}, opened);
    expect(validateCheckpointNote(other.sign(body), keys, {}, opened)).toMatchObject({
      code: 'checkpoint-unknown-key',
    });
  });

  it('a verifier given the witness copy of a note still reports a stored checkpoint whose span disagrees with it', () => {
    const text = note(1);
    const verifier = new LogVerifier({ publicKeys: [signer.verifierKey], witnessCheckpoints: [text] });
    verifier.add([
      {
        traceId: '0'.repeat(32),
        spanId: '1'.repeat(16),
        parentSpanId: '',
        traceState: '',
        name: 'audit.checkpoint',
        kind: 'SPAN_KIND_INTERNAL',
        startTimeUnixNano: '1',
        endTimeUnixNano: '2',
        statusCode: 'STATUS_CODE_UNSET',
        statusMessage: '',
        attributes: {
          'audit.record.type': 'checkpoint',
          'audit.integrity.stream': 'stream-a',
          'audit.checkpoint.note': text,
          'audit.checkpoint.origin': 'decisiontrail/stream-a',
          'audit.checkpoint.size': '2',
          'audit.checkpoint.root': Buffer.alloc(32, 7).toString('base64'),
          'audit.integrity.key_id': signer.keyId,
        },
        resourceAttributes: {},
        scopeName: '',
        scopeVersion: '',
        events: [],
        links: [],
      },
    ]);
    const findings = verifier.finish().streams.flatMap((s) => s.findings);
    expect(findings).toContainEqual(
      expect.objectContaining({ code: 'checkpoint-invalid', checkpointSpanId: '1'.repeat(16) }),
    );
  });
});
