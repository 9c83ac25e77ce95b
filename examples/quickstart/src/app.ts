// decisiontrail in a service that already uses OpenTelemetry: three additions to the NodeSDK setup.
import {
  AiAuditInstrumentation,
  AuditSampler,
  decision,
  recordOversight,
} from '@decisiontrail/instrumentation';
import { loadSigningKey, SigningSpanExporter } from '@decisiontrail/signing-exporter';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';

const sdk = new NodeSDK({
  serviceName: 'quickstart',
  // 1. Sample 10% of ordinary traces, but every decision: an audit trail cannot be sampled.
  sampler: new AuditSampler(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) })),
  // 2. Decisions of openai, @anthropic-ai/sdk and onnxruntime-node calls become audit spans by themselves.
  instrumentations: [new AiAuditInstrumentation({ hmacKey: process.env['DECISIONTRAIL_HMAC_KEY'] })],
  // 3. Every span is signed into a tamper-evident stream before it leaves over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT).
  spanProcessors: [
    new BatchSpanProcessor({
      exporter: new SigningSpanExporter({
        exporter: new OTLPTraceExporter(),
        key: await loadSigningKey('.decisiontrail/keys/signing.key'),
      }),
    }),
  ],
});
sdk.start();

// Any model's decision, recorded with the manual API; a reviewer confirms it later.
const applicant = { income: 52_000, debtToIncome: 0.31, latePayments: 0 };
export const reference = decision(
  { modelId: 'loan-rules', version: '1.4.0', riskLevel: 'high', input: applicant },
  (d) => {
    const approve = applicant.debtToIncome < 0.4 && applicant.latePayments === 0;
    d.setOutcome(approve ? 'approve' : 'reject');
    d.setConfidence(0.82);
    return d.reference;
  },
);
recordOversight({ decision: reference, action: 'approve', reviewer: 'alice@example.com' });
await sdk.shutdown();
