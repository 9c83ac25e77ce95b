// A C2SP tlog-witness for tests that need a witness to misbehave on purpose (be down, hold a size the submitter
// does not expect, hold another tree): it speaks the protocol as litewitness v0.6.1 does (the real one is driven
// by test/e2e/independent-witness.test.ts) and cosigns with a real Ed25519 key in the tlog-cosignature format.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  openNote,
  parseCheckpoint,
  parseCosignerKey,
  verifyConsistency,
  type CosignerKey,
  type NoteVerifierKey,
} from '@decisiontrail/core';

/** A witness key pair: the verifier key string a config names, and a signer of cosignature lines. */
export interface TestCosigner {
  name: string;
  /** `<name>+<key id>+<base64(0x04 ‖ key)>`, as litewitness prints it. */
  vkey: string;
  key: CosignerKey;
  /** The `— <name> <base64>` line cosigning `checkpointText` (a checkpoint body) at `time` (seconds). */
  cosign(checkpointText: string, time?: number): string;
}

/** A fresh witness key named `name`. */
export function createTestCosigner(name: string): TestCosigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const keyId = createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([0x04]))
    .update(raw)
    .digest()
    .subarray(0, 4);
  const vkey = `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([0x04]), raw]).toString('base64')}`;
  return {
    name,
    vkey,
    key: parseCosignerKey(vkey),
    cosign: (text, time) => line(name, keyId, privateKey, text, time),
  };
}

function line(
  name: string,
  keyId: Buffer,
  privateKey: KeyObject,
  text: string,
  time = 1_800_000_000,
): string {
  const stamp = Buffer.alloc(8);
  stamp.writeBigUInt64BE(BigInt(time));
  const signature = sign(null, Buffer.from(`cosignature/v1\ntime ${time}\n${text}`, 'utf8'), privateKey);
  return `\u2014 ${name} ${Buffer.concat([keyId, stamp, signature]).toString('base64')}`;
}

/** What the test witness holds for one log. */
export interface HeldTree {
  size: number;
  root: Uint8Array;
}

/** A running test witness. */
export interface TestWitness {
  url: string;
  cosigner: TestCosigner;
  /** Per origin: the tree it holds (set it to make the witness hold a size or a tree of the test's choosing). */
  logs: Map<string, HeldTree>;
  /** Every request's `old` size and checkpoint size, in order. */
  requests: { origin: string; oldSize: number; size: number; status: number }[];
  /** While true, every connection is dropped unanswered (a witness that is down). */
  down: boolean;
  close(): Promise<void>;
}

/**
 * Starts a witness on a loopback port that accepts the origins in `logs` (signed by `logKeys`): `old` must be the
 * size it holds (else 409 with that size), the proof must show the new tree extends the held one (else 422), and
 * the answer is a cosignature line. Unknown origins get 404, bad signatures 403, malformed bodies 400.
 */
export async function startTestWitness(options: {
  name: string;
  logKeys: readonly NoteVerifierKey[];
  origins: readonly string[];
}): Promise<TestWitness> {
  const cosigner = createTestCosigner(options.name);
  const logs = new Map<string, HeldTree>(
    options.origins.map((o) => [o, { size: 0, root: new Uint8Array(32) }]),
  );
  const requests: TestWitness['requests'] = [];
  const server: Server = createServer((req, res) => {
    if (witness.down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, body: string, origin = '', oldSize = -1, size = -1) => {
        requests.push({ origin, oldSize, size, status });
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
      };
      if (req.method !== 'POST' || req.url !== '/add-checkpoint') return answer(404, 'not found\n');
      const body = Buffer.concat(chunks).toString('utf8');
      const split = body.indexOf('\n\n');
      const head = split < 0 ? [] : body.slice(0, split).split('\n');
      const old = /^old (0|[1-9][0-9]*)$/u.exec(head[0] ?? '');
      if (split < 0 || old === null) return answer(400, 'bad request\n');
      const oldSize = Number(old[1]);
      const proof = head.slice(1).map((h) => Buffer.from(h, 'base64'));
      const note = body.slice(split + 2);
      const origin = note.slice(0, note.indexOf('\n'));
      const held = logs.get(origin);
      if (held === undefined) return answer(404, 'unknown log\n', origin, oldSize);
      let text: string;
      try {
        text = openNote(note, options.logKeys).text;
      } catch {
        return answer(403, 'invalid signature\n', origin, oldSize);
      }
      const checkpoint = parseCheckpoint(text);
      if (oldSize > checkpoint.size) return answer(400, 'old size larger than checkpoint\n', origin, oldSize);
      if (held.size !== oldSize) return answer(409, `${held.size}\n`, origin, oldSize, checkpoint.size);
      if (oldSize > 0 && !verifyConsistency(oldSize, checkpoint.size, held.root, checkpoint.rootHash, proof))
        return answer(422, 'bad consistency proof\n', origin, oldSize, checkpoint.size);
      logs.set(origin, { size: checkpoint.size, root: checkpoint.rootHash });
      answer(200, `${cosigner.cosign(text)}\n`, origin, oldSize, checkpoint.size);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const witness: TestWitness = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cosigner,
    logs,
    requests,
    down: false,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return witness;
}
