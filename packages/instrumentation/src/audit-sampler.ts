import { ATTR_AUDIT_RECORD_TYPE, AUDIT_RECORD_TYPE_VALUES } from '@decisiontrail/semconv';
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult } from '@opentelemetry/sdk-trace';

const AUDIT_RECORD_TYPES = new Set<unknown>(Object.values(AUDIT_RECORD_TYPE_VALUES));
const RECORD_AND_SAMPLE: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });

/**
 * Wraps any sampler so that audit records (spans whose start attributes carry `audit.record.type`: decisions,
 * oversight, feedback, deployments, checkpoints) are always RECORD_AND_SAMPLED — an audit trail cannot be sampled —
 * while every other span follows the wrapped sampler. Use it as the SDK's sampler, e.g.
 * `new AuditSampler(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }))`.
 */
export class AuditSampler implements Sampler {
  readonly #delegate: Sampler;

  constructor(delegate: Sampler) {
    this.#delegate = delegate;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (AUDIT_RECORD_TYPES.has(attributes[ATTR_AUDIT_RECORD_TYPE])) return RECORD_AND_SAMPLE;
    return this.#delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `AuditSampler{${this.#delegate.toString()}}`;
  }
}
