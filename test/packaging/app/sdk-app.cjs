// Scenario (a) of the packaging test, run inside an application that installed the packed tarballs: the README's
// "add decisiontrail to an existing OpenTelemetry setup" in a CommonJS service — NodeSDK, the audit instrumentation
// and a DurableSpanProcessor exporting over OTLP to `decisiontrail serve` — then one openai chat completion, one
// streamed, and one decision() of a model called by hand. Prints the decision ids as one JSON line.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS application */
const { AiAuditInstrumentation, AuditSampler, decision } = require('@decisiontrail/instrumentation');
const { DurableSpanProcessor, loadSigningKey } = require('@decisiontrail/signing-exporter');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { AlwaysOnSampler } = require('@opentelemetry/sdk-trace');

async function main() {
  const llmDecisionIds = [];
  const sdk = new NodeSDK({
    serviceName: 'packaging-sdk-app',
    sampler: new AuditSampler(new AlwaysOnSampler()),
    instrumentations: [
      new AiAuditInstrumentation({
        hmacKey: process.env.DECISIONTRAIL_HMAC_KEY,
        onDecision: (reference) => llmDecisionIds.push(reference.decisionId),
      }),
    ],
    spanProcessors: [
      new DurableSpanProcessor({
        exporter: new OTLPTraceExporter(),
        key: await loadSigningKey('.decisiontrail/keys/signing.key'),
        spoolDir: '.decisiontrail/spool-sdk-app',
      }),
    ],
  });
  sdk.start();

  // Required after sdk.start(): the instrumentation patches openai as it is loaded.
  const { OpenAI } = require('openai');
  const client = new OpenAI({ baseURL: process.env.TEST_OPENAI_URL, apiKey: 'test', maxRetries: 0 });
  const completion = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Summarise the application.' }],
  });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Draft a letter.' }],
    stream: true,
  });
  let streamed = '';
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
  if (completion.choices[0]?.message?.content === undefined || streamed === '') {
    throw new Error('the local OpenAI-compatible server gave no answer');
  }
  const manual = decision(
    { modelId: 'loan-rules', version: '1.4.0', riskLevel: 'high', input: { income: 52_000 } },
    (d) => {
      d.setOutcome('approve');
      d.setConfidence(0.82);
      return d.reference;
    },
  );
  await sdk.shutdown();
  process.stdout.write(`${JSON.stringify({ llmDecisionIds, manualDecisionId: manual.decisionId })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
