import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, OtlpDecodeError, ProcessorError } from '@decisiontrail/processor';
import { BODY_ENCODING, SpanWorker, type SpanWorkerInit } from '@decisiontrail/processor/internal';
import { toProtobuf } from '../support/sdk-spans.ts';
import { makeDecisionSpans, signBatches, testKey } from '../support/signed-batches.ts';

const { key, vkey } = testKey();
const stages = defaultConfig().processor.stages;

function init(overrides: Partial<SpanWorkerInit> = {}): SpanWorkerInit {
  return {
    stages,
    verifierKeys: [vkey],
    verifierState: undefined,
    policy: { ...stages.policy, hmacKey: undefined },
    store: true,
    ...overrides,
  };
}

describe('span worker thread', () => {
  let worker: SpanWorker;
  let bodies: Uint8Array[];
  const findings: unknown[] = [];

  beforeAll(async () => {
    worker = await SpanWorker.start(init(), (finding) => findings.push(finding));
    // Two signed requests of 5 decisions: each is 5 leaves and a checkpoint span.
    const batches = await signBatches(await makeDecisionSpans(10), key, 5);
    bodies = batches.map((batch) => toProtobuf(batch));
  });
  afterAll(async () => {
    await worker.close();
  });

  it('decodes on the worker, keeps the spans it was asked to keep, and prepares them verified and encoded', async () => {
    const first = await worker.decode(bodies[0]!, BODY_ENCODING.PROTOBUF, true);
    expect(first).toMatchObject({ spans: 6, rejected: 0 });
    expect(first.memo).toBeTypeOf('number');
    // Not kept: the drain sends the logged bytes instead.
    const second = await worker.decode(bodies[1]!, BODY_ENCODING.PROTOBUF, false);
    expect(second.memo).toBeUndefined();
    const batch = await worker.prepare(
      [{ memo: first.memo! }, { body: bodies[1]!, encoding: BODY_ENCODING.PROTOBUF }],
      undefined,
    );
    expect(batch.drops).toEqual([]);
    expect(batch.quarantine).toEqual([]);
    expect(batch.store?.keys).toHaveLength(12);
    expect(batch.store?.block.byteLength).toBeGreaterThan(0);
    // Counted on the worker, handed over with the batch, and not counted twice.
    expect(batch.counts.spansVerified?.[0]?.value).toBe(12);
    const snapshot = batch.snapshot as { verifiers: Record<string, unknown> };
    expect(Object.keys(snapshot.verifiers)).toHaveLength(1);

    // The same spans again are repeats of remembered span ids: dropped, by index.
    const again = await worker.prepare([{ body: bodies[0]!, encoding: BODY_ENCODING.PROTOBUF }], undefined);
    expect(again.drops).toEqual([0, 1, 2, 3, 4, 5]);
    expect(again.store).toBeUndefined();
    expect(again.counts.spansDuplicate?.[0]?.value).toBe(6);
    expect(again.counts.spansVerified).toBeUndefined();
    expect(findings).toEqual([]);
  });

  it('answers an undecodable body with OtlpDecodeError and keeps nothing of it', async () => {
    const error = await worker
      .decode(new Uint8Array([0x0a, 0xff, 0xff]), BODY_ENCODING.PROTOBUF, true)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OtlpDecodeError);
  });

  it('fails a batch naming kept spans that were forgotten or already used', async () => {
    const kept = await worker.decode(bodies[0]!, BODY_ENCODING.PROTOBUF, true);
    worker.forget(kept.memo!);
    await expect(worker.prepare([{ memo: kept.memo! }], undefined)).rejects.toThrow(/no decoded spans kept/);
    // The worker is still serving.
    expect((await worker.decode(bodies[1]!, BODY_ENCODING.PROTOBUF, false)).spans).toBe(6);
  });
});

describe('span worker start', () => {
  it('rejects a persisted verifier state it cannot read with WAL_CORRUPT, as the processor would', async () => {
    const error = await SpanWorker.start(init({ verifierState: 'not an object' }), () => {}).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProcessorError);
    expect(error).toMatchObject({ code: 'WAL_CORRUPT' });
  });

  it('fails calls after it was closed', async () => {
    const worker = await SpanWorker.start(init(), () => {});
    await worker.close();
    await expect(worker.decode(new Uint8Array(), BODY_ENCODING.PROTOBUF, false)).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });
});

describe('span worker in a process started with V8 flags', () => {
  it('starts: the worker inherits flags a worker may not be given explicitly', async () => {
    const script = fileURLToPath(new URL('../support/start-span-worker.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--conditions=@decisiontrail/source',
      '--max-semi-space-size=8',
      script,
    ]);
    expect(stdout.trim()).toBe('started');
  });
});
