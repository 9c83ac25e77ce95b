import { openStore, type Store } from '@decisiontrail/clickhouse';
import {
  checkCosignatures,
  noteText,
  parseCheckpoint,
  parseVerifierKey,
  type WitnessEndpoint,
} from '@decisiontrail/core';
import { ProcessorMetrics, WitnessSubmitter } from '@decisiontrail/processor';
import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestWitness, type TestWitness } from '../../../core/test/support/test-witness.ts';
import { makeDecisionSpans, signBatches, testKey } from '../support/signed-batches.ts';
import { tempDir } from '../support/test-processor.ts';

// The witness submitter on its own, over a real store holding one signed stream with checkpoints of sizes 4, 8
// and 12, against a tlog-witness that holds what each test makes it hold (core's test witness; the real
// litewitness is in test/e2e/independent-witness.test.ts).

const INTERVAL = 60_000;
let store: Store;
let removeDir: () => Promise<void>;
let origin: string;
let stream: string;
const notes = new Map<number, string>();
const producer = testKey();
const witnesses: TestWitness[] = [];

beforeAll(async () => {
  const dir = await tempDir('dt-witness-submitter-');
  removeDir = dir.remove;
  store = await openStore({ dataDir: `${dir.dir}/data` });
  const batches = await signBatches(await makeDecisionSpans(12), producer.key, 4);
  await store.insertSpans(batches.flat().map(spanRecordFromReadableSpan));
  const { heads } = await store.witnessEvidence();
  expect(heads.map((h) => h.treeSize)).toEqual([12]);
  origin = heads[0]!.origin;
  stream = heads[0]!.stream;
  for (const link of await store.checkpointLinks({ stream, fromSize: 0, toSize: 12 }))
    notes.set(link.treeSize, link.note);
  expect([...notes.keys()]).toEqual([4, 8, 12]);
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  for (const w of witnesses) await w.close();
  await store?.close();
  await removeDir?.();
});

async function witness(name: string): Promise<TestWitness> {
  const started = await startTestWitness({
    name,
    logKeys: [parseVerifierKey(producer.vkey)],
    origins: [origin],
  });
  witnesses.push(started);
  return started;
}

function submitter(list: TestWitness[], retryMaxMs = INTERVAL * 8) {
  const metrics = new ProcessorMetrics();
  const log: string[] = [];
  const instance = new WitnessSubmitter({
    witnesses: {
      list: list.map((w) => ({ name: w.cosigner.name, url: w.url, key: w.cosigner.vkey })),
      quorum: 1,
      intervalMs: INTERVAL,
      timeoutMs: 10_000,
      retryMaxMs,
    },
    store,
    metrics,
    log: (line) => log.push(line),
  });
  const count = (w: TestWitness, outcome: string) =>
    metrics.witnessSubmissions.get({ witness: w.cosigner.name, outcome });
  return { instance, log, count };
}

const rootAt = (size: number) => parseCheckpoint(noteText(notes.get(size)!)).rootHash;

async function storedLines(w: TestWitness, size: number): Promise<string[]> {
  const { cosignatures } = await store.witnessEvidence({ stream });
  return cosignatures.filter((c) => c.witness === w.cosigner.name && c.treeSize === size).map((c) => c.line);
}

describe('WitnessSubmitter', () => {
  it('submits the newest checkpoint, stores the cosignature that verifies, and does not resend it', async () => {
    const w = await witness('witness.test/fresh');
    const { instance, count } = submitter([w]);
    await instance.runOnce();
    expect(w.requests).toEqual([{ origin, oldSize: 0, size: 12, status: 200 }]);
    expect(count(w, 'cosigned')).toBe(1);
    const lines = await storedLines(w, 12);
    const key: WitnessEndpoint['key'] = w.cosigner.key;
    expect(checkCosignatures(noteText(notes.get(12)!), lines, [key]).verified).toHaveLength(1);
    await instance.runOnce();
    expect(w.requests).toHaveLength(1);
  });

  it('retries a 409 from the size the witness names, with the consistency proof from there', async () => {
    const w = await witness('witness.test/conflict');
    w.logs.set(origin, { size: 8, root: rootAt(8) });
    const { instance, count } = submitter([w]);
    await instance.runOnce();
    expect(w.requests).toEqual([
      { origin, oldSize: 0, size: 12, status: 409 },
      { origin, oldSize: 8, size: 12, status: 200 },
    ]);
    expect([count(w, 'conflict'), count(w, 'cosigned')]).toEqual([1, 1]);
    expect(w.logs.get(origin)?.size).toBe(12);
    expect(await storedLines(w, 12)).toHaveLength(1);
  });

  it('names a witness size no stored checkpoint proves from, and does not resend', async () => {
    const w = await witness('witness.test/no-proof');
    w.logs.set(origin, { size: 6, root: rootAt(8) });
    const { instance, count, log } = submitter([w]);
    await instance.runOnce();
    expect(w.requests.map((r) => r.status)).toEqual([409]);
    expect(count(w, 'no-proof')).toBe(1);
    expect(log).toContainEqual(
      `witness ${w.cosigner.name}: no stored checkpoint chain proves stream ${stream} from size 6 to 12; not submitted`,
    );
    await instance.runOnce();
    expect(w.requests).toHaveLength(1);
    expect(await storedLines(w, 12)).toEqual([]);
  });

  it('counts a refused consistency proof as bad-proof and logs the rewritten history', async () => {
    const w = await witness('witness.test/other-tree');
    w.logs.set(origin, { size: 8, root: rootAt(4) });
    const { instance, count, log } = submitter([w]);
    await instance.runOnce();
    expect(w.requests.map((r) => [r.oldSize, r.status])).toEqual([
      [0, 409],
      [8, 422],
    ]);
    expect(count(w, 'bad-proof')).toBe(1);
    expect(log.some((line) => line.includes(`refused stream ${stream} at size 12`))).toBe(true);
    expect(await storedLines(w, 12)).toEqual([]);
    expect(w.logs.get(origin)?.size).toBe(8);
  });

  it('backs off a witness that is down (doubling up to retryMaxMs) without holding up the others', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const down = await witness('witness.test/down');
    const up = await witness('witness.test/up');
    down.down = true;
    const { instance, count } = submitter([down, up], INTERVAL * 2);
    await instance.runOnce();
    expect([count(down, 'unreachable'), count(up, 'cosigned')]).toEqual([1, 1]);
    // Within the first wait (half to all of intervalMs) nothing is sent to it.
    await instance.runOnce();
    expect(count(down, 'unreachable')).toBe(1);
    vi.setSystemTime(start + INTERVAL);
    await instance.runOnce();
    expect(count(down, 'unreachable')).toBe(2);
    // The second wait is drawn from [1, 2] × intervalMs: not over before one interval.
    vi.setSystemTime(start + 2 * INTERVAL - 1);
    await instance.runOnce();
    expect(count(down, 'unreachable')).toBe(2);
    vi.setSystemTime(start + 3 * INTERVAL);
    await instance.runOnce();
    expect(count(down, 'unreachable')).toBe(3);
    // retryMaxMs caps the step at 2 × intervalMs: two intervals later it is asked again, and it is back.
    down.down = false;
    vi.setSystemTime(start + 5 * INTERVAL);
    await instance.runOnce();
    expect(count(down, 'cosigned')).toBe(1);
    expect(await storedLines(down, 12)).toHaveLength(1);
    // The healthy witness was asked once: its cosignature is stored, nothing more to send.
    expect(up.requests).toHaveLength(1);
  });
});
