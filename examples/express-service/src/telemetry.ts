// Loaded before the application (as `node --import ./telemetry.ts app.ts` would), so Express and node:http are
// patched when the app first imports them. The only decisiontrail additions to a stock OpenTelemetry setup are the
// AuditSampler, the AiAuditInstrumentation and the signing exporter.
import { register } from 'node:module';
import { AiAuditInstrumentation, AuditSampler } from '@decisiontrail/instrumentation';
import { loadSigningKey, SigningSpanExporter } from '@decisiontrail/signing-exporter';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler } from '@opentelemetry/sdk-trace';

// ES module imports of express go through this loader hook; node:http is patched through require by express.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['express'] } });

export const sdk = new NodeSDK({
  serviceName: 'loan-api',
  sampler: new AuditSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() })),
  instrumentations: [
    new HttpInstrumentation(),
    new ExpressInstrumentation(),
    new AiAuditInstrumentation({
      hmacKey: process.env['DECISIONTRAIL_HMAC_KEY'],
      models: { 'credit-policy': { riskLevel: 'high', purpose: 'consumer credit underwriting' } },
    }),
  ],
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
