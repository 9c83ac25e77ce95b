import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configureAudit,
  decision,
  DecisionRefusedError,
  InstrumentationError,
  type RecordAdmission,
  recordDeployment,
  recordFeedback,
  recordOversight,
} from '@decisiontrail/instrumentation';
import { resolveAuditSettings } from '@decisiontrail/instrumentation/internal';

/**
 * A span processor that behaves as a full spool did before the policy existed: it throws at `end()` for audit
 * records it cannot keep. It is also the admission check, as the DurableSpanProcessor is.
 */
class FullSpoolProcessor implements SpanProcessor, RecordAdmission {
  full = false;
  refused = 0;
  admissionChecks = 0;
  canAccept(): boolean {
    this.admissionChecks += 1;
    return !this.full;
  }
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (this.full && span.attributes['audit.record.type'] !== undefined) {
      this.refused += 1;
      throw Object.assign(new Error('spool is full'), { code: 'SPOOL_FULL' });
    }
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const spool = new FullSpoolProcessor();
const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(
  new TracerProvider({
    sampler: new AlwaysOnSampler(),
    // The exporter sees every span that reached end(), kept or not: it shows that the refusal made none.
    spanProcessors: [new SimpleSpanProcessor({ exporter }), spool],
  }),
);

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

// Two turns of the event loop: a rejection nobody handles is reported after the microtasks of the turn it happened in.
async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

beforeEach(() => {
  exporter.reset();
  spool.full = false;
  spool.refused = 0;
  spool.admissionChecks = 0;
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

const reference = {
  decisionId: '01936f5e-7b1a-7c3d-8e4f-0123456789ab',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: 1,
};

describe('fail-open (the default)', () => {
  beforeEach(() => configureAudit({ hmacKey: 'k', recordAdmission: spool }));

  it('a synchronous decision returns the model result when its record cannot be kept', () => {
    spool.full = true;
    let ran = 0;
    const result = decision({ modelId: 'm' }, (handle) => {
      ran += 1;
      handle.setOutcome('approve');
      return 'approved';
    });
    expect(result).toBe('approved');
    expect(ran).toBe(1);
    expect(spool.refused).toBe(1);
    // fail-open does not ask: the processor accounts for the loss.
    expect(spool.admissionChecks).toBe(0);
  });

  it('an async decision resolves with the model result and leaves no unhandled rejection', async () => {
    spool.full = true;
    await expect(decision({ modelId: 'm' }, () => Promise.resolve(42))).resolves.toBe(42);
    await settle();
    expect(spool.refused).toBe(1);
    expect(unhandled).toEqual([]);
  });

  it("an async decision that rejects passes the model's own error on, and nothing else", async () => {
    spool.full = true;
    const failure = new Error('model failed');
    await expect(decision({ modelId: 'm' }, () => Promise.reject(failure))).rejects.toBe(failure);
    await settle();
    expect(spool.refused).toBe(1);
    expect(unhandled).toEqual([]);
  });

  it('a synchronous decision that throws passes the model error on, not the spool error', () => {
    spool.full = true;
    const failure = new Error('model failed');
    expect(() =>
      decision({ modelId: 'm' }, () => {
        throw failure;
      }),
    ).toThrow(failure);
    expect(spool.refused).toBe(1);
  });

  it('oversight, feedback and deployment records never throw when they cannot be kept', async () => {
    spool.full = true;
    expect(() => recordOversight({ decision: reference, action: 'approve', reviewer: 'r' })).not.toThrow();
    expect(() => recordFeedback({ decision: reference, correct: true })).not.toThrow();
    expect(recordDeployment({ modelId: 'm', version: '2', deploymentId: 'd-1' })).toBe('d-1');
    expect(spool.refused).toBe(3);
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('oversight still rejects bad arguments with its typed error', () => {
    expect(() =>
      recordOversight({ decision: reference, action: 'bless' as 'approve', reviewer: 'r' }),
    ).toThrow(InstrumentationError);
  });
});

describe('fail-closed', () => {
  beforeEach(() => configureAudit({ hmacKey: 'k', recordLossPolicy: 'fail-closed', recordAdmission: spool }));

  it('refuses a synchronous decision before the model runs, with a typed error', () => {
    spool.full = true;
    let ran = 0;
    let error: unknown;
    try {
      decision({ modelId: 'credit-v1' }, () => {
        ran += 1;
        return 'approved';
      });
    } catch (caught) {
      error = caught;
    }
    expect(ran).toBe(0);
    expect(error).toBeInstanceOf(DecisionRefusedError);
    expect(error).toBeInstanceOf(InstrumentationError);
    expect(error).toMatchObject({ code: 'DECISION_REFUSED', modelId: 'credit-v1' });
    // Nothing was decided, so nothing was recorded.
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('refuses an async decision before the model runs; the caller catches it around await', async () => {
    spool.full = true;
    let ran = 0;
    const run = async (): Promise<number> =>
      await decision({ modelId: 'm' }, () => {
        ran += 1;
        return Promise.resolve(1);
      });
    await expect(run()).rejects.toMatchObject({ code: 'DECISION_REFUSED' });
    expect(ran).toBe(0);
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('lets the decision run and records it when the record can be kept', async () => {
    await expect(decision({ modelId: 'm' }, () => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(spool.admissionChecks).toBe(1);
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['audit.decision m']);
  });

  it('refuses when the admission check itself fails, with its error as the cause', () => {
    const cause = new Error('cannot stat spool');
    configureAudit({
      recordLossPolicy: 'fail-closed',
      recordAdmission: {
        canAccept: () => {
          throw cause;
        },
      },
    });
    let ran = false;
    expect(() => decision({ modelId: 'm' }, () => (ran = true))).toThrow(
      expect.objectContaining({ code: 'DECISION_REFUSED', cause }),
    );
    expect(ran).toBe(false);
  });

  it('without an admission check, cannot know in advance: the decision proceeds', () => {
    configureAudit({ recordLossPolicy: 'fail-closed' });
    spool.full = true;
    expect(decision({ modelId: 'm' }, () => 'ran')).toBe('ran');
  });

  it('never refuses oversight, feedback or deployment records, and they never throw', () => {
    spool.full = true;
    expect(() => recordFeedback({ decision: reference, correct: false })).not.toThrow();
    expect(() => recordDeployment({ modelId: 'm', version: '3' })).not.toThrow();
    expect(spool.refused).toBe(2);
  });
});

describe('configuration', () => {
  it('defaults to fail-open, reads DECISIONTRAIL_RECORD_LOSS_POLICY, and lets the config win', () => {
    expect(resolveAuditSettings({}, {}).recordLossPolicy).toBe('fail-open');
    const env = { DECISIONTRAIL_RECORD_LOSS_POLICY: 'fail-closed' };
    expect(resolveAuditSettings({}, env).recordLossPolicy).toBe('fail-closed');
    expect(resolveAuditSettings({ recordLossPolicy: 'fail-open' }, env).recordLossPolicy).toBe('fail-open');
  });

  it('rejects an unknown policy with INVALID_CONFIG', () => {
    expect(() => resolveAuditSettings({}, { DECISIONTRAIL_RECORD_LOSS_POLICY: 'fail-shut' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });
});
