// A customer-support assistant on the official openai client. Each answer, streamed token by token, is an audit
// decision (gen_ai.* attributes plus audit.*: model and served snapshot, hashed prompt and answer, subject,
// session); the customer's thumbs-down is feedback, and the hand-off to a person is an escalation.
import {
  AiAuditInstrumentation,
  AuditSampler,
  recordFeedback,
  recordOversight,
  withAuditContext,
  type DecisionReference,
} from '@decisiontrail/instrumentation';
import { loadSigningKey, SigningSpanExporter } from '@decisiontrail/signing-exporter';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, BatchSpanProcessor } from '@opentelemetry/sdk-trace';

let lastAnswer: DecisionReference | undefined;
const audit = new AiAuditInstrumentation({
  hmacKey: process.env['DECISIONTRAIL_HMAC_KEY'],
  // Prompts and answers are stored with e-mail addresses, phone numbers and card numbers redacted.
  captureInput: 'redact',
  captureOutput: 'redact',
  models: { 'gpt-4o-mini': { riskLevel: 'limited', purpose: 'customer support answers' } },
  // The reference of each recorded answer, to attach feedback and oversight to it later.
  onDecision: (reference) => (lastAnswer = reference),
});
const sdk = new NodeSDK({
  serviceName: 'support-assistant',
  sampler: new AuditSampler(new AlwaysOnSampler()),
  instrumentations: [audit],
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

// ES modules are patched by the loader hook when the app starts with `node --import
// @decisiontrail/instrumentation/register`; without it, hand the module to the instrumentation once.
const openaiModule = await import('openai');
audit.manuallyInstrument(openaiModule, 'openai');
const client = new openaiModule.OpenAI({
  baseURL: process.env['OPENAI_BASE_URL'],
  apiKey: process.env['OPENAI_API_KEY'] ?? 'local',
});

const question = 'My order 1182 arrived broken, can I get my money back? Reach me at jo@example.com.';
await withAuditContext(
  { subjectId: 'customer-4411', sessionId: 'chat-2026-03-01-17', actorId: 'support-web' },
  async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are a helpful support assistant for an online shop.' },
        { role: 'user', content: question },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
    process.stdout.write('\n');
  },
);

// The decision span ended with the stream; its reference came through onDecision.
export const answer = lastAnswer!;
recordFeedback({
  decision: answer,
  correct: false,
  actualOutcome: 'customer needed a replacement, not a refund',
  source: 'thumbs-down',
});
recordOversight({
  decision: answer,
  action: 'escalate',
  reviewer: 'support-agent-maria',
  reason: 'customer asked for a person',
});
await sdk.shutdown();
