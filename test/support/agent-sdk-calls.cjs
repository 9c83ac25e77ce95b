// The agent-SDK calls of the fixture apps (packages/instrumentation/test/fixtures/*-agent-app.*, and scenario (d) of
// test/packaging, which copies this file beside its app): one call of each SDK the app hands in, against the local
// wire-format servers, then one MCP tool run. The app loads the SDKs itself (require or import, from its own
// node_modules) so that the instrumentation hooks of its module system are the ones exercised; this file loads
// nothing. CommonJS without imports, so both kinds of app load it under Node 22 and 24 alike.
'use strict';

const PROMPT = 'Should ticket 1182 be escalated?';

/**
 * Calls, in this order, each SDK given: Gemini generateContent; Bedrock Converse and InvokeModelWithResponseStream
 * (another model, so the two decisions are told apart); Mistral chat; the Vercel AI SDK's generateText over the
 * OpenAI chat API; LangChain's ChatOpenAI (another model than the AI SDK's); an MCP tool run over the SDK's
 * in-memory transport.
 *
 * @param {object} sdks the SDK exports the app loaded: GoogleGenAI; BedrockRuntimeClient, ConverseCommand,
 *   InvokeModelWithResponseStreamCommand; Mistral; generateText, createOpenAI; ChatOpenAI; McpServer, Client,
 *   InMemoryTransport, z (each group optional)
 * @param {{ gemini?: string, bedrock?: object, mistral?: string, openai?: string }} endpoints the servers' base
 *   URLs; for Bedrock the client's configuration (endpoint, region, credentials)
 */
exports.callAgentSdks = async function callAgentSdks(sdks, endpoints) {
  if (sdks.GoogleGenAI) {
    await new sdks.GoogleGenAI({
      apiKey: 'test',
      httpOptions: { baseUrl: endpoints.gemini },
    }).models.generateContent({ model: 'gemini-2.5-flash', contents: PROMPT });
  }
  if (sdks.BedrockRuntimeClient) {
    const bedrock = new sdks.BedrockRuntimeClient(endpoints.bedrock);
    await bedrock.send(
      new sdks.ConverseCommand({
        modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
        messages: [{ role: 'user', content: [{ text: PROMPT }] }],
      }),
    );
    const streamed = await bedrock.send(
      new sdks.InvokeModelWithResponseStreamCommand({
        modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
        body: JSON.stringify({
          anthropic_version: 'bedrock-2023-05-31',
          max_tokens: 100,
          messages: [{ role: 'user', content: PROMPT }],
        }),
      }),
    );
    let chunks = 0;
    for await (const event of streamed.body) if (event.chunk) chunks += 1;
    if (chunks === 0) throw new Error('InvokeModelWithResponseStream sent no chunk');
    bedrock.destroy();
  }
  if (sdks.Mistral) {
    await new sdks.Mistral({ apiKey: 'test', serverURL: endpoints.mistral }).chat.complete({
      model: 'mistral-small-latest',
      messages: [{ role: 'user', content: PROMPT }],
    });
  }
  if (sdks.generateText) {
    await sdks.generateText({
      model: sdks.createOpenAI({ baseURL: endpoints.openai, apiKey: 'test' }).chat('gpt-4o-mini'),
      prompt: PROMPT,
    });
  }
  if (sdks.ChatOpenAI) {
    await new sdks.ChatOpenAI({
      model: 'gpt-4.1-mini',
      apiKey: 'test',
      maxRetries: 0,
      configuration: { baseURL: endpoints.openai },
    }).invoke(PROMPT);
  }
  if (sdks.McpServer) {
    const tools = new sdks.McpServer({ name: 'desk', version: '1.0.0' });
    tools.registerTool('escalate_ticket', { inputSchema: { action: sdks.z.string() } }, (args) => ({
      content: [{ type: 'text', text: `ticket ${args.action}d` }],
    }));
    const [clientTransport, serverTransport] = sdks.InMemoryTransport.createLinkedPair();
    await tools.connect(serverTransport);
    const mcp = new sdks.Client({ name: 'agent', version: '1.0.0' });
    await mcp.connect(clientTransport);
    await mcp.callTool({ name: 'escalate_ticket', arguments: { action: 'escalate' } });
    await mcp.close();
  }
};
