import { context, trace } from '@opentelemetry/api';
import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { AuditSampler, configureAudit, decision, recordFeedback } from '@decisiontrail/instrumentation';
import { installTestTracing } from '../helpers/tracing.ts';

const tracing = installTestTracing(
  new AuditSampler(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) })),
);

describe('AuditSampler around a 0% ratio parent-based sampler', () => {
  it('drops ordinary spans but records every decision and feedback, even inside an unsampled trace', () => {
    configureAudit({ hmacKey: 'k' });
    const tracer = trace.getTracer('app');
    const request = tracer.startSpan('GET /loan');
    expect(request.isRecording()).toBe(false);
    const reference = context.with(trace.setSpan(context.active(), request), () => {
      tracer.startSpan('db query').end();
      return decision({ modelId: 'credit-v1' }, (handle) => handle.reference);
    });
    request.end();
    recordFeedback({ decision: reference, correct: true });
    const names = tracing.spans().map((span) => span.name);
    expect(names).toEqual(['audit.decision credit-v1', 'audit.feedback']);
    expect(tracing.spans()[0]?.spanContext().traceFlags & 1).toBe(1);
    expect(new AuditSampler(new TraceIdRatioBasedSampler(0)).toString()).toContain('AuditSampler');
  });
});
