import { ATTR_AUDIT_INTEGRITY_STREAM, ATTR_AUDIT_RECORD_TYPE } from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';
import { annotateCompleteness } from './completeness-check.ts';
import { MALFORMED_DECISION_ID, malformedIdentifier } from './identifier-check.ts';
import type { ProcessorConfig } from './config.ts';
import type { ProcessorMetrics } from './metrics.ts';
import type { PolicyOutcome, PolicyStage } from './policy-stage.ts';
import type { QuarantinedSpan } from './span-sink.ts';

/** The verify stage as the pipeline sees it: stateful per stream, its state JSON-serializable. */
export interface IntegrityChecker {
  /**
   * Checks signed records (in arrival order) and returns, per record, why it failed verification,
   * `'duplicate'` for an exact repeat of a span already accepted (stored once, so dropped), or `undefined` when
   * it passed. `arrivedLeaf` gives the hex leaf a record arrived with when the policy changed it since.
   */
  check(
    records: readonly SpanRecord[],
    arrivedLeaf?: (record: SpanRecord) => string | undefined,
  ): IntegrityOutcome[];
  /** The per-stream state to persist with the queue position. */
  snapshot(): unknown;
}

/** What the verify stage says of one signed span. */
export type IntegrityOutcome = { code: string; reason: string } | 'duplicate' | undefined;

/** Where each processed span goes. */
export interface PipelineResult {
  store: SpanRecord[];
  forward: SpanRecord[];
  quarantine: QuarantinedSpan[];
}

/** Options of {@link AuditPipeline}. */
export interface AuditPipelineOptions {
  stages: ProcessorConfig['stages'];
  integrity: IntegrityChecker | undefined;
  policy: PolicyStage;
  metrics: ProcessorMetrics;
}

/**
 * verify → policy → completeness → route, over one drained batch. Runs after the durable ack, so its
 * outcome is reproducible from the write-ahead log and the persisted verifier state. The policy itself ran at
 * receipt (before the log): what it did travels with the spans, and the verify stage checks a changed signed
 * span by the leaf it arrived with. Spans logged without that (by an earlier version) get the policy here.
 */
export class AuditPipeline {
  private readonly options: AuditPipelineOptions;

  constructor(options: AuditPipelineOptions) {
    this.options = options;
  }

  /** The verifier state to persist after this batch is stored. */
  snapshot(): unknown {
    return this.options.integrity?.snapshot();
  }

  process(
    records: readonly SpanRecord[],
    atReceipt?: { get(record: SpanRecord): PolicyOutcome | undefined },
  ): PipelineResult {
    const { stages, integrity, policy, metrics } = this.options;
    const result: PipelineResult = { store: [], forward: [], quarantine: [] };
    const audit: SpanRecord[] = [];
    for (const record of records) {
      // A signed span is a leaf of its stream whatever it describes: dropping it would leave a hole that
      // verification reports as a deleted span. So signed spans always take the audit path; `route.other`
      // applies to unsigned non-audit spans only.
      if (
        record.attributes[ATTR_AUDIT_RECORD_TYPE] !== undefined ||
        record.attributes[ATTR_AUDIT_INTEGRITY_STREAM] !== undefined
      ) {
        audit.push(record);
        continue;
      }
      if (stages.route.other === 'store') result.store.push(record);
      else if (stages.route.other === 'forward') result.forward.push(record);
      else metrics.spansDropped.inc(1, { reason: 'route_other' });
    }
    // Every signed span feeds the verifier, even one policy will quarantine: its leaf is part of the tree
    // that later checkpoints commit to.
    const signed = audit.filter((r) => r.attributes[ATTR_AUDIT_INTEGRITY_STREAM] !== undefined);
    const failures = new Map<SpanRecord, { code: string; reason: string }>();
    const repeats = new Set<SpanRecord>();
    if (stages.verify.enabled && integrity !== undefined && signed.length > 0) {
      const reasons = integrity.check(signed, (record) => {
        const outcome = atReceipt?.get(record);
        return outcome?.action === 'quarantine' ? outcome.leaf : undefined;
      });
      signed.forEach((record, i) => {
        const reason = reasons[i];
        if (reason === 'duplicate') {
          metrics.spansDuplicate.inc();
          repeats.add(record);
        } else if (reason === undefined) {
          metrics.spansVerified.inc();
        } else {
          metrics.spansVerifyFailed.inc();
          failures.set(record, reason);
        }
      });
    }
    for (const record of audit) {
      if (repeats.has(record)) continue;
      const failed = failures.get(record);
      if (failed !== undefined) {
        this.quarantine(result, record, failed.code, failed.reason);
        continue;
      }
      const malformed = malformedIdentifier(record);
      if (malformed !== undefined) {
        this.quarantine(result, record, MALFORMED_DECISION_ID, malformed);
        continue;
      }
      if (record.attributes[ATTR_AUDIT_INTEGRITY_STREAM] === undefined) {
        metrics.spansUnsigned.inc();
        if (stages.verify.enabled && stages.verify.unsigned === 'quarantine') {
          this.quarantine(result, record, 'UNSIGNED', 'audit span carries no integrity attributes');
          continue;
        }
      }
      if (policy.active) {
        const outcome = atReceipt?.get(record) ?? policy.apply(record);
        if (outcome.action === 'quarantine') {
          for (const attribute of outcome.attributes)
            metrics.policyActions.inc(1, { action: 'quarantine', attribute });
          this.quarantine(result, record, 'POLICY_SIGNED_PLAINTEXT', outcome.reason);
          continue;
        }
        if (outcome.action === 'applied') {
          metrics.spansPolicyApplied.inc();
          for (const attribute of outcome.attributes)
            metrics.policyActions.inc(1, { action: policy.ruleFor(attribute), attribute });
        }
      }
      if (stages.completeness.enabled && annotateCompleteness(record).length > 0)
        metrics.spansIncomplete.inc();
      result.store.push(record);
      if (stages.route.forwardAudit) result.forward.push(record);
    }
    return result;
  }

  private quarantine(result: PipelineResult, record: SpanRecord, code: string, reason: string): void {
    this.options.metrics.spansQuarantined.inc(1, { reason: code });
    result.quarantine.push({ record, code, reason });
  }
}
