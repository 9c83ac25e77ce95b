import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '@decisiontrail/clickhouse';
import { noteText, parseCheckpoint } from '@decisiontrail/core';
import { streamOfOrigin } from '@decisiontrail/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCosigner, type TestCosigner } from '../../../core/test/support/test-witness.ts';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { json, runBin } from '../support/run-bin.ts';

// A bundle carries the witness cosignatures of its checkpoints and verify-bundle checks them offline: w1 cosigned
// only each stream's newest checkpoint (the bundle proves its checkpoints extend it), w2 cosigned every checkpoint
// directly, so a quorum of 2 needs both kinds of evidence to hold.

interface Cosigned {
  checkpoint: string;
  cosigned: string;
  consistency: string[];
  lines: string[];
}
interface Bundle {
  checkpoints: string[];
  cosignatures: Cosigned[];
}
interface VerifyOutput {
  ok: boolean;
  findings: { kind: string; checkpoint?: { origin: string; size: number } | null; message: string }[];
  cosignatures: { quorum: number; checkpoints: { origin: string; size: number; cosignedBy: string[] }[] };
}

let facts: FixtureFacts;
let bundleFile: string;
let original: string;
const w1 = createTestCosigner('witness.test/w1');
const w2 = createTestCosigner('witness.test/w2');

beforeAll(async () => {
  facts = await buildPopulatedStore();
  const store = await openStore({ dataDir: facts.dataDir });
  try {
    const { heads } = await store.witnessEvidence();
    const all = await store.client.query({
      query: 'SELECT DISTINCT note FROM audit_checkpoints',
      format: 'JSONEachRow',
    });
    const notes = (await all.json<{ note: string }>()).map((row) => row.note);
    const row = (cosigner: TestCosigner, note: string) => {
      const checkpoint = parseCheckpoint(noteText(note));
      return {
        stream: streamOfOrigin(checkpoint.origin)!,
        treeSize: checkpoint.size,
        origin: checkpoint.origin,
        root: Buffer.from(checkpoint.rootHash).toString('base64'),
        witness: cosigner.name,
        keyId: cosigner.key.keyId,
        cosignedAt: 1_800_000_000,
        line: cosigner.cosign(noteText(note)),
      };
    };
    await store.recordCosignatures([
      ...heads.map((head) => row(w1, head.note)),
      ...notes.map((note) => row(w2, note)),
    ]);
  } finally {
    await store.close();
  }
  bundleFile = path.join(facts.root, 'cosigned.bundle.json');
  const exported = await runBin(
    ['export', '--decision', facts.overridden.reference.decisionId, '--out', bundleFile, '--json'],
    { cwd: facts.root },
  );
  expect(exported.code, exported.stderr).toBe(0);
  original = readFileSync(bundleFile, 'utf8');
});
afterAll(() => {
  if (facts !== undefined) removePopulatedStore(facts);
});

function verify(
  file: string,
  extra: string[] = ['--witness-key', w1.vkey, '--witness-key', w2.vkey, '--quorum', '2'],
) {
  return runBin(['verify-bundle', file, '--key', facts.publicKeyFile, ...extra, '--json'], {
    cwd: facts.root,
  });
}

async function verifyEdited(name: string, edit: (bundle: Bundle) => void) {
  const bundle = JSON.parse(original) as Bundle;
  edit(bundle);
  const file = path.join(facts.root, `cosignatures-${name}.json`);
  writeFileSync(file, JSON.stringify(bundle));
  const result = await verify(file);
  return { result, report: json<VerifyOutput>(result), bundle };
}

const sizeOf = (note: string) => parseCheckpoint(noteText(note));

describe('bundle cosignatures', () => {
  it('export carries both kinds, and the untouched bundle holds with a quorum of 2', async () => {
    const bundle = JSON.parse(original) as Bundle;
    expect(bundle.checkpoints.length).toBeGreaterThan(0);
    // The span checkpoints are older than each stream's newest: w1's lines arrive over a later checkpoint.
    expect(bundle.cosignatures.some((c) => c.cosigned !== c.checkpoint && c.consistency.length > 0)).toBe(
      true,
    );
    expect(bundle.cosignatures.some((c) => c.cosigned === c.checkpoint)).toBe(true);
    const result = await verify(bundleFile);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = json<VerifyOutput>(result);
    expect(report.ok).toBe(true);
    expect(report.cosignatures.checkpoints).toHaveLength(bundle.checkpoints.length);
    for (const checkpoint of report.cosignatures.checkpoints)
      expect(checkpoint.cosignedBy.sort()).toEqual([w1.name, w2.name]);
    const text = await runBin(
      [
        'verify-bundle',
        bundleFile,
        '--key',
        facts.publicKeyFile,
        '--witness-key',
        w1.vkey,
        '--witness-key',
        w2.vkey,
        '--quorum',
        '2',
      ],
      { cwd: facts.root },
    );
    expect(text.stdout).toContain(
      `witness cosignatures: ${bundle.checkpoints.length} of ${bundle.checkpoints.length} checkpoint(s) cosigned by the quorum (2 of ${w1.name}, ${w2.name})`,
    );
  });

  it('without witness keys says the cosignatures were not checked', async () => {
    const result = await runBin(['verify-bundle', bundleFile, '--key', facts.publicKeyFile], {
      cwd: facts.root,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/witness cosignatures: not checked \(no witness keys/u);
    expect(result.stdout).not.toContain('cosigned by the quorum');
  });

  it('an edited cosignature fails, naming the checkpoint', async () => {
    let target = '';
    const { result, report } = await verifyEdited('edited', (b) => {
      const entry = b.cosignatures.find((c) => c.cosigned === c.checkpoint)!;
      target = entry.checkpoint;
      const line = entry.lines[0]!;
      const at = line.length - 10;
      entry.lines[0] = line.slice(0, at) + (line[at] === 'A' ? 'B' : 'A') + line.slice(at + 1);
    });
    expect(result.code).toBe(1);
    const { origin, size } = sizeOf(target);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: 'cosignature',
        checkpoint: { origin, size },
        message: expect.stringMatching(/does not verify/u),
      }),
    );
  });

  it('a removed cosignature leaves the checkpoint without its quorum, named', async () => {
    let target = '';
    const { result, report } = await verifyEdited('removed', (b) => {
      const at = b.cosignatures.findIndex((c) => c.cosigned !== c.checkpoint);
      target = b.cosignatures[at]!.checkpoint;
      b.cosignatures.splice(at, 1);
    });
    expect(result.code).toBe(1);
    const { origin, size } = sizeOf(target);
    expect(report.findings).toContainEqual({
      kind: 'cosignature',
      spanId: '',
      checkpoint: { origin, size },
      message: `checkpoint ${origin} at size ${size}: cosigned by 1 of the 2 trusted witness(es) the quorum needs (${w2.name})`,
    });
  });

  it('a cosignature by another key under a trusted witness name fails, naming the checkpoint', async () => {
    const impostor = createTestCosigner(w2.name);
    let target = '';
    const { result, report } = await verifyEdited('wrong-key', (b) => {
      const entry = b.cosignatures.find((c) => c.cosigned === c.checkpoint)!;
      target = entry.checkpoint;
      entry.lines = [impostor.cosign(noteText(entry.cosigned))];
    });
    expect(result.code).toBe(1);
    const { origin, size } = sizeOf(target);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: 'cosignature',
        checkpoint: { origin, size },
        message: expect.stringMatching(
          new RegExp(`key id [0-9a-f]{8} is not the trusted key ${w2.key.keyId}`, 'u'),
        ),
      }),
    );
  });

  it('a later checkpoint the bundle does not prove extends its checkpoint lends no cosignature', async () => {
    let target = '';
    const { result, report } = await verifyEdited('consistency', (b) => {
      const entry = b.cosignatures.find((c) => c.cosigned !== c.checkpoint)!;
      target = entry.checkpoint;
      entry.consistency[0] = entry.consistency[0]!.replace(/^./u, (c) => (c === '0' ? '1' : '0'));
    });
    expect(result.code).toBe(1);
    const { origin, size } = sizeOf(target);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: 'cosignature',
        checkpoint: { origin, size },
        message: expect.stringMatching(/does not prove that the cosigned checkpoint .* extends it/u),
      }),
    );
  });

  it('without --witness-key trusts the witnesses and quorum of decisiontrail.yaml', async () => {
    const config = path.join(facts.root, 'decisiontrail.yaml');
    writeFileSync(
      config,
      [
        'witnesses:',
        '  quorum: 2',
        '  list:',
        ...[w1, w2].map((w) => `    - { name: ${w.name}, url: "http://127.0.0.1:9/", key: "${w.vkey}" }`),
        '',
      ].join('\n'),
    );
    try {
      const result = await runBin(['verify-bundle', bundleFile, '--key', facts.publicKeyFile, '--json'], {
        cwd: facts.root,
      });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(json<VerifyOutput>(result).cosignatures.quorum).toBe(2);
      const one = await runBin(
        ['verify-bundle', bundleFile, '--key', facts.publicKeyFile, '--witness-key', w1.vkey, '--json'],
        { cwd: facts.root },
      );
      // Keys on the command line replace the configured ones, with their own default quorum of 1.
      expect(one.code).toBe(0);
      expect(json<VerifyOutput>(one).cosignatures).toMatchObject({ quorum: 1 });
    } finally {
      rmSync(config);
    }
  });

  it('a witness key that is not one refuses to run', async () => {
    const result = await verify(bundleFile, ['--witness-key', 'w+00000000+AAAA']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/--witness-key w\+00000000\+AAAA/u);
    const quorum = await verify(bundleFile, ['--witness-key', w1.vkey, '--quorum', '2']);
    expect(quorum.code).toBe(2);
  });
});
