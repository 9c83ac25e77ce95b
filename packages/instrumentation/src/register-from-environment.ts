import { diag } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';
import { AuditSampler } from './audit-sampler.ts';
import { AiAuditInstrumentation } from './instrumentation.ts';

/** The part of `@opentelemetry/sdk-node` the register entry uses when asked to start an SDK. */
export interface NodeSdkModule {
  startNodeSdk(options: {
    instrumentations?: AiAuditInstrumentation[];
    sampler?: Sampler;
    spanProcessors?: SpanProcessor[];
  }): { shutdown(): Promise<void> };
}

/** Environment switch: `true` makes the register entry start the OpenTelemetry Node SDK from OTEL_* variables. */
export const START_SDK_VARIABLE = 'DECISIONTRAIL_START_SDK';

/**
 * What `--import` / `-r @decisiontrail/instrumentation/register` does after installing the module hooks: creates an
 * {@link AiAuditInstrumentation} configured from the environment and registers it with the global providers (an SDK
 * the application starts later picks its spans up). With DECISIONTRAIL_START_SDK=true it also starts the Node SDK
 * from OTEL_* variables, with the OTEL_TRACES_SAMPLER sampler wrapped in an {@link AuditSampler}; `loadSdk` supplies
 * `@opentelemetry/sdk-node`, which the application must have installed.
 */
export function registerFromEnvironment(
  loadSdk: () => NodeSdkModule,
  env: NodeJS.ProcessEnv = process.env,
): AiAuditInstrumentation | undefined {
  try {
    const instrumentation = new AiAuditInstrumentation();
    if (env[START_SDK_VARIABLE]?.toLowerCase() === 'true') {
      const sdk = loadSdk().startNodeSdk({
        instrumentations: [instrumentation],
        sampler: new AuditSampler(samplerFromEnvironment(env)),
      });
      process.once(
        'beforeExit',
        () => void sdk.shutdown().catch((error: unknown) => diag.error('SDK shutdown failed', error)),
      );
    } else {
      registerInstrumentations({ instrumentations: [instrumentation] });
    }
    return instrumentation;
  } catch (error) {
    // The application must start even when its audit instrumentation cannot.
    diag.error('@decisiontrail/instrumentation/register: could not register', error);
    return undefined;
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
