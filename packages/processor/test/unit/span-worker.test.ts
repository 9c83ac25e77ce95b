import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, OtlpDecodeError, ProcessorError, ProcessorMetrics } from '@decisiontrail/processor';
import {
  AuditPipeline,
  BatchPreparer,
  BODY_ENCODING,
  PolicyStage,
  POLICY_APPLIED_ENCODING,
  REDACTED_VALUE,
  SpanWorker,
  type SpanWorkerInit,
} from '@decisiontrail/processor/internal';
import { ATTR_AUDIT_INPUT_CONTENT } from '@decisiontrail/semconv';
import { toJson, toProtobuf } from '../support/sdk-spans.ts';
import { decisionAttributes, makeDecisionSpans, signBatches, testKey } from '../support/signed-batches.ts';

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

  it('checks bodies on the worker, and prepares the logged bytes verified and encoded', async () => {
    for (const body of bodies) {
      expect(await worker.decode(body, BODY_ENCODING.PROTOBUF)).toEqual({
        spans: 6,
        rejected: 0,
        rejectReasons: [],
      });
    }
    const batch = await worker.prepare(
      bodies.map((body) => ({ body, encoding: BODY_ENCODING.PROTOBUF })),
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

  it('moves bodies that own their memory to the thread when asked, and copies the rest', async () => {
    const fresh = await SpanWorker.start(init(), (finding) => findings.push(finding));
    try {
      const [own, pooled] = (await signBatches(await makeDecisionSpans(6), key, 3)).map(toProtobuf);
      // One body as the write-ahead log reads them (a buffer of its own), one a slice of a larger buffer.
      const alone = new Uint8Array(new ArrayBuffer(own!.byteLength));
      alone.set(own!);
      const shared = new Uint8Array(pooled!.byteLength + 16);
      shared.set(pooled!, 8);
      const slice = shared.subarray(8, 8 + pooled!.byteLength);
      const batch = await fresh.prepare(
        [
          { body: alone, encoding: BODY_ENCODING.PROTOBUF },
          { body: slice, encoding: BODY_ENCODING.PROTOBUF },
        ],
        undefined,
        true,
      );
      expect(batch.store?.keys).toHaveLength(8);
      expect(batch.counts.spansVerified?.[0]?.value).toBe(8);
      // moved: empty here now; the slice's buffer is not its alone, so it was copied and is intact
      expect(alone.byteLength).toBe(0);
      expect(slice).toEqual(pooled);
      // without moveBodies nothing is moved
      const kept = new Uint8Array(new ArrayBuffer(own!.byteLength));
      kept.set(own!);
      await fresh.prepare([{ body: kept, encoding: BODY_ENCODING.PROTOBUF }], undefined);
      expect(kept).toEqual(own);
    } finally {
      await fresh.close();
    }
    expect(findings).toEqual([]);
  });

  it('moves a checked body to the thread and back when asked (the verdict carries it), and copies a slice', async () => {
    const [own, pooled] = (await signBatches(await makeDecisionSpans(6), key, 3)).map(toProtobuf);
    // One body as the receiver reads them (a buffer of its own), one a slice of a larger buffer.
    const alone = new Uint8Array(new ArrayBuffer(own!.byteLength));
    alone.set(own!);
    const shared = new Uint8Array(pooled!.byteLength + 16);
    shared.set(pooled!, 8);
    const slice = shared.subarray(8, 8 + pooled!.byteLength);
    const moved = await worker.decode(alone, BODY_ENCODING.PROTOBUF, true);
    expect(moved).toMatchObject({ spans: 4, rejected: 0, rejectReasons: [] });
    // moved: empty here now, and back whole in the verdict, byte for byte
    expect(alone.byteLength).toBe(0);
    expect(Buffer.from(moved.body!).equals(Buffer.from(own!))).toBe(true);
    const copied = await worker.decode(slice, BODY_ENCODING.PROTOBUF, true);
    expect(slice).toEqual(pooled);
    expect(Buffer.from(copied.body!).equals(Buffer.from(pooled!))).toBe(true);
    // without moveBody nothing moves and the verdict has no body
    const kept = new Uint8Array(new ArrayBuffer(own!.byteLength));
    kept.set(own!);
    expect(await worker.decode(kept, BODY_ENCODING.PROTOBUF)).toEqual({
      spans: 4,
      rejected: 0,
      rejectReasons: [],
    });
    expect(kept).toEqual(own);
  });

  it('answers an undecodable body with OtlpDecodeError, and a batch of one with it, and keeps serving', async () => {
    const garbage = new Uint8Array([0x0a, 0xff, 0xff]);
    const error = await worker.decode(garbage, BODY_ENCODING.PROTOBUF).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OtlpDecodeError);
    await expect(
      worker.prepare([{ body: garbage, encoding: BODY_ENCODING.PROTOBUF }], undefined),
    ).rejects.toBeInstanceOf(OtlpDecodeError);
    expect((await worker.decode(bodies[1]!, BODY_ENCODING.PROTOBUF)).spans).toBe(6);
  });
});

describe('span ids remembered to drop repeats', () => {
  it('drops a repeat within the window, by index; forgets the oldest first, a repeat not renewing its place', async () => {
    const policy = new PolicyStage({ ...stages.policy, hmacKey: undefined });
    const metrics = new ProcessorMetrics();
    const pipeline = new AuditPipeline({ stages, integrity: undefined, policy, metrics });
    const preparer = new BatchPreparer({ pipeline, policy, metrics, store: true, dedupeWindow: 3 });
    // One unsigned decision span a body: a, b, c, d.
    const [a, b, c, d] = (await Promise.all([1, 2, 3, 4].map(() => makeDecisionSpans(1)))).map((spans) => ({
      body: toProtobuf(spans),
      encoding: BODY_ENCODING.PROTOBUF,
    }));
    const stored = (batch: { store: { keys: string[] } | undefined }) => batch.store?.keys.length ?? 0;
    const first = await preparer.prepare([a!, b!, c!], undefined);
    expect([first.drops, stored(first)]).toEqual([[], 3]);
    // a again, and within one batch twice: both dropped (it stays the oldest remembered).
    const again = await preparer.prepare([d!, a!, a!], undefined);
    expect([again.drops, stored(again)]).toEqual([[1, 2], 1]);
    expect(again.counts.spansDuplicate?.[0]?.value).toBe(2);
    // a, b, c, d remembered, window 3: a (the oldest, its repeats did not renew it) is forgotten, b is not.
    const later = await preparer.prepare([a!, c!], undefined);
    expect([later.drops, stored(later)]).toEqual([[1], 1]);
    // A replay drops what the log recorded, whatever is remembered.
    const replay = await preparer.prepare([b!, c!], [0]);
    expect([replay.drops, stored(replay)]).toEqual([[0], 1]);
  });
});

describe('span worker, a drained batch that fails part-way', () => {
  it('refuses every later batch, and a restart from the state before it verifies the same spans', async () => {
    const [first, second] = (await signBatches(await makeDecisionSpans(8), key, 4)).map(toProtobuf);
    const garbage = new Uint8Array([0x0a, 0xff, 0xff]);
    const entries = [first!, second!].map((body) => ({ body, encoding: BODY_ENCODING.PROTOBUF }));
    const worker = await SpanWorker.start(init(), () => {});
    try {
      // The first entry's spans reach the verifier before the second entry fails to decode.
      await expect(
        worker.prepare(
          [entries[0]!, { body: garbage, encoding: BODY_ENCODING.PROTOBUF }, entries[1]!],
          undefined,
        ),
      ).rejects.toBeInstanceOf(OtlpDecodeError);
      const refused = await worker.prepare(entries, undefined).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ProcessorError);
      expect((refused as ProcessorError).code).toBe('CLOSED');
      expect((refused as Error).message).toContain('invalid protobuf');
    } finally {
      await worker.close();
    }
    // As the drain after a restart: the log's committed verifier state (none here), the same entries.
    const restarted = await SpanWorker.start(init(), () => {});
    try {
      const batch = await restarted.prepare(entries, undefined);
      expect(batch.drops).toEqual([]);
      expect(batch.quarantine).toEqual([]);
      expect(batch.counts.spansVerified?.[0]?.value).toBe(10);
      expect(batch.store?.keys).toHaveLength(10);
    } finally {
      await restarted.close();
    }
  });
});

describe('span worker with a policy', () => {
  const MARKER = 'plaintext-marker-5b1e';
  const redacting = init({
    policy: { ...stages.policy, redact: [ATTR_AUDIT_INPUT_CONTENT], hmacKey: undefined },
  });
  const withContent = (i: number): Record<string, string | number> => ({
    ...decisionAttributes(i),
    ...(i % 2 === 0 && { [ATTR_AUDIT_INPUT_CONTENT]: `${MARKER}-${i}` }),
  });
  const has = (bytes: Uint8Array | undefined): boolean =>
    bytes !== undefined && Buffer.from(bytes).includes(MARKER);
  let worker: SpanWorker;
  const findings: unknown[] = [];
  beforeAll(async () => {
    worker = await SpanWorker.start(redacting, (finding) => findings.push(finding));
  });
  afterAll(async () => {
    await worker.close();
  });

  it('gives the log the post-policy form of unsigned spans, and the drain stores what it says', async () => {
    const body = toProtobuf(await makeDecisionSpans(4, withContent));
    expect(has(body)).toBe(true);
    const verdict = await worker.decode(body, BODY_ENCODING.PROTOBUF);
    expect(verdict.spans).toBe(4);
    expect(verdict.logged).toBeDefined();
    expect(has(verdict.logged)).toBe(false);
    const batch = await worker.prepare(
      [{ body: verdict.logged!, encoding: POLICY_APPLIED_ENCODING }],
      undefined,
    );
    expect(batch.store?.keys).toHaveLength(4);
    expect(has(batch.store?.block)).toBe(false);
    expect(Buffer.from(batch.store!.block).includes(REDACTED_VALUE)).toBe(true);
    expect(batch.counts.spansPolicyApplied?.[0]?.value).toBe(2);
  });

  it('keeps the fast path for a body the policy changes nothing in (protobuf and JSON)', async () => {
    const spans = await makeDecisionSpans(3);
    for (const [body, encoding] of [
      [toProtobuf(spans), BODY_ENCODING.PROTOBUF],
      [toJson(spans), BODY_ENCODING.JSON],
    ] as const) {
      const verdict = await worker.decode(body, encoding);
      expect(verdict).toEqual({ spans: 3, rejected: 0, rejectReasons: [] });
    }
  });

  it('quarantines a signed span with plaintext without the plaintext, and verifies its stream by the leaves it arrived with', async () => {
    const batches = await signBatches(await makeDecisionSpans(6, withContent), key, 6);
    const body = toProtobuf(batches[0]!);
    const verdict = await worker.decode(body, BODY_ENCODING.PROTOBUF);
    expect(verdict.spans).toBe(7);
    expect(has(verdict.logged)).toBe(false);
    const batch = await worker.prepare(
      [{ body: verdict.logged!, encoding: POLICY_APPLIED_ENCODING }],
      undefined,
    );
    // Every leaf and the checkpoint verified (the checkpoint commits to the leaves as they were signed).
    expect(batch.counts.spansVerified?.[0]?.value).toBe(7);
    expect(findings).toEqual([]);
    expect(batch.quarantine.map((q) => q.code)).toEqual(Array(3).fill('POLICY_SIGNED_PLAINTEXT'));
    for (const q of batch.quarantine)
      expect(q.record.attributes[ATTR_AUDIT_INPUT_CONTENT]).toBe(REDACTED_VALUE);
    expect(batch.store?.keys).toHaveLength(4);
    const verifiers = (batch.snapshot as { verifiers: Record<string, { tree: { size: number } }> }).verifiers;
    expect(Object.values(verifiers).map((v) => v.tree.size)).toEqual([6]);
  });
});

describe('receipt worker and span worker, as the processor runs them', () => {
  const MARKER = 'plaintext-marker-9c04';
  const policy = { ...stages.policy, redact: [ATTR_AUDIT_INPUT_CONTENT], hmacKey: undefined };
  const withContent = (i: number): Record<string, string | number> => ({
    ...decisionAttributes(i),
    ...(i % 3 === 0 && { [ATTR_AUDIT_INPUT_CONTENT]: `${MARKER}-${i}` }),
  });
  let receipt: SpanWorker;
  let drain: SpanWorker;
  const findings: unknown[] = [];
  beforeAll(async () => {
    // The receipt thread has no verifier and no store: it only checks requests and applies the policy.
    receipt = await SpanWorker.start(init({ verifierKeys: undefined, store: false, policy }), () => {
      throw new Error('the receipt worker has no verifier to report from');
    });
    drain = await SpanWorker.start(init({ policy }), (finding) => findings.push(finding));
  });
  afterAll(async () => {
    await receipt.close();
    await drain.close();
  });

  it('the span worker verifies and stores, in log order, what the receipt worker let into the log', async () => {
    // Three signed requests of one stream (6 leaves + a checkpoint each), every third decision with plaintext.
    const batches = await signBatches(await makeDecisionSpans(18, withContent), key, 6);
    const logged: { body: Uint8Array; encoding: number }[] = [];
    for (const batch of batches) {
      const body = toProtobuf(batch);
      const verdict = await receipt.decode(body, BODY_ENCODING.PROTOBUF);
      expect(verdict).toMatchObject({ spans: 7, rejected: 0 });
      // What the log gets: the post-policy form where the policy changed a span, never the plaintext.
      const entry =
        verdict.logged !== undefined
          ? { body: verdict.logged, encoding: POLICY_APPLIED_ENCODING }
          : { body, encoding: BODY_ENCODING.PROTOBUF };
      expect(Buffer.from(entry.body).includes(MARKER)).toBe(false);
      logged.push(entry);
    }
    // The drain takes the log in two batches; the stream's state carries over between them.
    const first = await drain.prepare(logged.slice(0, 2), undefined);
    const second = await drain.prepare(logged.slice(2), undefined);
    expect(findings).toEqual([]);
    expect(
      (first.counts.spansVerified?.[0]?.value ?? 0) + (second.counts.spansVerified?.[0]?.value ?? 0),
    ).toBe(21);
    // Signed spans that arrived with plaintext are quarantined (without it); the rest are stored.
    const quarantined = [...first.quarantine, ...second.quarantine];
    expect(quarantined.map((q) => q.code)).toEqual(Array(6).fill('POLICY_SIGNED_PLAINTEXT'));
    expect((first.store?.keys.length ?? 0) + (second.store?.keys.length ?? 0)).toBe(15);
    const sizes = (batch: typeof first): number[] =>
      Object.values(
        (batch.snapshot as { verifiers: Record<string, { tree: { size: number } }> }).verifiers,
      ).map((v) => v.tree.size);
    expect(sizes(first)).toEqual([12]);
    expect(sizes(second)).toEqual([18]);
  });

  it('a receipt worker that stopped refuses requests, and the span worker still drains the log', async () => {
    const body = toProtobuf((await signBatches(await makeDecisionSpans(4), key, 4))[0]!);
    const own = await SpanWorker.start(init({ verifierKeys: undefined, store: false }), () => {});
    expect(own.failure).toBeUndefined();
    await own.close();
    expect(own.failure).toBeInstanceOf(ProcessorError);
    await expect(own.decode(body, BODY_ENCODING.PROTOBUF)).rejects.toMatchObject({ code: 'CLOSED' });
    const batch = await drain.prepare([{ body, encoding: BODY_ENCODING.PROTOBUF }], undefined);
    expect(batch.counts.spansVerified?.[0]?.value).toBe(5);
    expect(batch.store?.keys).toHaveLength(5);
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
    await expect(worker.decode(new Uint8Array(), BODY_ENCODING.PROTOBUF)).rejects.toMatchObject({
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
