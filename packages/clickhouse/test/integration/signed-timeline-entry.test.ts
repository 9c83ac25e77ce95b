import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedTimelineEntry, type Store } from '@decisiontrail/clickhouse';
import type { SpanRecord } from '@decisiontrail/core';
import {
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_OUTPUT_CONTENT,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_RISK_LEVEL,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_RETENTION_CLASS,
} from '@decisiontrail/semconv';
import { decisionSpan, systemSpan } from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

/**
 * signedTimelineEntry without the values SQL converted (how the CLI compares a stored or exported row with the span
 * that proves it) converts the confidence, leaf index and retention class itself: each as the audit tables' views do,
 * which the store's own decision row (decisionTimeline, from audit_decisions) shows.
 */
describe('signedTimelineEntry converts as the audit tables do (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const spans: SpanRecord[] = [];
  // Attribute values whose conversion matters; absent when undefined.
  const cases: { confidence?: string; seq?: string; risk?: string; retention?: string }[] = [
    { confidence: '0.75', seq: '5', risk: 'high' },
    { confidence: '1', seq: '007', risk: 'low' },
    { confidence: '0.1250', seq: '0', risk: 'high', retention: 'incident' },
    { confidence: 'not a number', seq: 'x', risk: 'low', retention: 'permanent' },
    { seq: '', retention: '' },
    { confidence: '', risk: 'high', retention: 'standard' },
    { confidence: '1e-7', seq: '18446744073709551615' },
  ];

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    cases.forEach((c, i) => {
      const span = decisionSpan({
        decisionId: `0190f0e0-0000-7000-8000-${String(i).padStart(12, '0')}`,
        traceId: `${String(i).padStart(2, '0')}`.repeat(16),
        spanId: `${String(i).padStart(2, '0')}`.repeat(8),
        startMs: Date.UTC(2026, 3, 1, 12, i),
        modelId: 'scorer',
        modelVersion: '1.0',
        outcome: 'approve',
        stream: 'stream-a',
      });
      const set = (key: string, value: string | undefined) => {
        if (value === undefined) delete span.attributes[key];
        else span.attributes[key] = value;
      };
      set(ATTR_AUDIT_DECISION_CONFIDENCE, c.confidence);
      set(ATTR_AUDIT_INTEGRITY_SEQ, c.seq);
      set(ATTR_AUDIT_DECISION_RISK_LEVEL, c.risk);
      set(ATTR_AUDIT_RETENTION_CLASS, c.retention);
      spans.push(span);
    });
    // A span of the first decision's trace that captured content: shown, without it.
    const captured = systemSpan({
      traceId: spans[0]!.traceId,
      spanId: 'c'.repeat(16),
      parentSpanId: spans[0]!.spanId,
      name: 'POST /chat',
      startMs: Date.UTC(2026, 3, 1, 12, 0, 1),
    });
    captured.attributes[ATTR_AUDIT_INPUT_CONTENT] = 'captured input';
    captured.attributes[ATTR_AUDIT_OUTPUT_CONTENT] = 'captured output';
    captured.attributes[ATTR_GEN_AI_INPUT_MESSAGES] = '[{"role":"user","content":"captured message"}]';
    captured.attributes[ATTR_GEN_AI_OUTPUT_MESSAGES] = '[{"role":"assistant","content":"captured reply"}]';
    await store.insertSpans([...spans, captured]);
  });
  afterAll(async () => {
    await cleanup();
  });

  it("gives the decision row the store's view derives from the same span", async () => {
    for (const span of spans) {
      const decisionId = span.attributes[ATTR_AUDIT_DECISION_ID]!;
      const stored = (await store.decisionTimeline({ decisionId })).find((e) => e.kind === 'decision');
      expect(stored, decisionId).toBeDefined();
      expect(signedTimelineEntry('decision', span), decisionId).toEqual(stored);
    }
  });

  it('shows a trace span as the view does, without the content it captured', async () => {
    const decisionId = spans[0]!.attributes[ATTR_AUDIT_DECISION_ID]!;
    const viewed = await store.decisionTimeline({ decisionId });
    const shown = viewed.find((e) => e.kind === 'span');
    expect(shown?.attributes['http.request.method']).toBe('POST');
    const { entries } = await store.timelineWithEvidence({ decisionId });
    expect(entries.find((e) => e.kind === 'span')).toEqual(shown);
    expect(JSON.stringify(entries)).not.toContain('captured');
  });
});
