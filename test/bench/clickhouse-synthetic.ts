// Synthetic, realistic audit spans for the ClickHouse benchmark: an LLM or classifier decision per
// trace with the attributes the instrumentation and signing exporter put on it, plus oversight and
// feedback spans (carrying the decided model, as the instrumentation records them) for a share of the decisions,
// and the OTLP/JSON size of the same spans.
import { createHash } from 'node:crypto';
import {
  ATTR_AUDIT_ACTOR_ID,
  ATTR_AUDIT_DECISION_AUTOMATION,
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_DECISION_PURPOSE,
  ATTR_AUDIT_DECISION_RISK_LEVEL,
  ATTR_AUDIT_DECISION_TYPE,
  ATTR_AUDIT_FAIRNESS_GROUP,
  ATTR_AUDIT_FEEDBACK_CORRECT,
  ATTR_AUDIT_FEEDBACK_SOURCE,
  ATTR_AUDIT_INPUT_CAPTURE_MODE,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INPUT_HASH_KEY_ID,
  ATTR_AUDIT_INPUT_SIZE,
  ATTR_AUDIT_INTEGRITY_ALGORITHM,
  ATTR_AUDIT_INTEGRITY_KEY_ID,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_TYPE,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_OVERSIGHT_ACTION,
  ATTR_AUDIT_OVERSIGHT_REVIEWER,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_AUDIT_RETENTION_CLASS,
  ATTR_AUDIT_SUBJECT_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_SESSION_ID,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/signing-exporter';

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';

/** The generator's knobs. */
export interface SyntheticOptions {
  /** First decision time (ms). */
  startMs: number;
  /** Average gap between decisions (ms). */
  gapMs: number;
  seed?: number;
}

/** What was generated so far (the benchmark's own ground truth). */
export interface SyntheticStats {
  decisions: number;
  oversight: number;
  feedback: number;
  decisionIds: string[];
}

const MODELS = [
  { id: 'credit-scorer', versions: ['3.1.0', '3.2.0'], type: 'classifier', provider: '' },
  { id: 'gpt-4o-mini', versions: ['2024-07-18'], type: 'llm', provider: 'openai' },
  { id: 'claude-sonnet-4', versions: ['20250514'], type: 'llm', provider: 'anthropic' },
];

/** Makes decision spans (and some oversight/feedback spans) in chunks. */
export class SyntheticAuditSpans {
  readonly stats: SyntheticStats = { decisions: 0, oversight: 0, feedback: 0, decisionIds: [] };
  readonly #random: () => number;
  readonly #options: SyntheticOptions;
  #seq = 0;
  /** Every n-th decision id is kept for latency sampling. */
  readonly #sampleEvery: number;

  constructor(options: SyntheticOptions, sampleEvery = 997) {
    this.#options = options;
    this.#random = prng(options.seed ?? 42);
    this.#sampleEvery = sampleEvery;
  }

  /**
   * Random hex digits as one flat string, as a decoder produces them (a string built a character at
   * a time is a deep rope that every reader must flatten first, which the sink would pay for).
   */
  #hex(length: number): string {
    const digits = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) digits[i] = HEX.charCodeAt(Math.floor(this.#random() * 16));
    return digits.toString('latin1');
  }

  #uuidv7(ms: number): string {
    const h =
      ms.toString(16).padStart(12, '0') +
      '7' +
      this.#hex(3) +
      HEX[8 + Math.floor(this.#random() * 4)] +
      this.#hex(15);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }

  /** `count` decisions and their follow-ups. */
  next(count: number): SpanRecord[] {
    const spans: SpanRecord[] = [];
    for (let i = 0; i < count; i++) {
      const index = this.stats.decisions++;
      const ms = this.#options.startMs + index * this.#options.gapMs;
      const start = BigInt(ms) * 1_000_000n + BigInt(Math.floor(this.#random() * 1_000_000));
      const model = MODELS[index % 3 === 0 ? 0 : index % 3] as (typeof MODELS)[number];
      const version = model.versions[Math.floor(this.#random() * model.versions.length)] as string;
      const decisionId = this.#uuidv7(ms);
      if (index % this.#sampleEvery === 0) this.stats.decisionIds.push(decisionId);
      const traceId = this.#hex(32);
      const spanId = this.#hex(16);
      const confidence = Math.round(this.#random() * 10000) / 10000;
      const llm = model.type === 'llm';
      const attributes: Record<string, string> = {
        [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.DECISION,
        [ATTR_AUDIT_DECISION_ID]: decisionId,
        [ATTR_AUDIT_DECISION_TYPE]: llm ? 'generation' : 'classification',
        [ATTR_AUDIT_DECISION_OUTCOME]: confidence >= 0.5 ? 'approve' : 'deny',
        [ATTR_AUDIT_DECISION_CONFIDENCE]: String(confidence),
        [ATTR_AUDIT_DECISION_RISK_LEVEL]: 'high',
        [ATTR_AUDIT_DECISION_PURPOSE]: 'credit-decision',
        [ATTR_AUDIT_DECISION_AUTOMATION]: 'human_on_the_loop',
        [ATTR_AUDIT_MODEL_ID]: model.id,
        [ATTR_AUDIT_MODEL_VERSION]: version,
        [ATTR_AUDIT_MODEL_TYPE]: model.type,
        [ATTR_AUDIT_INPUT_HASH]: this.#hex(64),
        [ATTR_AUDIT_INPUT_HASH_KEY_ID]: 'hmac-2026-01',
        [ATTR_AUDIT_INPUT_SIZE]: String(200 + Math.floor(this.#random() * 4000)),
        [ATTR_AUDIT_INPUT_CAPTURE_MODE]: 'hash',
        [ATTR_AUDIT_OUTPUT_HASH]: this.#hex(64),
        [ATTR_AUDIT_SUBJECT_ID]: `subj-${this.#hex(12)}`,
        [ATTR_AUDIT_ACTOR_ID]: `agent-${Math.floor(this.#random() * 500)}`,
        [ATTR_SESSION_ID]: `sess-${Math.floor(index / 8)}`,
        [ATTR_AUDIT_FAIRNESS_GROUP]: ['a', 'b', 'c', 'd'][Math.floor(this.#random() * 4)] as string,
        [ATTR_AUDIT_RETENTION_CLASS]: 'high_risk',
        [ATTR_AUDIT_INTEGRITY_STREAM]: 'loan-api-1',
        [ATTR_AUDIT_INTEGRITY_SEQ]: String(this.#seq++),
        [ATTR_AUDIT_INTEGRITY_ALGORITHM]: 'rfc6962-sha256-jcs',
        [ATTR_AUDIT_INTEGRITY_KEY_ID]: '7a1f03c2',
      };
      if (llm) {
        attributes[ATTR_GEN_AI_OPERATION_NAME] = 'chat';
        attributes[ATTR_GEN_AI_PROVIDER_NAME] = model.provider;
        attributes[ATTR_GEN_AI_REQUEST_MODEL] = model.id;
        attributes[ATTR_GEN_AI_RESPONSE_ID] = `resp_${this.#hex(24)}`;
        attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = String(100 + Math.floor(this.#random() * 900));
        attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = String(10 + Math.floor(this.#random() * 300));
      }
      const span = this.#span(
        traceId,
        spanId,
        '',
        llm ? `chat ${model.id}` : `audit.decision ${model.id}`,
        start,
        attributes,
      );
      spans.push(span);
      if (this.#random() < 0.05) {
        this.stats.oversight++;
        spans.push(
          this.#span(this.#hex(32), this.#hex(16), '', 'audit.oversight', start + 600_000_000_000n, {
            [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.OVERSIGHT,
            [ATTR_AUDIT_DECISION_ID]: decisionId,
            // The instrumentation repeats the decided model from the decision's reference.
            [ATTR_AUDIT_MODEL_ID]: model.id,
            [ATTR_AUDIT_MODEL_VERSION]: version,
            [ATTR_AUDIT_OVERSIGHT_ACTION]: this.#random() < 0.3 ? 'override' : 'review',
            [ATTR_AUDIT_OVERSIGHT_REVIEWER]: `reviewer-${Math.floor(this.#random() * 20)}`,
            [ATTR_AUDIT_INTEGRITY_STREAM]: 'loan-api-1',
            [ATTR_AUDIT_INTEGRITY_SEQ]: String(this.#seq++),
          }),
        );
      }
      if (this.#random() < 0.2) {
        this.stats.feedback++;
        spans.push(
          this.#span(this.#hex(32), this.#hex(16), '', 'audit.feedback', start + 3_600_000_000_000n, {
            [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.FEEDBACK,
            [ATTR_AUDIT_DECISION_ID]: decisionId,
            [ATTR_AUDIT_MODEL_ID]: model.id,
            [ATTR_AUDIT_MODEL_VERSION]: version,
            [ATTR_AUDIT_FEEDBACK_CORRECT]: String(this.#random() < 0.85),
            [ATTR_AUDIT_FEEDBACK_SOURCE]: 'repayment',
            [ATTR_AUDIT_INTEGRITY_STREAM]: 'loan-api-1',
            [ATTR_AUDIT_INTEGRITY_SEQ]: String(this.#seq++),
          }),
        );
      }
    }
    return spans;
  }

  #span(
    traceId: string,
    spanId: string,
    parentSpanId: string,
    name: string,
    start: bigint,
    attributes: Record<string, string>,
  ): SpanRecord {
    return {
      traceId,
      spanId,
      parentSpanId,
      traceState: '',
      name,
      kind: 'Internal',
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + BigInt(5_000_000 + Math.floor(this.#random() * 900_000_000))).toString(),
      statusCode: 'Unset',
      statusMessage: '',
      attributes,
      resourceAttributes: {
        [ATTR_SERVICE_NAME]: 'loan-api',
        [ATTR_SERVICE_VERSION]: '2.14.1',
        'host.name': 'loan-api-7d9f8c6b5-x2x9q',
        'telemetry.sdk.language': 'nodejs',
        'telemetry.sdk.name': 'opentelemetry',
        'telemetry.sdk.version': '2.2.0',
      },
      scopeName: '@decisiontrail/instrumentation',
      scopeVersion: '0.1.0',
      events: [],
      links: [],
    };
  }
}

const NUMERIC = new Set<string>([ATTR_AUDIT_DECISION_CONFIDENCE]);
const INTEGER = new Set<string>([
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INPUT_SIZE,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
]);

function otlpValue(key: string, value: string): object {
  if (NUMERIC.has(key)) return { doubleValue: Number(value) };
  if (INTEGER.has(key)) return { intValue: value };
  if (value === 'true' || value === 'false') return { boolValue: value === 'true' };
  return { stringValue: value };
}

/** Bytes of these spans as one OTLP/JSON ExportTraceServiceRequest (ids as hex, as the spec's JSON mapping says). */
export function otlpJsonBytes(spans: SpanRecord[]): number {
  const first = spans[0];
  if (first === undefined) return 0;
  const body = {
    resourceSpans: [
      {
        resource: {
          attributes: Object.entries(first.resourceAttributes).map(([key, value]) => ({
            key,
            value: { stringValue: value },
          })),
        },
        scopeSpans: [
          {
            scope: { name: first.scopeName, version: first.scopeVersion },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId,
              name: s.name,
              kind: 1,
              startTimeUnixNano: s.startTimeUnixNano,
              endTimeUnixNano: s.endTimeUnixNano,
              attributes: Object.entries(s.attributes).map(([key, value]) => ({
                key,
                value: otlpValue(key, value),
              })),
              status: {},
            })),
          },
        ],
      },
    ],
  };
  return Buffer.byteLength(JSON.stringify(body));
}

/** Short digest for the printed summary, so two runs can be told apart. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
