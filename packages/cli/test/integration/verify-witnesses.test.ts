import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore, type StoredCosignature } from '@decisiontrail/clickhouse';
import { noteText, parseCheckpoint, parseVerifierKey } from '@decisiontrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWitness, type TestWitness } from '../../../core/test/support/test-witness.ts';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { json, runBin } from '../support/run-bin.ts';

// verify against two independent witnesses with a quorum of 2, each made to hold what the case needs (core's
// test witness; litewitness itself is driven by test/e2e/independent-witness.test.ts).

interface Report {
  independentWitnesses: {
    streams: { stream: string; newestSize: number; confirmedBy: string[]; cosignedSize: number }[];
    findings: { code: string; stream: string; size?: number; message: string }[];
  };
}

let facts: FixtureFacts;
let a: TestWitness;
let b: TestWitness;
let head: { stream: string; origin: string; size: number; note: string };
/** A checkpoint of the stream below its newest. */
let earlier: { size: number; note: string };

const rootOf = (note: string) => parseCheckpoint(noteText(note)).rootHash;

beforeAll(async () => {
  facts = await buildPopulatedStore();
  const store = await openStore({ dataDir: facts.dataDir });
  try {
    const { heads } = await store.witnessEvidence();
    expect(heads).toHaveLength(1);
    const [h] = heads;
    head = { stream: h!.stream, origin: h!.origin, size: h!.treeSize, note: h!.note };
    const links = await store.checkpointLinks({ stream: head.stream, fromSize: 0, toSize: head.size - 1 });
    const middle = links[Math.floor(links.length / 2)]!;
    earlier = { size: middle.treeSize, note: middle.note };
  } finally {
    await store.close();
  }
  const logKeys = [parseVerifierKey(readFileSync(facts.publicKeyFile, 'utf8').trim())];
  a = await startTestWitness({ name: 'witness.test/a', logKeys, origins: [head.origin] });
  b = await startTestWitness({ name: 'witness.test/b', logKeys, origins: [head.origin] });
  writeFileSync(
    path.join(facts.root, 'decisiontrail.yaml'),
    [
      'witnesses:',
      '  quorum: 2',
      '  list:',
      ...[a, b].map((w) => `    - { name: ${w.cosigner.name}, url: "${w.url}", key: "${w.cosigner.vkey}" }`),
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  if (facts !== undefined) removePopulatedStore(facts);
});

async function verify() {
  const result = await runBin(['verify', '--witness', facts.witnessFile, '--json'], { cwd: facts.root });
  return {
    code: result.code,
    report: json<Report>(result).independentWitnesses,
    output: result.stdout + result.stderr,
  };
}

async function storeCosignatures(rows: StoredCosignature[], clear = false): Promise<void> {
  const store = await openStore({ dataDir: facts.dataDir, migrate: false });
  try {
    if (clear)
      await store.client.command({
        query: 'TRUNCATE TABLE audit_cosignatures',
      });
    await store.recordCosignatures(rows);
  } finally {
    await store.close();
  }
}

function cosignatureRow(w: TestWitness, size: number, root: Uint8Array, line?: string): StoredCosignature {
  const text = `${head.origin}\n${size}\n${Buffer.from(root).toString('base64')}\n`;
  return {
    stream: head.stream,
    treeSize: size,
    origin: head.origin,
    root: Buffer.from(root).toString('base64'),
    witness: w.cosigner.name,
    keyId: w.cosigner.key.keyId,
    cosignedAt: 1_800_000_000,
    line: line ?? w.cosigner.cosign(text),
  };
}

describe('verify with independent witnesses', () => {
  it('holds with both witnesses at the newest checkpoint, and says neither moved', async () => {
    a.logs.set(head.origin, { size: head.size, root: rootOf(head.note) });
    b.logs.set(head.origin, { size: head.size, root: rootOf(head.note) });
    const { code, report, output } = await verify();
    expect(code, output).toBe(0);
    expect(report.findings).toEqual([]);
    expect(report.streams).toEqual([
      expect.objectContaining({
        stream: head.stream,
        newestSize: head.size,
        confirmedBy: [a.cosigner.name, b.cosigner.name],
        cosignedSize: head.size,
      }),
    ]);
    expect(a.logs.get(head.origin)?.size).toBe(head.size);
  });

  it('is not cosigned when one witness of the quorum is down', async () => {
    b.down = true;
    try {
      const { code, report } = await verify();
      expect(code).toBe(8);
      expect(report.findings.map((f) => f.code)).toEqual(['not-cosigned', 'not-cosigned']);
      expect(report.findings[1]!.message).toBe(
        `stream ${head.stream}: its newest checkpoint (size ${head.size}) is cosigned by 1 of the 2 trusted witness(es) the quorum needs (${a.cosigner.name})`,
      );
    } finally {
      b.down = false;
    }
  });

  it('asks a witness that is behind about the checkpoint of its size: same tree passes, another is named', async () => {
    b.logs.set(head.origin, { size: earlier.size, root: rootOf(earlier.note) });
    const behind = await verify();
    expect(behind.code).toBe(8);
    expect(behind.report.findings.map((f) => f.code)).toEqual(['not-cosigned']);
    expect(behind.report.streams[0]!.cosignedSize).toBe(head.size);
    b.logs.set(head.origin, { size: earlier.size, root: rootOf(head.note) });
    const other = await verify();
    expect(other.code).toBe(1);
    expect(other.report.findings).toContainEqual(
      expect.objectContaining({
        code: 'checkpoint-inconsistent',
        stream: head.stream,
        size: earlier.size,
        message: expect.stringContaining(
          `witness ${b.cosigner.name} holds a different tree at size ${earlier.size}`,
        ),
      }),
    );
    expect(b.logs.get(head.origin)?.size).toBe(earlier.size);
    b.logs.set(head.origin, { size: head.size, root: rootOf(head.note) });
  });

  it('names a stored cosignature that does not verify', async () => {
    const good = cosignatureRow(a, head.size, rootOf(head.note));
    const at = good.line.length - 10;
    const forged = good.line.slice(0, at) + (good.line[at] === 'A' ? 'B' : 'A') + good.line.slice(at + 1);
    await storeCosignatures([{ ...good, line: forged }], true);
    const { code, report } = await verify();
    expect(code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ code: 'cosignature-invalid', stream: head.stream, size: head.size }),
    );
  });

  it('names, from stored cosignatures alone, a checkpoint the witnesses saw with another root', async () => {
    await storeCosignatures([cosignatureRow(a, earlier.size, rootOf(head.note))], true);
    a.down = true;
    b.down = true;
    try {
      const { code, report } = await verify();
      expect(code).toBe(1);
      expect(report.findings).toContainEqual(
        expect.objectContaining({
          code: 'checkpoint-inconsistent',
          stream: head.stream,
          size: earlier.size,
          message: expect.stringContaining(
            `${a.cosigner.name} cosigned size ${earlier.size} with root ${Buffer.from(rootOf(head.note)).toString('base64')} (stored cosignatures), but the store's checkpoint of that size has root ${Buffer.from(rootOf(earlier.note)).toString('base64')}`,
          ),
        }),
      );
    } finally {
      a.down = false;
      b.down = false;
    }
  });
});
