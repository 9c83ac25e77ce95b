import { createRequire } from 'node:module';
import { diag } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';
import { findConfigFile, loadConfigSync, type DecisionTrailConfig } from '@decisiontrail/core';
import { DurableSpanProcessor, FileCheckpointWitness } from '@decisiontrail/signing-exporter';
import { AuditSampler } from './audit-sampler.ts';
import { nonEmpty } from './config.ts';
import { AiAuditInstrumentation } from './instrumentation.ts';
import type { AuditConfig } from './types.ts';
import { SIGNING_VARIABLES, signingFromEnvironment } from './zero-code-signing.ts';

/** The part of `@opentelemetry/sdk-node` the register entry uses when asked to start an SDK. */
export interface NodeSdkModule {
  startNodeSdk(options: {
    instrumentations?: AiAuditInstrumentation[];
    sampler?: Sampler;
    spanProcessors?: SpanProcessor[];
  }): { shutdown(): Promise<void> };
}

/** An OTLP trace exporter package (`@opentelemetry/exporter-trace-otlp-proto`, `-http` or `-grpc`). */
export interface OtlpTraceExporterModule {
  OTLPTraceExporter: new () => SpanExporter;
}

/** Loads the OpenTelemetry packages the register entry needs from the application's installation. */
export interface RegisterModuleLoader {
  /** `@opentelemetry/sdk-node`. */
  sdk(): NodeSdkModule;
  /** The OTLP trace exporter package of the configured protocol, as sdk-node itself resolves it. */
  otlpTraceExporter(packageName: string): OtlpTraceExporterModule;
}

/**
 * Loads from the application's installation (resolved from `cwd`, as if the application imported them): sdk-node,
 * and the OTLP exporter packages beside the sdk-node that depends on them.
 */
export function applicationModuleLoader(cwd: string): RegisterModuleLoader {
  const requireFromApp = createRequire(`${cwd}/`);
  return {
    sdk: () => requireFromApp('@opentelemetry/sdk-node') as NodeSdkModule,
    otlpTraceExporter: (packageName) =>
      createRequire(requireFromApp.resolve('@opentelemetry/sdk-node'))(
        packageName,
      ) as OtlpTraceExporterModule,
  };
}

/** Environment switch: `true` makes the register entry start the OpenTelemetry Node SDK from OTEL_* variables. */
export const START_SDK_VARIABLE = 'DECISIONTRAIL_START_SDK';

const ENTRY = '@decisiontrail/instrumentation/register';

/**
 * What `--import` / `-r @decisiontrail/instrumentation/register` does after installing the module hooks: creates an
 * {@link AiAuditInstrumentation} configured from the environment and registers it with the global providers (an SDK
 * the application starts later picks its spans up). With DECISIONTRAIL_START_SDK=true it also starts the Node SDK
 * from OTEL_* variables, with the OTEL_TRACES_SAMPLER sampler wrapped in an {@link AuditSampler}; `modules` supplies
 * `@opentelemetry/sdk-node`, which the application must have installed. When a signing key is configured (see
 * {@link signingFromEnvironment}) that SDK exports through a {@link DurableSpanProcessor}: every span signed into a
 * stream and spooled on disk before it leaves over OTLP, and `fail-closed` decisions admitted by the spool. Without
 * a key, spans leave unsigned and the entry says so on stderr at start. The configuration file (DECISIONTRAIL_CONFIG,
 * else `decisiontrail.yaml` in the working directory) sets the content capture (`capture`), the input features each
 * model records for drift (`driftFeatures`) and the processor's checkpoint batching (`batch`); an invalid one keeps the entry from registering, with the reason on stderr. Nothing
 * here throws: the application starts even when its audit setup cannot.
 */
export function registerFromEnvironment(
  modules: RegisterModuleLoader = applicationModuleLoader(process.cwd()),
  env: NodeJS.ProcessEnv = process.env,
  stderr: { write(text: string): unknown } = process.stderr,
): AiAuditInstrumentation | undefined {
  const say = (line: string): void => void stderr.write(`${ENTRY}: ${line}\n`);
  try {
    // decisiontrail.yaml, when there is one, decides capture and batching; one it cannot use stops the entry here
    // (the catch below says why) rather than recording with settings the operator did not choose.
    const configFile = findConfigFile(process.cwd(), env);
    const config = configFile === undefined ? undefined : loadConfigSync(configFile, { env });
    const audit: AuditConfig =
      config === undefined
        ? {}
        : {
            captureInput: config.capture.input,
            captureOutput: config.capture.output,
            models: Object.fromEntries(
              Object.entries(config.driftFeatures).map(([model, driftFeatures]) => [
                model,
                { driftFeatures },
              ]),
            ),
          };
    if (env[START_SDK_VARIABLE]?.toLowerCase() !== 'true') {
      if ((nonEmpty(env[SIGNING_VARIABLES.key]) ?? nonEmpty(env[SIGNING_VARIABLES.keyFile])) !== undefined) {
        say(
          `a signing key is configured but ${START_SDK_VARIABLE} is not true: the application's own OpenTelemetry SDK ` +
            'exports the spans, signed only if it has a DurableSpanProcessor or SigningSpanExporter',
        );
      }
      const instrumentation = new AiAuditInstrumentation(audit);
      registerInstrumentations({ instrumentations: [instrumentation] });
      return instrumentation;
    }
    const sdkModule = modules.sdk();
    const signing = signingFromEnvironment(env, process.cwd(), config?.keys);
    let processor: DurableSpanProcessor | undefined;
    if (signing.kind === 'signed') {
      const exporterPackage = otlpTraceExporterPackage(env);
      processor = new DurableSpanProcessor({
        exporter: new (modules.otlpTraceExporter(exporterPackage).OTLPTraceExporter)(),
        key: signing.key,
        spoolDir: signing.spoolDir,
        witness: new FileCheckpointWitness(signing.witnessPath),
        ...(config !== undefined && batchOptions(config)),
      });
      say(
        `signing with key ${signing.key.keyId} (${signing.source}), spool ${signing.spoolDir}, stream ${processor.streamId}`,
      );
    } else {
      say(
        `${signing.reason}: audit records are exported UNSIGNED (decisiontrail verify reports them as unsigned)`,
      );
    }
    const instrumentation = new AiAuditInstrumentation(
      processor === undefined ? audit : { ...audit, recordAdmission: processor },
    );
    const sdk = sdkModule.startNodeSdk({
      instrumentations: [instrumentation],
      sampler: new AuditSampler(samplerFromEnvironment(env)),
      ...(processor !== undefined && { spanProcessors: [processor] }),
    });
    process.once(
      'beforeExit',
      () => void sdk.shutdown().catch((error: unknown) => diag.error('SDK shutdown failed', error)),
    );
    return instrumentation;
  } catch (error) {
    // The application must start even when its audit instrumentation cannot.
    say(`could not register: ${(error as Error).message}`);
    diag.error(`${ENTRY}: could not register`, error);
    return undefined;
  }
}

/** `batch` of decisiontrail.yaml as the signing span processor's options. */
function batchOptions(config: DecisionTrailConfig): { batchSize: number; sealIntervalMillis: number } {
  return { batchSize: config.batch.maxSpans, sealIntervalMillis: config.batch.flushIntervalMs };
}

/** The exporter package for OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL, as sdk-node maps it. */
export function otlpTraceExporterPackage(env: NodeJS.ProcessEnv): string {
  const protocol =
    env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'http/protobuf';
  switch (protocol.trim()) {
    case 'grpc':
      return '@opentelemetry/exporter-trace-otlp-grpc';
    case 'http/json':
      return '@opentelemetry/exporter-trace-otlp-http';
    default:
      return '@opentelemetry/exporter-trace-otlp-proto';
  }
}

/** The sampler OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG name (the spec's built-in values). */
export function samplerFromEnvironment(env: NodeJS.ProcessEnv): Sampler {
  const ratio = Number(env['OTEL_TRACES_SAMPLER_ARG'] ?? '1');
  const safeRatio = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1;
  switch (env['OTEL_TRACES_SAMPLER']) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(safeRatio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(safeRatio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
