import { FileCheckpointWitness, type SigningKey } from '@decisiontrail/core';
import { DurableSpanProcessor } from '@decisiontrail/signing-exporter';
import {
  AiAuditInstrumentation,
  AuditSampler,
  type AiAuditInstrumentationConfig,
} from '@decisiontrail/instrumentation';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@decisiontrail/semconv';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, TracerProvider } from '@opentelemetry/sdk-trace';

/** Options of {@link startDemoTelemetry}. */
export interface DemoTelemetryOptions {
  /** Base URL of the processor's OTLP/HTTP receiver. */
  processorUrl: string;
  /** Key that signs this stream's checkpoints. */
  key: SigningKey;
  /** Directory of the durable spool (spans wait there until the processor acknowledges them). */
  spoolDir: string;
  /** Witness file that keeps every checkpoint outside the store. */
  witnessPath: string;
  /** Audit configuration of the instrumentation (HMAC key, per-model facts). */
  audit: AiAuditInstrumentationConfig;
  /** `service.name` of the demo application. */
  serviceName: string;
}

/** The demo application's OpenTelemetry setup. */
export interface DemoTelemetry {
  instrumentation: AiAuditInstrumentation;
  /** The integrity stream id of this process. */
  streamId: string;
  /** Exports everything recorded so far and waits for the processor to acknowledge it. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Wires the demo application the way a production service is wired: the OpenTelemetry SDK with the AuditSampler,
 * the audit instrumentation, and the signing exporter's DurableSpanProcessor, which signs every ended span into
 * this process's integrity stream, writes it to an on-disk spool (sealed with a signed checkpoint and an fsync per
 * batch) and ships the spool over OTLP/HTTP (protobuf) to the processor, retrying until it is acknowledged.
 */
export function startDemoTelemetry(options: DemoTelemetryOptions): DemoTelemetry {
  const durable = new DurableSpanProcessor({
    exporter: new OTLPTraceExporter({ url: `${options.processorUrl}/v1/traces`, timeoutMillis: 30_000 }),
    key: options.key,
    spoolDir: options.spoolDir,
    witness: new FileCheckpointWitness(options.witnessPath),
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: '2026.3.0',
    }),
    sampler: new AuditSampler(new AlwaysOnSampler()),
    spanProcessors: [durable],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  const instrumentation = new AiAuditInstrumentation(options.audit);
  instrumentation.setTracerProvider(provider);
  instrumentation.enable();
  return {
    instrumentation,
    streamId: durable.streamId,
    flush: () => provider.forceFlush(),
    async shutdown() {
      instrumentation.disable();
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}
