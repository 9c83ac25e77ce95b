import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for api.openai.com, used only when OPENAI_BASE_URL is not set, so the example runs without a network
 * or an API key. It speaks the Chat Completions wire format over real HTTP, including `stream: true` as
 * server-sent events with a final usage chunk, which is all the example needs.
 */
export async function startLocalOpenAiServer(): Promise<{ baseURL: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const { model, messages, stream } = JSON.parse(body) as {
        model: string;
        messages: { content: string }[];
        stream?: boolean;
      };
      const question = messages.at(-1)?.content ?? '';
      const answer = `You asked: "${question}". Refunds are possible within 30 days of delivery; I have opened a request for you.`;
      const words = answer.split(/(?<= )/);
      const usage = {
        prompt_tokens: question.split(' ').length,
        completion_tokens: words.length,
        total_tokens: question.split(' ').length + words.length,
      };
      const base = {
        id: `chatcmpl-local-${Date.now()}`,
        created: Math.floor(Date.now() / 1000),
        model: `${model}-2026-01-01`,
      };
      if (stream !== true) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            ...base,
            object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
            usage,
          }),
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const send = (chunk: object) =>
        response.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...chunk })}\n\n`);
      for (const word of words)
        send({ choices: [{ index: 0, delta: { content: word }, finish_reason: null }] });
      send({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      send({ choices: [], usage });
      response.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
