// Quarantine in view at the processor: malformed audit identifiers are quarantined with a reason at ingest (never
// stored where no lookup reaches them), and the route stage's drops and the policy stage's actions are counted on
// /metrics by reason — all through the real receiver, worker, write-ahead log and embedded store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@decisiontrail/clickhouse';
import type { Store } from '@decisiontrail/clickhouse';
import { auditStoreFrom, startProcessor } from '@decisiontrail/processor';
import type { ProcessorHandle } from '@decisiontrail/processor';
import {
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_USER_ID,
} from '@decisiontrail/semconv';
import { verifySpans } from '@decisiontrail/core';
import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { recordSpans, toProtobuf } from '../support/sdk-spans.ts';
import { decisionAttributes, makeDecisionSpans, signBatches, testKey } from '../support/signed-batches.ts';
import { postTraces, tempDir, testConfig, waitFor } from '../support/test-processor.ts';

describe('quarantine in view at the processor', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let store: Store;
  let processor: ProcessorHandle;
  const { key, vkey } = testKey();

  const handled = (): number =>
    processor.metrics.spansStored.get({ sink: 'clickhouse' }) +
    processor.metrics.spansStored.get({ sink: 'quarantine' });
  const metricsText = async (): Promise<string> => (await fetch(`${processor.url}/metrics`)).text();
  async function storedIds(): Promise<string[]> {
    const result = await store.client.query({
      query: `SELECT SpanAttributes['${ATTR_AUDIT_DECISION_ID}'] AS id FROM otel_traces`,
      format: 'JSONEachRow',
    });
    return (await result.json<{ id: string }>()).map((row) => row.id);
  }

  beforeAll(async () => {
    temp = await tempDir('dt-proc-quarantine-');
    await mkdir(path.join(temp.dir, 'keys'), { recursive: true });
    await writeFile(path.join(temp.dir, 'keys', 'test.vkey'), `${vkey}\n`);
    await writeFile(path.join(temp.dir, 'keys', 'hmac.key'), `${'22'.repeat(32)}\n`);
    const config = testConfig(
      temp.dir,
      `storage: { dataDir: data }
keys: { dir: keys }
processor:
  stages:
    policy: { hash: [${ATTR_AUDIT_INPUT_CONTENT}], redact: [${ATTR_USER_ID}] }`,
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

  it('quarantines audit records whose audit.decision.id no lookup could reach, with the reason', async () => {
    const ids = [
      'not-a-uuid',
      '019AB3F0-0000-7000-8000-00000000000A',
      '',
      ' 019ab3f0-0000-7000-8000-00000000000b',
    ];
    const spans = await makeDecisionSpans(ids.length + 1, (i) => ({
      ...decisionAttributes(i),
      ...(i < ids.length && { [ATTR_AUDIT_DECISION_ID]: ids[i]! }),
    }));
    const wellFormed = spanRecordFromReadableSpan(spans[ids.length]!).attributes[ATTR_AUDIT_DECISION_ID]!;
    const before = handled();
    expect((await postTraces(processor.url, toProtobuf(spans))).status).toBe(200);
    await waitFor(() => handled() - before === spans.length);

    expect(await storedIds()).toEqual([wellFormed]);
    const quarantined = await store.listQuarantine({ code: 'MALFORMED_DECISION_ID' });
    expect(quarantined.map((entry) => entry.record.attributes[ATTR_AUDIT_DECISION_ID]).sort()).toEqual(
      [...ids].sort(),
    );
    const notUuid = quarantined.find(
      (entry) => entry.record.attributes[ATTR_AUDIT_DECISION_ID] === 'not-a-uuid',
    )!;
    expect(notUuid.reason).toBe(
      'audit.decision.id "not-a-uuid" is not a UUID in lowercase 8-4-4-4-12 hex form: no investigation could look the record up by it',
    );
    expect(processor.metrics.spansQuarantined.get({ reason: 'MALFORMED_DECISION_ID' })).toBe(ids.length);
  });

  it('a signed span quarantined for its identifier: its stream names that seq missing, the quarantine holds it', async () => {
    const spans = await makeDecisionSpans(3, (i) => ({
      ...decisionAttributes(i),
      ...(i === 1 && { [ATTR_AUDIT_DECISION_ID]: 'not-a-uuid-either' }),
    }));
    const [batch] = await signBatches(spans, key, 3);
    const before = handled();
    expect((await postTraces(processor.url, toProtobuf(batch!))).status).toBe(200);
    await waitFor(() => handled() - before === batch!.length);
    const stream = spanRecordFromReadableSpan(batch![0]!).attributes[ATTR_AUDIT_INTEGRITY_STREAM]!;
    const [entry] = (await store.listQuarantine({ code: 'MALFORMED_DECISION_ID' })).filter(
      (e) => e.stream === stream,
    );
    expect(entry!.record.attributes[ATTR_AUDIT_DECISION_ID]).toBe('not-a-uuid-either');
    // The verifier took its leaf before it was set aside, so the stored stream names it as missing — the quarantine
    // says where it went — and everything else verifies.
    const report = verifySpans(await store.spansForVerification({ stream }), { publicKeys: [vkey] });
    expect(report.streams[0]!.findings.map((finding) => [finding.code, finding.ranges])).toEqual([
      ['missing', [[1, 2]]],
    ]);
  });

  it('counts what the route stage drops and what the policy changes, by reason', async () => {
    const plain = await recordSpans((tracer) => {
      tracer.startSpan('GET /healthz').end();
      tracer.startSpan('GET /readyz').end();
    });
    const withPlaintext = await makeDecisionSpans(2, (i) => ({
      ...decisionAttributes(i),
      [ATTR_AUDIT_INPUT_CONTENT]: `applicant ${i}`,
      ...(i === 0 && { [ATTR_USER_ID]: 'bob' }),
    }));
    const stored = (): number => processor.metrics.spansStored.get({ sink: 'clickhouse' });
    const before = stored();
    expect((await postTraces(processor.url, toProtobuf([...plain, ...withPlaintext]))).status).toBe(200);
    await waitFor(
      () => stored() - before === 2 && processor.metrics.spansDropped.get({ reason: 'route_other' }) === 2,
    );
    expect(processor.metrics.policyActions.get({ action: 'hash', attribute: ATTR_AUDIT_INPUT_CONTENT })).toBe(
      2,
    );
    expect(processor.metrics.policyActions.get({ action: 'redact', attribute: ATTR_USER_ID })).toBe(1);
    const text = await metricsText();
    expect(text).toContain('decisiontrail_processor_spans_dropped_total{reason="route_other"} 2');
    expect(text).toContain(
      `decisiontrail_processor_policy_actions_total{action="hash",attribute="${ATTR_AUDIT_INPUT_CONTENT}"} 2`,
    );
    expect(text).toContain(
      `decisiontrail_processor_policy_actions_total{action="redact",attribute="${ATTR_USER_ID}"} 1`,
    );
    expect(text).toContain(
      'decisiontrail_processor_spans_quarantined_total{reason="MALFORMED_DECISION_ID"} 5',
    );
  });
});
