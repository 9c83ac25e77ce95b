// Scenario (b) of the packaging test: an application with no decisiontrail code, started with
// `node --import @decisiontrail/instrumentation/register` and DECISIONTRAIL_START_SDK=true. Its one openai call
// runs inside a request span of the plain OpenTelemetry API, whose trace id it prints (as JSON), so the test can
// ask `decisiontrail timeline <trace id>` for the decision the register entry recorded.
import { trace } from '@opentelemetry/api';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.TEST_OPENAI_URL, apiKey: 'test', maxRetries: 0 });
const traceId = await trace.getTracer('zero-code-app').startActiveSpan('POST /summaries', async (span) => {
  try {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Summarise the application.' }],
    });
    if (completion.choices[0]?.message?.content === undefined) throw new Error('no answer');
    return span.spanContext().traceId;
  } finally {
    span.end();
  }
});
process.stdout.write(`${JSON.stringify({ traceId })}\n`);
