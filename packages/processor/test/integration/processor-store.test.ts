import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@decisiontrail/clickhouse';
import type { Store } from '@decisiontrail/clickhouse';
import { SERVE_FILE, auditStoreFrom, startProcessor } from '@decisiontrail/processor';
import type { DecisionTrailConfig, ProcessorHandle } from '@decisiontrail/processor';
import { REDACTED_VALUE } from '@decisiontrail/processor/internal';
import {
  ATTR_AUDIT_COMPLETENESS_MISSING,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INPUT_HASH_KEY_ID,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_USER_ID,
} from '@decisiontrail/semconv';
import { verifySpans } from '@decisiontrail/core';
import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import type { SigningKey } from '@decisiontrail/core';
import { recordSpans, toJson, toProtobuf } from '../support/sdk-spans.ts';
import { decisionAttributes, makeDecisionSpans, signBatches, testKey } from '../support/signed-batches.ts';
import { postTraces, tempDir, testConfig, waitFor } from '../support/test-processor.ts';

const HMAC_KEY_HEX = '11'.repeat(32);

describe('processor with the embedded store', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let store: Store;
  let processor: ProcessorHandle;
  let config: DecisionTrailConfig;
  let key: SigningKey;
  let vkey: string;

  const stored = (): number => processor.metrics.spansStored.get({ sink: 'clickhouse' });
  const quarantined = (): number => processor.metrics.spansStored.get({ sink: 'quarantine' });

  async function attributesOf(spanId: string): Promise<Record<string, string> | undefined> {
    const result = await store.client.query({
      query: 'SELECT SpanAttributes FROM otel_traces WHERE SpanId = {id:String} LIMIT 1',
      query_params: { id: spanId },
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ SpanAttributes: Record<string, string> }>();
    return rows[0]?.SpanAttributes;
  }

  async function query(
    name: string,
    params: unknown,
  ): Promise<{ status: number; body: { result?: unknown; error?: { code: string } } }> {
    const res = await fetch(`${processor.url}/v1/query/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
    });
    return { status: res.status, body: (await res.json()) as { result?: unknown; error?: { code: string } } };
  }

  beforeAll(async () => {
    temp = await tempDir('dt-proc-store-');
    ({ key, vkey } = testKey());
    await mkdir(path.join(temp.dir, 'keys'), { recursive: true });
    await writeFile(path.join(temp.dir, 'keys', 'test.vkey'), `${vkey}\n`);
    await writeFile(path.join(temp.dir, 'keys', 'hmac.key'), `${HMAC_KEY_HEX}\n`);
    config = testConfig(
      temp.dir,
      `storage: { dataDir: data }
keys: { dir: keys }
processor:
  stages:
    policy: { hash: [${ATTR_AUDIT_INPUT_CONTENT}], redact: [${ATTR_USER_ID}] }
  queue: { drainBatchSpans: 1000 }`,
    );
    store = await openStore({ dataDir: config.storage.dataDir });
    processor = await startProcessor(config, {
      store: auditStoreFrom(store, { owned: false, batchSpans: 1000 }),
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await processor.close();
    await store.close();
    await temp.remove();
  });

  it('verifies signed protobuf batches and stores them so the stored stream still verifies', async () => {
    const batches = await signBatches(await makeDecisionSpans(60), key, 20);
    const before = stored();
    for (const batch of batches)
      expect((await postTraces(processor.url, toProtobuf(batch))).status).toBe(200);
    await waitFor(() => stored() - before === 63);
    expect(processor.metrics.spansVerified.get()).toBeGreaterThanOrEqual(63);
    const stream = spanRecordFromReadableSpan(batches[0]![0]!).attributes['audit.integrity.stream']!;
    const records = await store.spansForVerification({ stream });
    expect(records).toHaveLength(63);
    const report = verifySpans(records, { publicKeys: [vkey] });
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.verifiedSize).toBe(60);
  });

  it('quarantines a span modified in transit, with the reason, and never stores it with the verified ones', async () => {
    const [batch] = await signBatches(await makeDecisionSpans(10), key, 10);
    const request = JSON.parse(new TextDecoder().decode(toJson(batch!))) as {
      resourceSpans: {
        scopeSpans: {
          spans: { spanId: string; attributes: { key: string; value: { stringValue?: string } }[] }[];
        }[];
      }[];
    };
    const victim = request.resourceSpans[0]!.scopeSpans[0]!.spans[4]!;
    victim.attributes.find((a) => a.key === ATTR_AUDIT_DECISION_OUTCOME)!.value = {
      stringValue: 'approve-by-attacker',
    };
    const [storedBefore, quarantinedBefore] = [stored(), quarantined()];
    const res = await postTraces(processor.url, JSON.stringify(request), {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(200);
    await waitFor(() => stored() - storedBefore === 10 && quarantined() - quarantinedBefore === 1);
    const entries = await store.listQuarantine({ code: 'modified' });
    expect(entries.map((e) => e.record.spanId)).toContain(victim.spanId);
    expect(entries.find((e) => e.record.spanId === victim.spanId)!.reason).toMatch(
      /differs from its committed leaf/,
    );
    expect(await attributesOf(victim.spanId)).toBeUndefined();
  });

  it('hashes and redacts plaintext on unsigned spans, and quarantines signed spans that carry it', async () => {
    const unsigned = await makeDecisionSpans(1, (i) => ({
      ...decisionAttributes(i),
      [ATTR_AUDIT_INPUT_CONTENT]: 'my salary is 52k',
      [ATTR_USER_ID]: 'alice@example.com',
    }));
    const [signed] = await signBatches(
      await makeDecisionSpans(1, (i) => ({
        ...decisionAttributes(i),
        [ATTR_AUDIT_INPUT_CONTENT]: 'plaintext',
      })),
      key,
      1,
    );
    const [storedBefore, quarantinedBefore] = [stored(), quarantined()];
    expect((await postTraces(processor.url, toProtobuf(unsigned))).status).toBe(200);
    expect((await postTraces(processor.url, toProtobuf(signed!))).status).toBe(200);
    // The unsigned span and the signed batch's checkpoint are stored; the signed leaf is quarantined.
    await waitFor(() => stored() - storedBefore === 2 && quarantined() - quarantinedBefore === 1);
    const attrs = (await attributesOf(unsigned[0]!.spanContext().spanId))!;
    expect(attrs[ATTR_AUDIT_INPUT_CONTENT]).toBeUndefined();
    expect(attrs[ATTR_AUDIT_INPUT_HASH]).toMatch(/^[0-9a-f]{64}$/);
    expect(attrs[ATTR_AUDIT_INPUT_HASH_KEY_ID]).toMatch(/^[0-9a-f]{16}$/);
    expect(attrs[ATTR_USER_ID]).toBe(REDACTED_VALUE);
    const entries = await store.listQuarantine({ code: 'POLICY_SIGNED_PLAINTEXT' });
    expect(entries.map((e) => e.record.spanId)).toContain(signed![0]!.spanContext().spanId);
    expect(processor.metrics.spansPolicyApplied.get()).toBeGreaterThanOrEqual(1);
  });

  it('records missing required attributes on the span without breaking its signature', async () => {
    const incomplete = (i: number): Record<string, string | number> => {
      const attrs = decisionAttributes(i);
      delete attrs[ATTR_AUDIT_MODEL_VERSION];
      return attrs;
    };
    const [batch] = await signBatches(await makeDecisionSpans(3, incomplete), key, 3);
    const before = stored();
    expect((await postTraces(processor.url, toProtobuf(batch!))).status).toBe(200);
    await waitFor(() => stored() - before === 4);
    const attrs = (await attributesOf(batch![0]!.spanContext().spanId))!;
    expect(attrs[ATTR_AUDIT_COMPLETENESS_MISSING]).toBe(JSON.stringify([ATTR_AUDIT_MODEL_VERSION]));
    expect(processor.metrics.spansIncomplete.get()).toBeGreaterThanOrEqual(3);
    const stream = spanRecordFromReadableSpan(batch![0]!).attributes['audit.integrity.stream']!;
    expect(verifySpans(await store.spansForVerification({ stream }), { publicKeys: [vkey] }).ok).toBe(true);
  });

  it('routes non-audit spans away from the audit store (route.other: drop)', async () => {
    const spans = await recordSpans((tracer) => tracer.startSpan('GET /healthz').end());
    const before = processor.metrics.spansAccepted.get();
    expect((await postTraces(processor.url, toProtobuf(spans))).status).toBe(200);
    await waitFor(() => processor.metrics.spansAccepted.get() === before + 1);
    await waitFor(async () =>
      (await (await fetch(`${processor.url}/metrics`)).text()).includes(
        'decisiontrail_processor_queue_entries 0',
      ),
    );
    expect(await attributesOf(spans[0]!.spanContext().spanId)).toBeUndefined();
  });

  it('stores signed non-audit spans too, so their stream stays complete and verifies', async () => {
    const plain = await recordSpans((tracer) => tracer.startSpan('GET /loans/42').end());
    const [batch] = await signBatches([...plain, ...(await makeDecisionSpans(2))], key, 3);
    const before = stored();
    expect((await postTraces(processor.url, toProtobuf(batch!))).status).toBe(200);
    await waitFor(() => stored() - before === 4);
    expect(await attributesOf(plain[0]!.spanContext().spanId)).toBeDefined();
    const stream = spanRecordFromReadableSpan(batch![0]!).attributes['audit.integrity.stream']!;
    expect(verifySpans(await store.spansForVerification({ stream }), { publicKeys: [vkey] }).ok).toBe(true);
  });

  it('publishes serve.json and answers whitelisted store queries for other processes', async () => {
    const serve = JSON.parse(readFileSync(path.join(config.storage.dataDir, SERVE_FILE), 'utf8')) as {
      pid: number;
      url: string;
    };
    expect(serve).toEqual({ pid: process.pid, url: processor.url });
    const ok = await query('spansForVerification', { from: '2000-01-01T00:00:00Z' });
    expect(ok.status).toBe(200);
    expect((ok.body.result as unknown[]).length).toBeGreaterThan(60);
    expect(await query('dropAllTables', {})).toMatchObject({
      status: 404,
      body: { error: { code: 'QUERY_UNKNOWN' } },
    });
    expect(await query('getIncident', { incidentId: 'nope' })).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    expect((await query('subjectDecisions', { subjectId: 'x', from: 'not a date' })).status).toBe(400);
    const bad = await fetch(`${processor.url}/v1/query/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[',
    });
    expect(bad.status).toBe(400);
  });

  it('answers malformed parameters of every query with 400 naming the parameter, and stores nothing', async () => {
    const post = async (name: string, body: string): Promise<{ status: number; message: string }> => {
      const res = await fetch(`${processor.url}/v1/query/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const answer = (await res.json()) as { error?: { code: string; message: string } };
      return { status: res.status, message: `${answer.error?.code}: ${answer.error?.message}` };
    };
    const names = [
      'decisionTimeline',
      'timelineWithEvidence',
      'timelineEvidence',
      'subjectDecisions',
      'decisions',
      'oversightRates',
      'accuracy',
      'confidenceDistribution',
      'fairnessDisparity',
      'periodReport',
      'driftSignal',
      'degradationSignal',
      'adversarialSignals',
      'createIncident',
      'getIncident',
      'listIncidents',
      'updateIncident',
      'listQuarantine',
      'recordErasure',
      'listErasures',
      'spansForVerification',
    ];
    for (const name of names) {
      expect([name, await post(name, '{"nope":1}')]).toEqual([
        name,
        { status: 400, message: 'QUERY_INVALID: nope: unknown parameter' },
      ]);
    }
    const incidents = (await query('listIncidents', {})).body.result as unknown[];
    const erasures = (await query('listErasures', {})).body.result as unknown[];
    // JSON text can carry a lone surrogate as an escape; the parsed string then holds it.
    expect(
      await post('createIncident', '{"title":"t\\ud800","severity":"high","category":"malfunction"}'),
    ).toEqual({
      status: 400,
      message: 'QUERY_INVALID: title: must be well-formed Unicode (it holds an unpaired surrogate)',
    });
    expect(await post('recordErasure', '{"subjectId":"s","keyIds":["k","\\udc00"]}')).toEqual({
      status: 400,
      message: 'QUERY_INVALID: keyIds[1]: must be well-formed Unicode (it holds an unpaired surrogate)',
    });
    expect(await post('decisions', '{}')).toEqual({
      status: 400,
      message: 'QUERY_INVALID: from: is required',
    });
    expect(await post('decisions', '{"from":0,"to":"2030-01-01","limit":"10"}')).toEqual({
      status: 400,
      message: 'QUERY_INVALID: limit: must be an integer',
    });
    expect((await query('listIncidents', {})).body.result).toEqual(incidents);
    expect((await query('listErasures', {})).body.result).toEqual(erasures);
  });

  it('drains what was acknowledged on close and removes serve.json', async () => {
    const batches = await signBatches(await makeDecisionSpans(200), key, 50);
    const before = stored();
    await Promise.all(batches.map((b) => postTraces(processor.url, toProtobuf(b))));
    await processor.close();
    expect(stored() - before).toBe(204);
    expect(existsSync(path.join(config.storage.dataDir, SERVE_FILE))).toBe(false);
  });
});
