// Synthetic, realistic audit spans for the ClickHouse benchmark: an LLM or classifier decision per
// trace with the attributes the instrumentation and signing exporter put on it, plus oversight and
// feedback spans (carrying the decided model, as the instrumentation records them) for a share of the decisions,
// and the OTLP/JSON size of the same spans. With the `signing` option the integrity is real: the spans
// go into several streams that sign them as the signing exporter's DurableSpanProcessor does (leaf per
// span, a signed checkpoint span every batch, every checkpoint handed to a witness).
import { createHash, randomBytes } from 'node:crypto';
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
  SPAN_NAME_AUDIT_CHECKPOINT,
} from '@decisiontrail/semconv';
import {
  StreamSigner,
  attributesToStringMap,
  leafHash,
  type CheckpointWitness,
  type SigningKey,
  type SpanRecord,
} from '@decisiontrail/core';
import { checkpointAttributes, integrityAttributes } from '@decisiontrail/signing-exporter';

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
  /** Sign the spans for real (default: placeholder integrity attributes of one stream, no checkpoints). */
  signing?: SyntheticSigning;
}

/**
 * Real integrity, as app instances running `DurableSpanProcessor` produce it: decision `i` is made by
 * instance `i mod streams`, each instance is one stream, and its oversight and feedback spans enter
 * that stream when they happen (10 minutes and an hour later), so a stream's leaves are in time order.
 */
export interface SyntheticSigning {
  /** The Ed25519 key every stream signs its checkpoints with. */
  key: SigningKey;
  /** Integrity streams (app instances). */
  streams: number;
  /** Spans per checkpoint. @default 512, the processor's batch */
  batchSize?: number;
  /** Receives every checkpoint note, as the processor's witness does. */
  witness?: CheckpointWitness;
}

/** What was generated so far (the benchmark's own ground truth). */
export interface SyntheticStats {
  decisions: number;
  oversight: number;
  feedback: number;
  /** Checkpoint spans (signing only). */
  checkpoints: number;
  decisionIds: string[];
}

const RESOURCE: Readonly<Record<string, string>> = {
  [ATTR_SERVICE_NAME]: 'loan-api',
  [ATTR_SERVICE_VERSION]: '2.14.1',
  'host.name': 'loan-api-7d9f8c6b5-x2x9q',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.version': '2.2.0',
};

/** The instrumentation scope of the signing exporter's checkpoint spans (its package name and version). */
const SIGNING_SCOPE = { name: '@decisiontrail/signing-exporter', version: '0.1.0' };

/** A follow-up span waiting for its time. */
interface PendingSpan {
  stream: number;
  span: SpanRecord;
  start: bigint;
}

/** One signing app instance. */
interface SignedStream {
  signer: StreamSigner;
  /** This instance's resource (its own host). */
  resource: Record<string, string>;
  /** Spans since the last checkpoint. */
  inBatch: number;
  /** End time of the stream's last span (ns, decimal). */
  lastEnd: string;
}

const MODELS = [
  { id: 'credit-scorer', versions: ['3.1.0', '3.2.0'], type: 'classifier', provider: '' },
  { id: 'gpt-4o-mini', versions: ['2024-07-18'], type: 'llm', provider: 'openai' },
  { id: 'claude-sonnet-4', versions: ['20250514'], type: 'llm', provider: 'anthropic' },
];

/** Makes decision spans (and some oversight/feedback spans) in chunks. */
export class SyntheticAuditSpans {
  readonly stats: SyntheticStats = {
    decisions: 0,
    oversight: 0,
    feedback: 0,
    checkpoints: 0,
    decisionIds: [],
  };
  readonly #random: () => number;
  readonly #options: SyntheticOptions;
  #seq = 0;
  /** Every n-th decision id is kept for latency sampling. */
  readonly #sampleEvery: number;
  readonly #streams: SignedStream[];
  /** Follow-ups not yet happened, per kind in start order (each kind has one fixed delay). */
  readonly #pending: PendingSpan[][] = [[], []];
  readonly #pendingNext = [0, 0];
  readonly #witnessing = new Set<Promise<void>>();
  #witnessError: unknown;

  constructor(options: SyntheticOptions, sampleEvery = 997) {
    this.#options = options;
    this.#random = prng(options.seed ?? 42);
    this.#sampleEvery = sampleEvery;
    const signing = options.signing;
    this.#streams = [];
    for (let i = 0; signing !== undefined && i < signing.streams; i++) {
      this.#streams.push({
        signer: new StreamSigner({ key: signing.key }),
        resource: { ...RESOURCE, 'host.name': `loan-api-7d9f8c6b5-${i.toString(36).padStart(5, '0')}` },
        inBatch: 0,
        lastEnd: '0',
      });
    }
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

  /**
   * `count` decisions and their follow-ups. Signing: the follow-ups that have happened by the last
   * decision's time, and a checkpoint span after every batch of a stream.
   */
  next(count: number): SpanRecord[] {
    const spans: SpanRecord[] = [];
    for (let i = 0; i < count; i++) {
      const index = this.stats.decisions++;
      const stream = index % Math.max(1, this.#streams.length);
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
      if (this.#streams.length > 0) {
        this.#release(start, spans);
        this.#sign(stream, span, spans);
      } else spans.push(span);
      if (this.#random() < 0.05) {
        this.stats.oversight++;
        this.#followUp(
          0,
          stream,
          spans,
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
        this.#followUp(
          1,
          stream,
          spans,
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

  /**
   * Signing: the follow-ups still pending and a final checkpoint of every stream's open batch, as a
   * processor's shutdown seals them; then every stored leaf is covered by a signed checkpoint.
   */
  finish(): SpanRecord[] {
    const spans: SpanRecord[] = [];
    this.#release(undefined, spans);
    for (let stream = 0; stream < this.#streams.length; stream++) this.#seal(stream, spans);
    return spans;
  }

  /** Signing: waits until the witness holds every checkpoint made so far; rejects if it refused one. */
  async witnessed(): Promise<void> {
    await Promise.all(this.#witnessing);
    if (this.#witnessError !== undefined) throw this.#witnessError;
  }

  #followUp(kind: number, stream: number, out: SpanRecord[], span: SpanRecord): void {
    if (this.#streams.length === 0) out.push(span);
    else (this.#pending[kind] as PendingSpan[]).push({ stream, span, start: BigInt(span.startTimeUnixNano) });
  }

  /** Signs the follow-ups that started before `until` (all of them without it) into their streams, in start order. */
  #release(until: bigint | undefined, out: SpanRecord[]): void {
    for (;;) {
      let kind = -1;
      let earliest: PendingSpan | undefined;
      for (let k = 0; k < this.#pending.length; k++) {
        const head = this.#pending[k]?.[this.#pendingNext[k] as number];
        if (head === undefined) continue;
        if (earliest === undefined || head.start < earliest.start) {
          kind = k;
          earliest = head;
        }
      }
      if (earliest === undefined || (until !== undefined && earliest.start >= until)) break;
      const queue = this.#pending[kind] as PendingSpan[];
      const next = (this.#pendingNext[kind] as number) + 1;
      // Drop the released head in bulk now and then rather than shifting the array per span.
      if (next >= 4096) {
        queue.splice(0, next);
        this.#pendingNext[kind] = 0;
      } else this.#pendingNext[kind] = next;
      this.#sign(earliest.stream, earliest.span, out);
    }
  }

  /** Appends the span's leaf to its stream (as `DurableSpanProcessor.onEnd`) and seals a full batch. */
  #sign(stream: number, span: SpanRecord, out: SpanRecord[]): void {
    const signed = this.#streams[stream] as SignedStream;
    span.resourceAttributes = signed.resource;
    const seq = signed.signer.append(leafHash(span));
    Object.assign(
      span.attributes,
      attributesToStringMap(integrityAttributes(signed.signer.streamId, seq, signed.signer.keyId)),
    );
    out.push(span);
    signed.lastEnd = span.endTimeUnixNano;
    if (++signed.inBatch >= (this.#options.signing?.batchSize ?? 512)) this.#seal(stream, out);
  }

  /** A signed checkpoint over the stream so far, as the `audit.checkpoint` span the processor ships, and to the witness. */
  #seal(stream: number, out: SpanRecord[]): void {
    const signed = this.#streams[stream] as SignedStream;
    const checkpoint = signed.signer.checkpoint();
    signed.inBatch = 0;
    if (checkpoint === undefined) return;
    this.stats.checkpoints++;
    // The processor stamps the checkpoint with the clock at sealing: here, the end of the batch's last span.
    out.push({
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      parentSpanId: '',
      traceState: '',
      name: SPAN_NAME_AUDIT_CHECKPOINT,
      kind: 'Internal',
      startTimeUnixNano: signed.lastEnd,
      endTimeUnixNano: signed.lastEnd,
      statusCode: 'Unset',
      statusMessage: '',
      attributes: attributesToStringMap(checkpointAttributes(checkpoint)),
      resourceAttributes: signed.resource,
      scopeName: SIGNING_SCOPE.name,
      scopeVersion: SIGNING_SCOPE.version,
      events: [],
      links: [],
    });
    const witness = this.#options.signing?.witness;
    if (witness === undefined) return;
    const pending: Promise<void> = witness
      .witness(checkpoint.note)
      .catch((error: unknown) => {
        this.#witnessError ??= error;
      })
      .finally(() => this.#witnessing.delete(pending));
    this.#witnessing.add(pending);
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
      resourceAttributes: { ...RESOURCE },
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
