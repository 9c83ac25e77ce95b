import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, ProcessorMetrics } from '@decisiontrail/processor';
import { BODY_ENCODING, QueueDrainer, SpanWorker, WriteAheadLog } from '@decisiontrail/processor/internal';
import { countRows, openTempStore } from '../../../clickhouse/test/support/temp-store.ts';
import { toProtobuf } from '../support/sdk-spans.ts';
import { makeDecisionSpans, signBatches, testKey } from '../support/signed-batches.ts';

const { key, vkey } = testKey();
const stages = defaultConfig().processor.stages;
/** Each request is 5 decisions and their checkpoint span, and each drained batch one request. */
const SPANS_PER_REQUEST = 6;

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('QueueDrainer', () => {
  let temp: Awaited<ReturnType<typeof openTempStore>>;
  let walDir: string;
  let bodies: Uint8Array[];

  beforeAll(async () => {
    temp = await openTempStore();
    walDir = await mkdtemp(path.join(os.tmpdir(), 'dt-drainer-'));
    const batches = await signBatches(await makeDecisionSpans(20), key, 5);
    bodies = batches.map((batch) => toProtobuf(batch));
  });
  afterAll(async () => {
    await temp.cleanup();
    await rm(walDir, { recursive: true, force: true });
  });

  it('prepares and stores the next batches while a commit waits on the disk, and commits in log order', async () => {
    const wal = await WriteAheadLog.open({ dir: walDir, segmentBytes: 1 << 20 });
    for (const body of bodies) await wal.append(BODY_ENCODING.PROTOBUF, body, SPANS_PER_REQUEST);
    // The first commit is held as a slow disk would hold its fsyncs; the log's own commit runs once released.
    const commit = wal.commit.bind(wal);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const committed: number[] = [];
    let calls = 0;
    wal.commit = async (count, state) => {
      const call = ++calls;
      if (call === 1) await held;
      await commit(count, state);
      committed.push(call);
    };
    const worker = await SpanWorker.start(
      {
        stages,
        verifierKeys: [vkey],
        verifierState: undefined,
        policy: { ...stages.policy, hmacKey: undefined },
        store: true,
      },
      () => {},
    );
    const sink = temp.store.createSink({ maxBatchSize: 1000, maxBufferedRows: 100_000, flushIntervalMs: 1 });
    const drainer = new QueueDrainer({
      wal,
      worker,
      store: { name: 'clickhouse', writeEncoded: (spans) => sink.writeEncoded(spans) },
      quarantine: undefined,
      forward: undefined,
      metrics: new ProcessorMetrics(),
      batchSpans: SPANS_PER_REQUEST,
      retryInitialMs: 10,
      retryMaxMs: 100,
    });
    try {
      drainer.start();
      // Three of the four batches reach the store while the first batch's commit has not been written.
      await until(async () => (await countRows(temp.store, 'otel_traces')) >= 3 * SPANS_PER_REQUEST);
      expect(committed).toEqual([]);
      release();
      await until(async () => committed.length === bodies.length);
      expect(committed).toEqual([1, 2, 3, 4]);
      expect(await countRows(temp.store, 'otel_traces')).toBe(bodies.length * SPANS_PER_REQUEST);
      await drainer.stop(5_000);
    } finally {
      release();
      await sink.close();
      await worker.close();
      await wal.close();
    }
    // Everything was committed: a restart has nothing to replay.
    const reopened = await WriteAheadLog.open({ dir: walDir, segmentBytes: 1 << 20 });
    expect(reopened.take(Number.MAX_SAFE_INTEGER)).toEqual([]);
    await reopened.close();
  });
});
