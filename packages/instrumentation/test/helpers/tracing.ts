import { type Attributes, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/** A tracer provider with an in-memory exporter, installed as the global one (once per test file). */
export interface TestTracing {
  provider: TracerProvider;
  exporter: InMemorySpanExporter;
  /** Finished spans so far. */
  spans(): ReadableSpan[];
  /** Forgets finished spans. */
  reset(): void;
}

/** Installs a global provider and context manager; each vitest file runs in its own process, so once per file. */
export function installTestTracing(sampler: Sampler = new AlwaysOnSampler()): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { provider, exporter, spans: () => exporter.getFinishedSpans(), reset: () => exporter.reset() };
}

/** Waits until `predicate` holds over the finished spans (spans end on asynchronous SDK callbacks). */
export async function waitForSpans(
  tracing: TestTracing,
  predicate: (spans: ReadableSpan[]) => boolean,
  timeoutMs = 5_000,
): Promise<ReadableSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = tracing.spans();
    if (predicate(spans)) return spans;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for spans; have: ${spans.map((s) => s.name).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Every attribute value of every span (and its events and links) as strings, for plaintext scans. */
export function allAttributeText(spans: ReadableSpan[]): string[] {
  const values: string[] = [];
  const add = (attributes: Attributes | undefined) => {
    for (const [key, value] of Object.entries(attributes ?? {}))
      values.push(`${key}=${JSON.stringify(value)}`);
  };
  for (const span of spans) {
    values.push(span.name);
    add(span.attributes);
    for (const event of span.events) add(event.attributes);
    for (const link of span.links) add(link.attributes);
  }
  return values;
}
