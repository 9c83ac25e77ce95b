import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@decisiontrail/clickhouse';
import { verifySpans } from '@decisiontrail/core';
import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import type { SpanRecord } from '@decisiontrail/core';
import { spawnProcessor } from '../support/child-process.ts';
import type { ChildProcessor } from '../support/child-process.ts';
import { toProtobuf } from '../support/sdk-spans.ts';
import { ATTR_AUDIT_INPUT_CAPTURE_MODE, ATTR_AUDIT_INPUT_CONTENT } from '@decisiontrail/semconv';
import { decisionAttributes, makeDecisionSpans, signBatches, testKey } from '../support/signed-batches.ts';
import { tempDir, waitFor } from '../support/test-processor.ts';

const SPANS = 4000;
const BATCH = 50;

async function post(url: string, body: Uint8Array): Promise<number> {
  try {
    const res = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // connection refused or reset: the process is gone, nothing was acknowledged
  }
}

async function queueEmpty(url: string): Promise<boolean> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return /^decisiontrail_processor_queue_entries 0$/m.test(text);
}

async function query<T>(url: string, name: string, params: unknown): Promise<T> {
  const res = await fetch(`${url}/v1/query/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  const body = (await res.json()) as { result: T };
  expect(res.status).toBe(200);
  return body.result;
}

describe('crash recovery', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  const children: ChildProcessor[] = [];
  beforeAll(async () => {
    temp = await tempDir('dt-crash-');
  });
  afterAll(async () => {
    for (const c of children)
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await temp.remove();
  });

  it('loses nothing acknowledged when killed with SIGKILL under load; each span is stored once', async () => {
    const { key, vkey } = testKey();
    await mkdir(path.join(temp.dir, 'keys'));
    await writeFile(path.join(temp.dir, 'keys', 'test.vkey'), `${vkey}\n`);
    const configFile = path.join(temp.dir, 'decisiontrail.yaml');
    await writeFile(
      configFile,
      'storage: { dataDir: data }\nkeys: { dir: keys }\nprocessor: { receiver: { port: 0 }, queue: { drainBatchSpans: 500 } }\n',
    );
    const batches = await signBatches(await makeDecisionSpans(SPANS), key, BATCH);
    const bodies = batches.map(toProtobuf);
    const stream = spanRecordFromReadableSpan(batches[0]![0]!).attributes['audit.integrity.stream']!;

    // First life: load with 4 concurrent clients, SIGKILL after about half the batches were acknowledged.
    const first = await spawnProcessor(configFile);
    children.push(first);
    const acked = new Set<number>();
    let next = 0;
    const client = async (): Promise<void> => {
      while (next < bodies.length) {
        const i = next++;
        if ((await post(first.url, bodies[i]!)) === 200) acked.add(i);
        if (acked.size === Math.floor(bodies.length / 2)) first.child.kill('SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: 4 }, client));
    expect(await first.exited).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(bodies.length / 2);
    expect(acked.size).toBeLessThan(bodies.length);

    // Second life: replay the log; the app retries what was not acknowledged, plus the last acknowledged
    // batches before the crash, whose acknowledgement it "lost" (duplicates).
    const second = await spawnProcessor(configFile);
    children.push(second);
    const retries = [...bodies.keys()].filter((i) => !acked.has(i)).concat([...acked].slice(-5));
    for (const i of retries) expect(await post(second.url, bodies[i]!)).toBe(200);
    await waitFor(() => queueEmpty(second.url), 60_000);

    const records = await query<SpanRecord[]>(second.url, 'spansForVerification', { stream });
    const ids = records.map((r) => r.spanId);
    expect(new Set(ids).size).toBe(ids.length);
    const expected = batches.flat().map((s) => s.spanContext().spanId);
    const missing = expected.filter((id) => !ids.includes(id));
    expect(missing).toEqual([]);
    expect(await query<unknown[]>(second.url, 'listQuarantine', {})).toEqual([]);
    const report = verifySpans(records, { publicKeys: [vkey] });
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.verifiedSize).toBe(SPANS);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // Not only the deduplicating reads: the raw table holds each span once, though the log was replayed and
    // acknowledged batches were sent again after the restart.
    const store = await openStore({ dataDir: path.join(temp.dir, 'data'), migrate: false });
    try {
      const [raw] = await (
        await store.client.query({
          query: 'SELECT count() AS rows, uniqExact(SpanId) AS spans FROM otel_traces',
          format: 'JSONEachRow',
        })
      ).json<{ rows: string; spans: string }>();
      expect({ rows: Number(raw!.rows), spans: Number(raw!.spans) }).toEqual({
        rows: expected.length,
        spans: expected.length,
      });
    } finally {
      await store.close();
    }
  });

  it('with a redact policy, replays the post-policy log entries after SIGKILL: nothing lost, nothing in plaintext', async () => {
    const dir = path.join(temp.dir, 'policy');
    await mkdir(dir);
    const configFile = path.join(dir, 'decisiontrail.yaml');
    await writeFile(
      configFile,
      'storage: { dataDir: data }\nprocessor: { receiver: { port: 0 }, queue: { dir: queue, drainBatchSpans: 500 }, ' +
        `stages: { policy: { redact: [${ATTR_AUDIT_INPUT_CONTENT}] } } }\n`,
    );
    const secret = 'QZcrashplaintextmarker';
    const spans = await makeDecisionSpans(SPANS, (i) => ({
      ...decisionAttributes(i),
      [ATTR_AUDIT_INPUT_CAPTURE_MODE]: 'full',
      [ATTR_AUDIT_INPUT_CONTENT]: `${secret} ${i}`,
    }));
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < spans.length; i += BATCH) bodies.push(toProtobuf(spans.slice(i, i + BATCH)));
    const queueHolds = async (): Promise<string[]> => {
      const names = await readdir(path.join(dir, 'queue'));
      const found: string[] = [];
      for (const name of names)
        if ((await readFile(path.join(dir, 'queue', name))).includes(secret)) found.push(name);
      return found;
    };

    const first = await spawnProcessor(configFile);
    children.push(first);
    const acked = new Set<number>();
    let next = 0;
    const client = async (): Promise<void> => {
      while (next < bodies.length) {
        const i = next++;
        if ((await post(first.url, bodies[i]!)) === 200) acked.add(i);
        if (acked.size === Math.floor(bodies.length / 2)) first.child.kill('SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: 4 }, client));
    expect(await first.exited).toBe('SIGKILL');
    // Killed with acknowledged requests in the log: they are there without the plaintext.
    const logged = await Promise.all(
      (await readdir(path.join(dir, 'queue')))
        .filter((name) => name.endsWith('.wal'))
        .map(async (name) => (await stat(path.join(dir, 'queue', name))).size),
    );
    expect(logged.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(await queueHolds()).toEqual([]);

    const second = await spawnProcessor(configFile);
    children.push(second);
    for (const i of [...bodies.keys()].filter((i) => !acked.has(i)))
      expect(await post(second.url, bodies[i]!)).toBe(200);
    await waitFor(() => queueEmpty(second.url), 60_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(await queueHolds()).toEqual([]);

    const store = await openStore({ dataDir: path.join(dir, 'data'), migrate: false });
    try {
      const [stored] = await (
        await store.client.query({
          query: `SELECT uniqExact(SpanId) AS spans,
                    countIf(SpanAttributes['${ATTR_AUDIT_INPUT_CONTENT}'] != '[REDACTED]') AS plaintext
                  FROM otel_traces`,
          format: 'JSONEachRow',
        })
      ).json<{ spans: string; plaintext: string }>();
      // Unsigned repeats of a request resent across the restart may be stored twice; reads remove them by id.
      expect({ spans: Number(stored!.spans), plaintext: Number(stored!.plaintext) }).toEqual({
        spans: SPANS,
        plaintext: 0,
      });
    } finally {
      await store.close();
    }
  });
});
