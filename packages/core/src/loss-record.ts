import {
  ATTR_AUDIT_LOSS_COUNT,
  ATTR_AUDIT_LOSS_DECISION_COUNT,
  ATTR_AUDIT_LOSS_REASON,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import { finding, type Finding } from './findings.ts';
import type { SpanRecord } from './span-record.ts';

/** What an `audit.loss` record (written by the DurableSpanProcessor) declares. */
export interface LossClaim {
  spanId: string;
  /** Audit records lost (`audit.loss.count`); NaN when the attribute is not a number. */
  count: number;
  /** Of them, decisions (`audit.loss.decision_count`). */
  decisions: number;
  reason: string;
  /** First and last drop, decimal nanoseconds (the record's start and end). */
  fromUnixNano: string;
  toUnixNano: string;
}

/** The claim of an `audit.loss` record, or undefined for any other record. */
export function lossClaimOf(record: SpanRecord): LossClaim | undefined {
  if (record.attributes[ATTR_AUDIT_RECORD_TYPE] !== AUDIT_RECORD_TYPE_VALUES.LOSS) return undefined;
  return {
    spanId: record.spanId,
    count: Number(record.attributes[ATTR_AUDIT_LOSS_COUNT] ?? Number.NaN),
    decisions: Number(record.attributes[ATTR_AUDIT_LOSS_DECISION_COUNT] ?? Number.NaN),
    reason: record.attributes[ATTR_AUDIT_LOSS_REASON] ?? 'unknown',
    fromUnixNano: record.startTimeUnixNano,
    toUnixNano: record.endTimeUnixNano,
  };
}

/**
 * The `records-lost` finding of a loss record whose leaf verified: the producer declared, in signed
 * bytes, that records of this stream were dropped just before sequence number `seq`.
 */
export function recordsLostFinding(claim: LossClaim, seq: number): Finding {
  return finding(
    'records-lost',
    `${claim.count} audit record(s) (${claim.decisions} decision(s)) lost to ${claim.reason} between ${isoTime(claim.fromUnixNano)} and ${isoTime(claim.toUnixNano)}, just before seq ${seq} (a signed audit.loss record)`,
    { spanId: claim.spanId, seq, ...(Number.isFinite(claim.count) && { count: claim.count }) },
  );
}

function isoTime(unixNano: string): string {
  try {
    return new Date(Number(BigInt(unixNano) / 1_000_000n)).toISOString();
  } catch {
    return unixNano;
  }
}
