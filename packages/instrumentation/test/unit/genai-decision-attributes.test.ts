import {
  AUDIT_ACTOR_TYPE_VALUES,
  AUDIT_DECISION_AUTOMATION_VALUES,
  AUDIT_DECISION_RISK_LEVEL_VALUES,
  AUDIT_DECISION_TYPE_VALUES,
  AUDIT_MODEL_TYPE_VALUES,
  AUDIT_RETENTION_CLASS_VALUES,
} from '@decisiontrail/semconv';
import { type Attributes, trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { beforeEach, describe, expect, it } from 'vitest';
import { withAuditContext } from '@decisiontrail/instrumentation';
import type { AuditContextValues, DecisionReference, ModelAuditConfig } from '@decisiontrail/instrumentation';
import {
  addDecisionStartAttributes,
  GenAiDecision,
  modelConfigFor,
  recordField,
  resolveAuditSettings,
} from '@decisiontrail/instrumentation/internal';
import type { AuditSettings } from '@decisiontrail/instrumentation/internal';
import { installTestTracing } from '../helpers/tracing.ts';

const tracing = installTestTracing();
const tracer = () => trace.getTracer('genai-decision-test');
type Request = Parameters<typeof GenAiDecision.start>[2];

/** xorshift32 from a fixed seed: the same cases on every run. */
function randomSource(seed: number) {
  let state = seed;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const maybe = <T>(value: () => T): T | undefined => (next() < 0.5 ? value() : undefined);
  return { next, pick, maybe };
}

/**
 * The start attributes of an LLM decision by the general rule every decision follows (request, server, the
 * `audit.*` start attributes, the input under its capture mode), without the per-model cache: the reference the
 * cached path must match.
 */
function referenceStartAttributes(
  settings: AuditSettings,
  request: Request,
  auditContext: AuditContextValues,
): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': request.operation,
    'gen_ai.provider.name': request.provider,
    'gen_ai.request.model': request.model,
    ...request.requestAttributes,
  };
  if (request.baseUrl !== undefined && URL.canParse(request.baseUrl)) {
    const url = new URL(request.baseUrl);
    attributes['server.address'] = url.hostname;
    attributes['server.port'] = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  }
  addDecisionStartAttributes(
    attributes,
    {
      modelId: request.model,
      modelType: request.modelType ?? AUDIT_MODEL_TYPE_VALUES.LLM,
      version: undefined,
      defaultDecisionType: request.decisionType ?? AUDIT_DECISION_TYPE_VALUES.GENERATION,
    },
    modelConfigFor(settings, request.model),
    auditContext,
  );
  recordField(
    attributes,
    'input',
    request.input,
    settings.captureInput,
    settings,
    auditContext.subjectId,
    'gen_ai.input.messages',
  );
  return attributes;
}

function randomModelConfig(random: ReturnType<typeof randomSource>): ModelAuditConfig {
  const config: ModelAuditConfig = {};
  const { pick, maybe } = random;
  const set = <K extends keyof ModelAuditConfig>(key: K, value: ModelAuditConfig[K] | undefined) => {
    if (value !== undefined) config[key] = value;
  };
  set(
    'modelId',
    maybe(() => pick(['credit-v2', 'triage'])),
  );
  set(
    'version',
    maybe(() => pick(['1.0.0', '2025-01'])),
  );
  set(
    'decisionType',
    maybe(() => pick(Object.values(AUDIT_DECISION_TYPE_VALUES))),
  );
  set(
    'riskLevel',
    maybe(() => pick(Object.values(AUDIT_DECISION_RISK_LEVEL_VALUES))),
  );
  set(
    'purpose',
    maybe(() => pick(['support triage', 'credit scoring'])),
  );
  set(
    'automation',
    maybe(() => pick(Object.values(AUDIT_DECISION_AUTOMATION_VALUES))),
  );
  set(
    'retentionClass',
    maybe(() => pick(Object.values(AUDIT_RETENTION_CLASS_VALUES))),
  );
  set(
    'provenance',
    maybe(() => ({
      ...(random.next() < 0.5 ? { weightsHash: 'sha256:ab12' } : {}),
      ...(random.next() < 0.5 ? { codeCommit: 'c0ffee' } : {}),
      ...(random.next() < 0.5 ? { inferenceSeed: 7 } : {}),
      ...(random.next() < 0.5 ? { inferenceParameters: { top_p: 0.9, temperature: 0 } } : {}),
    })),
  );
  return config;
}

describe('GenAiDecision start attributes', () => {
  beforeEach(() => tracing.reset());

  it('equal the general rule over random configurations, requests and audit contexts, call after call', () => {
    const random = randomSource(0x5eed1234);
    const { pick, maybe } = random;
    let decisions = 0;
    for (let configuration = 0; configuration < 40; configuration++) {
      const settings = resolveAuditSettings(
        {
          hmacKey: 'property-test-key',
          captureInput: pick(['hash', 'none', 'full', 'redact'] as const),
          codeCommit: pick(['', 'abc123']),
          defaultModel: randomModelConfig(random),
          models: { 'gpt-4o-mini': randomModelConfig(random), 'claude-x': randomModelConfig(random) },
        },
        {},
      );
      // Several calls on one settings object: the per-model attributes are worked out once and reused, so any
      // per-call value (context, request, input) leaking into them would show in a later call.
      for (let call = 0; call < 25; call++) {
        const request: Request = {
          operation: pick(['chat', 'text_completion']),
          provider: pick(['openai', 'anthropic']),
          model: pick(['gpt-4o-mini', 'claude-x', 'local-llm']),
          ...(random.next() < 0.3 ? { modelType: AUDIT_MODEL_TYPE_VALUES.OTHER } : {}),
          ...(random.next() < 0.3 ? { decisionType: AUDIT_DECISION_TYPE_VALUES.CLASSIFICATION } : {}),
          baseUrl: pick([undefined, 'http://127.0.0.1:8080/v1', 'https://api.example.com/v1', 'not a url']),
          requestAttributes: random.next() < 0.5 ? {} : { 'gen_ai.request.temperature': 0.2 },
          input: [{ role: 'user', content: `case ${decisions} mail me at x${call}@example.com` }],
        };
        const auditContext: AuditContextValues = {};
        const subjectId = maybe(() => `subject-${call}`);
        if (subjectId !== undefined) auditContext.subjectId = subjectId;
        const actorId = maybe(() => 'clerk-7');
        if (actorId !== undefined) auditContext.actorId = actorId;
        const actorType = maybe(() => pick(Object.values(AUDIT_ACTOR_TYPE_VALUES)));
        if (actorType !== undefined) auditContext.actorType = actorType;
        const purpose = maybe(() => 'fraud review');
        if (purpose !== undefined) auditContext.purpose = purpose;
        const fairnessGroup = maybe(() => 'g2');
        if (fairnessGroup !== undefined) auditContext.fairnessGroup = fairnessGroup;

        tracing.reset();
        const started = withAuditContext(auditContext, () =>
          GenAiDecision.start(tracer(), settings, request),
        );
        started.end({});
        decisions += 1;
        const [span] = tracing.spans();
        const expected = referenceStartAttributes(settings, request, auditContext);
        const actual = { ...span!.attributes };
        expect(actual['audit.decision.id']).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );
        delete actual['audit.decision.id'];
        delete expected['audit.decision.id'];
        expect(actual).toEqual(expected);
        expect(span!.name).toBe(`${request.operation} ${request.model}`);
      }
    }
    expect(decisions).toBe(1000);
  });

  it('gives a sampler the GenAI sampling attributes and audit.record.type at span start', () => {
    const seen: Attributes[] = [];
    const provider = new TracerProvider({
      sampler: {
        shouldSample: (_context, _traceId, _name, _kind, attributes) => {
          seen.push({ ...attributes });
          return { decision: 2 };
        },
        toString: () => 'recording-sampler',
      },
    });
    const settings = resolveAuditSettings({ hmacKey: 'k', models: { m: { riskLevel: 'high' } } }, {});
    GenAiDecision.start(provider.getTracer('t'), settings, {
      operation: 'chat',
      provider: 'openai',
      model: 'm',
      baseUrl: 'https://api.example.com/v1',
      requestAttributes: {},
      input: 'hello',
    }).end({});
    expect(seen).toEqual([
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'm',
        'server.address': 'api.example.com',
        'server.port': 443,
        'audit.record.type': 'decision',
      },
    ]);
  });

  it('computes nothing more for a span that does not record, and still hands out the decision reference', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const references: DecisionReference[] = [];
    let inputRead = false;
    const settings = resolveAuditSettings(
      { hmacKey: 'k', onDecision: (reference) => references.push(reference) },
      {},
    );
    const input = {
      get messages() {
        inputRead = true;
        return ['hello'];
      },
    };
    const started = GenAiDecision.start(provider.getTracer('t'), settings, {
      operation: 'chat',
      provider: 'openai',
      model: 'm',
      baseUrl: undefined,
      requestAttributes: {},
      input,
    });
    expect(started.span.isRecording()).toBe(false);
    started.end({ responseModel: 'm-2026-01-01', output: [{ role: 'assistant', content: 'hi' }] });
    expect(inputRead).toBe(false);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(references).toHaveLength(1);
    expect(references[0]).toMatchObject({ modelId: 'm', modelVersion: 'm-2026-01-01', traceFlags: 0 });
    expect(references[0]!.decisionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });
});

describe('GenAiDecision output capture mode', () => {
  beforeEach(() => tracing.reset());
  const request: Request = {
    operation: 'chat',
    provider: 'openai',
    model: 'gpt-4o-mini',
    baseUrl: undefined,
    requestAttributes: {},
    input: [{ role: 'user', content: 'hello' }],
  };
  const settings = resolveAuditSettings({ hmacKey: 'k' }, {});
  const outputAttributes = () =>
    Object.fromEntries(
      Object.entries(tracing.spans()[0]!.attributes).filter(([key]) => key.startsWith('audit.output.')),
    );

  it('is set once, at the end: hash with the output, none without one or when the call failed', () => {
    GenAiDecision.start(tracer(), settings, request).end({ output: [{ role: 'assistant', content: 'hi' }] });
    expect(outputAttributes()).toMatchObject({ 'audit.output.capture_mode': 'hash' });
    expect(outputAttributes()['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);

    tracing.reset();
    GenAiDecision.start(tracer(), settings, request).end({ responseModel: 'gpt-4o-mini-2026' });
    expect(outputAttributes()).toEqual({ 'audit.output.capture_mode': 'none' });

    tracing.reset();
    GenAiDecision.start(tracer(), settings, request).fail(new Error('upstream 500'));
    expect(outputAttributes()).toEqual({ 'audit.output.capture_mode': 'none' });
    expect(tracing.spans()[0]!.attributes['audit.input.capture_mode']).toBe('hash');

    tracing.reset();
    // A result whose reading throws: the decision still ends with both capture modes.
    const unreadable = {
      get output(): unknown {
        throw new Error('unreadable');
      },
    };
    GenAiDecision.start(tracer(), settings, request).end(unreadable);
    expect(outputAttributes()).toEqual({ 'audit.output.capture_mode': 'none' });
  });
});
