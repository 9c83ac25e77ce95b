import {
  ATTR_AUDIT_ACTOR_ID,
  ATTR_AUDIT_CHECKPOINT_NOTE,
  ATTR_AUDIT_CHECKPOINT_ORIGIN,
  ATTR_AUDIT_CHECKPOINT_ROOT,
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_DECISION_RISK_LEVEL,
  ATTR_AUDIT_DECISION_TYPE,
  ATTR_AUDIT_DEPLOYMENT_ENVIRONMENT,
  ATTR_AUDIT_DEPLOYMENT_ID,
  ATTR_AUDIT_DEPLOYMENT_PREVIOUS_VERSION,
  ATTR_AUDIT_FAIRNESS_GROUP,
  ATTR_AUDIT_FEEDBACK_ACTUAL_OUTCOME,
  ATTR_AUDIT_FEEDBACK_CORRECT,
  ATTR_AUDIT_FEEDBACK_SOURCE,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_TYPE,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_OVERSIGHT_ACTION,
  ATTR_AUDIT_OVERSIGHT_NEW_OUTCOME,
  ATTR_AUDIT_OVERSIGHT_REVIEWER,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_AUDIT_SUBJECT_ID,
  ATTR_SERVICE_NAME,
  AUDIT_RECORD_TYPE_VALUES,
  SPAN_NAME_AUDIT_CHECKPOINT,
  SPAN_NAME_AUDIT_DEPLOYMENT,
  SPAN_NAME_AUDIT_FEEDBACK,
  SPAN_NAME_AUDIT_OVERSIGHT,
} from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';

/** Deterministic PRNG (mulberry32) so fixtures are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `bytes` random bytes as lowercase hex. */
export function randomHex(random: () => number, bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++)
    out += Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0');
  return out;
}

/** A UUIDv7-shaped id whose prefix is the timestamp, as the instrumentation generates them. */
export function decisionIdAt(ms: number, random: () => number): string {
  const hex = ms.toString(16).padStart(12, '0') + '7' + randomHex(random, 10).slice(1);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const NS_PER_MS = 1_000_000n;

function baseSpan(
  fields: Partial<SpanRecord> & {
    traceId: string;
    spanId: string;
    name: string;
    startMs: number;
    service?: string;
  },
): SpanRecord {
  const start = BigInt(fields.startMs) * NS_PER_MS;
  return {
    traceId: fields.traceId,
    spanId: fields.spanId,
    parentSpanId: fields.parentSpanId ?? '',
    traceState: '',
    name: fields.name,
    kind: fields.kind ?? 'Internal',
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + 2_500_000n).toString(),
    statusCode: fields.statusCode ?? 'Unset',
    statusMessage: '',
    attributes: fields.attributes ?? {},
    resourceAttributes: {
      [ATTR_SERVICE_NAME]: fields.service ?? 'loan-service',
      'host.name': 'fixture-host',
    },
    scopeName: '@decisiontrail/instrumentation',
    scopeVersion: '0.1.0',
    events: fields.events ?? [],
    links: fields.links ?? [],
  };
}

/** What a test decision looks like. */
export interface DecisionFixture {
  decisionId: string;
  traceId: string;
  spanId: string;
  startMs: number;
  modelId: string;
  modelVersion: string;
  outcome: string;
  confidence?: number;
  subjectId?: string;
  actorId?: string;
  inputHash?: string;
  fairnessGroup?: string;
  riskLevel?: string;
  stream?: string;
  seq?: number;
  service?: string;
  statusCode?: string;
  inputContent?: string;
}

/** A decision span as the instrumentation + signing exporter produce it. */
export function decisionSpan(d: DecisionFixture): SpanRecord {
  const attributes: Record<string, string> = {
    [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.DECISION,
    [ATTR_AUDIT_DECISION_ID]: d.decisionId,
    [ATTR_AUDIT_DECISION_TYPE]: 'classification',
    [ATTR_AUDIT_DECISION_OUTCOME]: d.outcome,
    [ATTR_AUDIT_MODEL_ID]: d.modelId,
    [ATTR_AUDIT_MODEL_VERSION]: d.modelVersion,
    [ATTR_AUDIT_MODEL_TYPE]: 'classifier',
    [ATTR_AUDIT_DECISION_RISK_LEVEL]: d.riskLevel ?? 'high',
    [ATTR_AUDIT_OUTPUT_HASH]: 'b'.repeat(64),
  };
  if (d.confidence !== undefined) attributes[ATTR_AUDIT_DECISION_CONFIDENCE] = String(d.confidence);
  if (d.subjectId !== undefined) attributes[ATTR_AUDIT_SUBJECT_ID] = d.subjectId;
  if (d.actorId !== undefined) attributes[ATTR_AUDIT_ACTOR_ID] = d.actorId;
  if (d.inputHash !== undefined) attributes[ATTR_AUDIT_INPUT_HASH] = d.inputHash;
  if (d.fairnessGroup !== undefined) attributes[ATTR_AUDIT_FAIRNESS_GROUP] = d.fairnessGroup;
  if (d.stream !== undefined) attributes[ATTR_AUDIT_INTEGRITY_STREAM] = d.stream;
  if (d.seq !== undefined) attributes[ATTR_AUDIT_INTEGRITY_SEQ] = String(d.seq);
  if (d.inputContent !== undefined) attributes[ATTR_AUDIT_INPUT_CONTENT] = d.inputContent;
  return baseSpan({
    traceId: d.traceId,
    spanId: d.spanId,
    name: `audit.decision ${d.modelId}`,
    startMs: d.startMs,
    attributes,
    ...(d.service === undefined ? {} : { service: d.service }),
    ...(d.statusCode === undefined ? {} : { statusCode: d.statusCode }),
  });
}

/** An ordinary system span (HTTP, DB) in the decision's trace. */
export function systemSpan(s: {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startMs: number;
}): SpanRecord {
  return baseSpan({
    ...s,
    kind: 'Server',
    attributes: { 'http.request.method': 'POST', 'url.path': '/loans' },
  });
}

/** A human-oversight span about a decision, from another trace. */
export function oversightSpan(o: {
  decisionId: string;
  decisionTraceId: string;
  decisionSpanId: string;
  traceId: string;
  spanId: string;
  startMs: number;
  action: string;
  newOutcome?: string;
  /** The decided model, as current instrumentation repeats it (absent: an older producer). */
  model?: { id: string; version: string };
}): SpanRecord {
  const attributes: Record<string, string> = {
    [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.OVERSIGHT,
    [ATTR_AUDIT_DECISION_ID]: o.decisionId,
    [ATTR_AUDIT_OVERSIGHT_ACTION]: o.action,
    [ATTR_AUDIT_OVERSIGHT_REVIEWER]: 'reviewer-1',
    ...modelAttributes(o.model),
  };
  if (o.newOutcome !== undefined) attributes[ATTR_AUDIT_OVERSIGHT_NEW_OUTCOME] = o.newOutcome;
  return baseSpan({
    traceId: o.traceId,
    spanId: o.spanId,
    name: SPAN_NAME_AUDIT_OVERSIGHT,
    startMs: o.startMs,
    service: 'review-console',
    attributes,
    links: [{ traceId: o.decisionTraceId, spanId: o.decisionSpanId, traceState: '', attributes: {} }],
  });
}

/**
 * A person's record about a stored decision fixture (an override unless told otherwise), a minute after it, in a
 * trace of its own whose ids are drawn from `random` (trace id, then span id); `newOutcome` for an override that
 * names one.
 */
export function oversightOf(
  d: DecisionFixture,
  random: () => number,
  action = 'override',
  newOutcome?: string,
): SpanRecord {
  return oversightSpan({
    decisionId: d.decisionId,
    decisionTraceId: d.traceId,
    decisionSpanId: d.spanId,
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    startMs: d.startMs + 60_000,
    action,
    ...(newOutcome === undefined ? {} : { newOutcome }),
  });
}

/** Ground-truth feedback about a decision. */
export function feedbackSpan(f: {
  decisionId: string;
  traceId: string;
  spanId: string;
  startMs: number;
  correct: boolean;
  actualOutcome: string;
  /** The decided model, as current instrumentation repeats it (absent: an older producer). */
  model?: { id: string; version: string };
}): SpanRecord {
  return baseSpan({
    traceId: f.traceId,
    spanId: f.spanId,
    name: SPAN_NAME_AUDIT_FEEDBACK,
    startMs: f.startMs,
    service: 'collections',
    attributes: {
      [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.FEEDBACK,
      [ATTR_AUDIT_DECISION_ID]: f.decisionId,
      [ATTR_AUDIT_FEEDBACK_CORRECT]: String(f.correct),
      [ATTR_AUDIT_FEEDBACK_ACTUAL_OUTCOME]: f.actualOutcome,
      [ATTR_AUDIT_FEEDBACK_SOURCE]: 'repayment',
      ...modelAttributes(f.model),
    },
  });
}

function modelAttributes(model: { id: string; version: string } | undefined): Record<string, string> {
  return model === undefined
    ? {}
    : { [ATTR_AUDIT_MODEL_ID]: model.id, [ATTR_AUDIT_MODEL_VERSION]: model.version };
}

/** A model deployment event. */
export function deploymentSpan(d: {
  traceId: string;
  spanId: string;
  startMs: number;
  modelId: string;
  modelVersion: string;
  previousVersion: string;
  deploymentId: string;
}): SpanRecord {
  return baseSpan({
    traceId: d.traceId,
    spanId: d.spanId,
    name: SPAN_NAME_AUDIT_DEPLOYMENT,
    startMs: d.startMs,
    service: 'deployer',
    attributes: {
      [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.DEPLOYMENT,
      [ATTR_AUDIT_MODEL_ID]: d.modelId,
      [ATTR_AUDIT_MODEL_VERSION]: d.modelVersion,
      [ATTR_AUDIT_DEPLOYMENT_ID]: d.deploymentId,
      [ATTR_AUDIT_DEPLOYMENT_PREVIOUS_VERSION]: d.previousVersion,
      [ATTR_AUDIT_DEPLOYMENT_ENVIRONMENT]: 'production',
    },
  });
}

/** A signed checkpoint of an integrity stream. */
export function checkpointSpan(c: {
  traceId: string;
  spanId: string;
  startMs: number;
  stream: string;
  size: number;
}): SpanRecord {
  return baseSpan({
    traceId: c.traceId,
    spanId: c.spanId,
    name: SPAN_NAME_AUDIT_CHECKPOINT,
    startMs: c.startMs,
    attributes: {
      [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.CHECKPOINT,
      [ATTR_AUDIT_INTEGRITY_STREAM]: c.stream,
      [ATTR_AUDIT_CHECKPOINT_ORIGIN]: `decisiontrail/${c.stream}`,
      [ATTR_AUDIT_CHECKPOINT_SIZE]: String(c.size),
      [ATTR_AUDIT_CHECKPOINT_ROOT]: Buffer.alloc(32, c.size % 256).toString('base64'),
      [ATTR_AUDIT_CHECKPOINT_NOTE]: `decisiontrail/${c.stream}\n${c.size}\nroot\n`,
    },
  });
}
