import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  StreamSigner,
  addCheckpoint,
  consistencyProof,
  consistencyProofFromRange,
  generateSigningKey,
  hashLeafData,
  parseCosignerKey,
  type WitnessEndpoint,
} from '@decisiontrail/core';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A witness that answers every request with `status` and `body` (or never, with `hang`). */
async function fakeWitness(status: number, body: string, hang = false): Promise<string> {
  server = createServer((req, res) => {
    req.resume();
    if (!hang) res.writeHead(status).end(body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function witnessKey(name: string): WitnessEndpoint['key'] {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const id = createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([4]))
    .update(raw)
    .digest()
    .subarray(0, 4);
  return parseCosignerKey(
    `${name}+${id.toString('hex')}+${Buffer.concat([Buffer.from([4]), raw]).toString('base64')}`,
  );
}

function note(): string {
  const signer = new StreamSigner({ key: generateSigningKey(), streamId: 's' });
  signer.append(hashLeafData(Buffer.from('a')));
  return signer.checkpoint()!.note;
}

describe('addCheckpoint against a hostile witness', () => {
  it('reads garbage, a 200 by another key, a bad 409 and silence as failures, never as cosigned', async () => {
    const key = witnessKey('w.example/1');
    const ask = async (url: string, timeoutMs = 5000) =>
      addCheckpoint({ name: key.name, url, key }, { oldSize: 0, proof: [], note: note() }, { timeoutMs });
    expect(await ask(await fakeWitness(200, 'not a signature\n'))).toMatchObject({
      kind: 'failed',
      reason: 'garbage',
    });
    server!.close();
    const other = Buffer.alloc(76, 7).toString('base64');
    expect(await ask(await fakeWitness(200, `\u2014 w.example/1 ${other}\n`))).toMatchObject({
      kind: 'failed',
      reason: 'wrong-key',
    });
    server!.close();
    expect(await ask(await fakeWitness(409, 'twelve\n'))).toMatchObject({
      kind: 'failed',
      reason: 'garbage',
    });
    server!.close();
    expect(await ask(await fakeWitness(409, '12\n'))).toEqual({ kind: 'conflict', witnessSize: 12 });
    server!.close();
    expect(await ask(await fakeWitness(200, '', true), 200)).toMatchObject({
      kind: 'failed',
      reason: 'timeout',
    });
  });
});

describe('consistencyProofFromRange', () => {
  it('equals the proof from every leaf for each old and new size up to 40', () => {
    const leaves = Array.from({ length: 40 }, (_, i) => hashLeafData(Buffer.from([i])));
    for (let n = 1; n <= 40; n++) {
      for (let m = 1; m <= n; m++) {
        const tree = new StreamSigner({ key: generateSigningKey(), streamId: 'p' });
        leaves.slice(0, m).forEach((leaf) => tree.append(leaf));
        const range = tree.toJSON().tree.peaks.map((hex) => Buffer.from(hex, 'hex'));
        const fromRange = consistencyProofFromRange(range, m, leaves.slice(m, n)).map((h) =>
          Buffer.from(h).toString('hex'),
        );
        const reference = consistencyProof(leaves.slice(0, n), m).map((h) => Buffer.from(h).toString('hex'));
        expect(fromRange, `${m} → ${n}`).toEqual(reference);
      }
    }
  });
});
