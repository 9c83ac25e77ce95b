import { ATTR_AUDIT_LOSS_REASON, ATTR_AUDIT_RECORD_TYPE } from '@decisiontrail/semconv';
import { type Attributes, type Counter, type MeterProvider, metrics } from '@opentelemetry/api';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

/** Name of the counter of spans a {@link DurableSpanProcessor} could not keep. */
export const SPOOL_DROPPED_METRIC = 'decisiontrail.spool.dropped';

/**
 * Counts, as an OpenTelemetry metric, the spans a durable span processor drops: by `audit.loss.reason` and, for audit
 * records, `audit.record.type` (no record type: a non-audit span). The counter is made at the first drop, so a
 * MeterProvider registered globally after the processor was built is the one that counts; without any, the API's
 * no-op meter costs nothing.
 */
export class SpoolDropMetrics {
  readonly #provider: MeterProvider | undefined;
  #counter: Counter | undefined;

  constructor(provider: MeterProvider | undefined) {
    this.#provider = provider;
  }

  /** One dropped span; `recordType` is its `audit.record.type`, undefined for a non-audit span. */
  dropped(reason: string, recordType: string | undefined): void {
    const attributes: Attributes = { [ATTR_AUDIT_LOSS_REASON]: reason };
    if (recordType !== undefined) attributes[ATTR_AUDIT_RECORD_TYPE] = recordType;
    this.#counter ??= (this.#provider ?? metrics.getMeterProvider())
      .getMeter(PACKAGE_NAME, PACKAGE_VERSION)
      .createCounter(SPOOL_DROPPED_METRIC, {
        description:
          'Spans the durable span processor could not keep, by audit.loss.reason and audit.record.type (none: not an audit record)',
        unit: '{span}',
      });
    this.#counter.add(1, attributes);
  }
}
