import type { SpanRecord } from '@decisiontrail/core';
import {
  checkpointSpan,
  decisionIdAt,
  decisionSpan,
  deploymentSpan,
  feedbackSpan,
  oversightSpan,
  randomHex,
  seededRandom,
  systemSpan,
  type DecisionFixture,
} from './span-fixtures.ts';

/** Everything a query test needs to compute expected answers itself. */
export interface AuditDataset {
  start: number;
  deployAt: number;
  end: number;
  decisions: DecisionFixture[];
  oversight: { decisionId: string; action: string; startMs: number }[];
  feedback: { decisionId: string; correct: boolean; startMs: number }[];
  spans: SpanRecord[];
  /** Spans of the first decision's trace besides the decision itself. */
  firstTraceSystemSpanIds: string[];
}

const HOUR = 3_600_000;

/**
 * Two days of a credit model: version 1 on day one, version 2 deployed at the start of day two
 * (with more overrides and errors after it), oversight and feedback from other traces, one
 * actor probing with the same input near the threshold, and checkpoints of the integrity stream.
 */
export function buildAuditDataset(seed = 7): AuditDataset {
  const random = seededRandom(seed);
  const start = Date.UTC(2026, 2, 1);
  const deployAt = start + 24 * HOUR;
  const end = start + 48 * HOUR;
  const decisions: DecisionFixture[] = [];
  const spans: SpanRecord[] = [];
  const oversight: AuditDataset['oversight'] = [];
  const feedback: AuditDataset['feedback'] = [];
  const firstTraceSystemSpanIds: string[] = [];

  spans.push(
    deploymentSpan({
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: start - HOUR,
      modelId: 'credit-scorer',
      modelVersion: '1.0.0',
      previousVersion: '',
      deploymentId: 'dep-1',
    }),
    deploymentSpan({
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: deployAt,
      modelId: 'credit-scorer',
      modelVersion: '2.0.0',
      previousVersion: '1.0.0',
      deploymentId: 'dep-2',
    }),
  );

  for (let i = 0; i < 240; i++) {
    const after = i >= 120;
    const startMs = (after ? deployAt : start) + 60_000 + (i % 120) * 10 * 60_000;
    const probing = i >= 200 && i < 212;
    const confidence = probing ? 0.5 + (random() - 0.5) * 0.02 : Math.round(random() * 1000) / 1000;
    const decision: DecisionFixture = {
      decisionId: decisionIdAt(startMs, random),
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: probing ? deployAt + 5 * HOUR + (i - 200) * 1000 : startMs,
      modelId: 'credit-scorer',
      modelVersion: after ? '2.0.0' : '1.0.0',
      outcome: confidence >= 0.5 ? 'approve' : 'deny',
      confidence,
      subjectId: `subject-${i % 20}`,
      actorId: probing ? 'actor-probe' : `actor-${i % 7}`,
      inputHash: probing ? 'f'.repeat(64) : randomHex(random, 32),
      fairnessGroup: i % 3 === 0 ? 'group-b' : 'group-a',
      riskLevel: 'high',
      stream: 'stream-1',
      seq: i,
      // Failed decisions in both spellings: the current exporter's `Error` and older exporters' legacy one.
      statusCode: i % 50 === 49 ? (i % 100 === 99 ? 'STATUS_CODE_ERROR' : 'Error') : 'Unset',
    };
    decisions.push(decision);
    spans.push(decisionSpan(decision));
    if (i === 0) {
      for (const name of ['POST /loans', 'SELECT applicant']) {
        const spanId = randomHex(random, 8);
        firstTraceSystemSpanIds.push(spanId);
        spans.push(
          systemSpan({
            traceId: decision.traceId,
            spanId,
            parentSpanId: decision.spanId,
            name,
            startMs: decision.startMs + 1,
          }),
        );
      }
    }
    const reviewEvery = after ? 3 : 6;
    if (i % reviewEvery === 0) {
      const action = i % (reviewEvery * 2) === 0 ? 'override' : 'review';
      const o = { decisionId: decision.decisionId, action, startMs: decision.startMs + 30 * 60_000 };
      oversight.push(o);
      spans.push(
        oversightSpan({
          ...o,
          decisionTraceId: decision.traceId,
          decisionSpanId: decision.spanId,
          traceId: randomHex(random, 16),
          spanId: randomHex(random, 8),
          ...(action === 'override' ? { newOutcome: 'deny' } : {}),
        }),
      );
    }
    if (i % 2 === 0) {
      const correct = random() > (after ? 0.4 : 0.1);
      const f = { decisionId: decision.decisionId, correct, startMs: decision.startMs + 2 * HOUR };
      feedback.push(f);
      spans.push(
        feedbackSpan({
          ...f,
          traceId: randomHex(random, 16),
          spanId: randomHex(random, 8),
          actualOutcome: correct ? decision.outcome : 'other',
        }),
      );
    }
  }
  for (const size of [100, 200, 240]) {
    spans.push(
      checkpointSpan({
        traceId: randomHex(random, 16),
        spanId: randomHex(random, 8),
        startMs: start + (size / 5) * HOUR,
        stream: 'stream-1',
        size,
      }),
    );
  }
  return { start, deployAt, end, decisions, oversight, feedback, spans, firstTraceSystemSpanIds };
}
