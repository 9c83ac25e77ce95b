import {
  ATTR_AUDIT_COUNT_DECISIONS,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  AUDIT_RECORD_TYPE_VALUES,
  SPAN_NAME_AUDIT_COUNT,
} from '@decisiontrail/semconv';
import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { createInstantSpan } from './synthetic-span.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

/** How often a stream records its decision counts, at most (its last counts are recorded at shutdown). */
export const DEFAULT_COUNT_INTERVAL_MILLIS = 60_000;

/** One model's running count in one stream. */
interface ModelCount {
  modelId: string;
  modelVersion: string;
  /** Decisions seen since the stream began. */
  decisions: number;
  /** The total the last count record of this model carried (0 before the first). */
  recorded: number;
  /** Earliest start and latest end of the decisions counted since that record: the next record's span. */
  firstStart: HrTime | undefined;
  lastEnd: HrTime | undefined;
  /** The resource of the model's first decision, for its count records (a stream has one resource in practice). */
  resource: ReadableSpan['resource'];
}

/**
 * The running count of decisions per model that a stream's signer was handed, kept or not, and the
 * signed `audit.count` records that carry it into the stream. A count record is made for a model whose
 * count changed since its last record, at most once per interval (and at the owner's shutdown); every
 * decision counted before it and kept is a leaf before it, so stored decisions between two count
 * records compare exactly with the difference of their totals.
 */
export class DecisionCounter {
  /** Model id → model version → count. */
  readonly #models = new Map<string, Map<string, ModelCount>>();
  readonly #intervalMillis: number;
  /** When count records were last made (the first are due one interval after the counter starts). */
  #lastRecordMillis: number;

  constructor(intervalMillis: number = DEFAULT_COUNT_INTERVAL_MILLIS, nowMillis: number = Date.now()) {
    if (!(intervalMillis >= 0) || !Number.isFinite(intervalMillis))
      throw new RangeError(`countIntervalMillis must be a finite number ≥ 0, got ${intervalMillis}`);
    this.#intervalMillis = intervalMillis;
    this.#lastRecordMillis = nowMillis;
  }

  /** Counts `span` if it is a decision: one attribute read for any other span. */
  observe(span: ReadableSpan): void {
    const attributes = span.attributes;
    if (attributes[ATTR_AUDIT_RECORD_TYPE] !== AUDIT_RECORD_TYPE_VALUES.DECISION) return;
    const modelId = decisionModelId(attributes);
    const modelVersion = stringOf(attributes[ATTR_AUDIT_MODEL_VERSION]);
    let versions = this.#models.get(modelId);
    if (versions === undefined) this.#models.set(modelId, (versions = new Map()));
    let count = versions.get(modelVersion);
    if (count === undefined) {
      count = {
        modelId,
        modelVersion,
        decisions: 0,
        recorded: 0,
        firstStart: undefined,
        lastEnd: undefined,
        resource: span.resource,
      };
      versions.set(modelVersion, count);
    }
    count.decisions += 1;
    if (count.firstStart === undefined || before(span.startTime, count.firstStart))
      count.firstStart = span.startTime;
    if (count.lastEnd === undefined || before(count.lastEnd, span.endTime)) count.lastEnd = span.endTime;
  }

  /** Whether count records are due: a count changed since its last record and the interval has passed (or this is the last chance). */
  due(nowMillis: number, final: boolean): boolean {
    if (!final && nowMillis - this.#lastRecordMillis < this.#intervalMillis) return false;
    for (const versions of this.#models.values()) {
      for (const count of versions.values()) if (count.decisions !== count.recorded) return true;
    }
    return false;
  }

  /**
   * The count records due, one per model whose count changed since its last record. The owner appends
   * them in order and calls `recorded` for each it kept; one it could not keep is offered again.
   */
  records(nowMillis: number): PendingCountRecord[] {
    this.#lastRecordMillis = nowMillis;
    const time = millisToHrTime(nowMillis);
    const pending: PendingCountRecord[] = [];
    for (const versions of this.#models.values()) {
      for (const count of versions.values()) {
        if (count.decisions === count.recorded) continue;
        const decisions = count.decisions;
        // From the earliest start of what it adds to the latest end (or now): every decision it adds lies inside.
        const start = count.firstStart ?? time;
        const end = count.lastEnd !== undefined && before(time, count.lastEnd) ? count.lastEnd : time;
        pending.push({
          span: countSpan(count, decisions, start, end),
          recorded: () => {
            count.recorded = decisions;
            count.firstStart = undefined;
            count.lastEnd = undefined;
          },
        });
      }
    }
    return pending;
  }

  /** Decisions counted so far, per model id and version (for stats and tests). */
  totals(): { modelId: string; modelVersion: string; decisions: number }[] {
    return [...this.#models.values()].flatMap((versions) =>
      [...versions.values()].map(({ modelId, modelVersion, decisions }) => ({
        modelId,
        modelVersion,
        decisions,
      })),
    );
  }
}

/** A count record to append, and what to call once it is in the stream. */
export interface PendingCountRecord {
  span: ReadableSpan;
  recorded(): void;
}

/**
 * The model id a decision is stored under (`audit_decisions.model_id`, see the clickhouse package's
 * `audit-decisions-select.sql`): `audit.model.id`, else the GenAI response model, else the request model.
 */
function decisionModelId(attributes: Attributes): string {
  const own = stringOf(attributes[ATTR_AUDIT_MODEL_ID]);
  if (own !== '') return own;
  const response = stringOf(attributes[ATTR_GEN_AI_RESPONSE_MODEL]);
  return response !== '' ? response : stringOf(attributes[ATTR_GEN_AI_REQUEST_MODEL]);
}

function stringOf(value: AttributeValue | undefined): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function before(a: HrTime, b: HrTime): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

function countSpan(count: ModelCount, decisions: number, start: HrTime, end: HrTime): ReadableSpan {
  const span = createInstantSpan({
    name: SPAN_NAME_AUDIT_COUNT,
    attributes: {
      [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.COUNT,
      [ATTR_AUDIT_MODEL_ID]: count.modelId,
      [ATTR_AUDIT_MODEL_VERSION]: count.modelVersion,
      [ATTR_AUDIT_COUNT_DECISIONS]: decisions,
    },
    resource: count.resource,
    scope: { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    time: start,
  });
  const nanos = (end[0] - start[0]) * 1e9 + (end[1] - start[1]);
  return { ...span, endTime: end, duration: [Math.floor(nanos / 1e9), nanos % 1e9] };
}
