import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const env = { ...process.env, DECISIONTRAIL_HMAC_KEY: 'child-key', DECISIONTRAIL_HMAC_KEY_ID: 'child' };

interface ChildSpan {
  name: string;
  attributes: Record<string, unknown>;
}

async function auditSpans(preloadFlag: '--import' | '-r', app: string): Promise<ChildSpan[]> {
  // process.execPath is the pinned Node 22 under vitest; the source condition resolves workspace packages to src.
  const { stdout } = await run(
    process.execPath,
    [
      '--conditions=@decisiontrail/source',
      preloadFlag,
      '@decisiontrail/instrumentation/register',
      fixture(app),
    ],
    { cwd: repoRoot, env, timeout: 120_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildSpan[];
}

describe('register entry with the agent SDKs', () => {
  it('instruments an ESM application through node --import: genai, mistral, ai, LangChain and MCP subpaths', async () => {
    const spans = await auditSpans('--import', 'esm-agent-app.mjs');
    expect(spans.map((span) => [span.name, span.attributes['audit.record.type']])).toEqual([
      ['generate_content gemini-2.5-flash', 'decision'],
      ['chat mistral-small-latest', 'decision'],
      // The AI SDK's and LangChain's decisions; the openai client under ChatOpenAI records no second one.
      ['chat gpt-4o-mini', 'decision'],
      ['chat gpt-4.1-mini', 'decision'],
      ['execute_tool escalate_ticket', 'action'],
    ]);
    // Recorded at the framework level, where no base URL is known: a decision of the openai client would name it.
    expect(spans.slice(2, 4).map((span) => span.attributes['server.address'])).toEqual([
      undefined,
      undefined,
    ]);
    expect(spans[0]?.attributes['audit.input.hash_key_id']).toBe('child');
  }, 180_000);

  it('instruments a CommonJS application through node -r: genai, Bedrock, LangChain and the MCP client', async () => {
    const spans = await auditSpans('-r', 'cjs-agent-app.cjs');
    expect(
      spans.map((span) => [
        span.name,
        span.attributes['audit.record.type'],
        span.attributes['gen_ai.provider.name'],
      ]),
    ).toEqual([
      ['generate_content gemini-2.5-flash', 'decision', 'gcp.gemini'],
      ['chat anthropic.claude-3-5-haiku-20241022-v1:0', 'decision', 'aws.bedrock'],
      ['chat anthropic.claude-3-haiku-20240307-v1:0', 'decision', 'aws.bedrock'],
      ['chat gpt-4.1-mini', 'decision', 'openai'],
      // The MCP SDK's CommonJS client (its package has no main file for require-in-the-middle to place it by).
      ['execute_tool escalate_ticket', 'action', undefined],
    ]);
    expect(spans[3]?.attributes['server.address']).toBeUndefined();
    expect(spans[4]?.attributes['gen_ai.tool.name']).toBe('escalate_ticket');
  }, 180_000);
});
