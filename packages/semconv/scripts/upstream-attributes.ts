import type { UpstreamAttribute } from './registry-types.ts';

/**
 * The attributes of the upstream OpenTelemetry registry (the manifest's `otel` dependency) that decisiontrail
 * emits or reads. They are copied into generated local constants because upstream advises instrumentations not to
 * import `@opentelemetry/semantic-conventions/incubating` at runtime: incubating names can change between releases.
 * Span definitions may reference these keys; any other non-`audit.` key is an undefined attribute.
 */
export const UPSTREAM_ATTRIBUTES: readonly UpstreamAttribute[] = [
  {
    key: 'gen_ai.operation.name',
    type: 'string',
    brief: 'The name of the GenAI operation being performed.',
    values: [
      ['CHAT', 'chat'],
      ['TEXT_COMPLETION', 'text_completion'],
      ['EMBEDDINGS', 'embeddings'],
      ['GENERATE_CONTENT', 'generate_content'],
      ['EXECUTE_TOOL', 'execute_tool'],
    ],
  },
  {
    key: 'gen_ai.provider.name',
    type: 'string',
    brief: 'The GenAI provider as identified by the client or server instrumentation.',
    values: [
      ['OPENAI', 'openai'],
      ['ANTHROPIC', 'anthropic'],
      ['GCP_GEMINI', 'gcp.gemini'],
      ['GCP_VERTEX_AI', 'gcp.vertex_ai'],
      ['AWS_BEDROCK', 'aws.bedrock'],
      ['MISTRAL_AI', 'mistral_ai'],
    ],
  },
  {
    key: 'gen_ai.request.model',
    type: 'string',
    brief: 'The name of the GenAI model a request is being made to.',
    values: [],
  },
  {
    key: 'gen_ai.response.model',
    type: 'string',
    brief: 'The name of the model that generated the response.',
    values: [],
  },
  {
    key: 'gen_ai.response.id',
    type: 'string',
    brief: 'The unique identifier for the completion.',
    values: [],
  },
  {
    key: 'gen_ai.response.finish_reasons',
    type: 'string[]',
    brief: 'Array of reasons the model stopped generating tokens, corresponding to each generation received.',
    values: [],
  },
  {
    key: 'gen_ai.usage.input_tokens',
    type: 'int',
    brief: 'The number of tokens used in the GenAI input (prompt).',
    values: [],
  },
  {
    key: 'gen_ai.usage.output_tokens',
    type: 'int',
    brief: 'The number of tokens used in the GenAI response (completion).',
    values: [],
  },
  {
    key: 'gen_ai.input.messages',
    type: 'string',
    brief:
      'The chat history provided to the model as an input, as JSON following the GenAI input messages schema.',
    values: [],
  },
  {
    key: 'gen_ai.output.messages',
    type: 'string',
    brief: 'Messages returned by the model, as JSON following the GenAI output messages schema.',
    values: [],
  },
  {
    key: 'gen_ai.request.temperature',
    type: 'double',
    brief: 'The temperature setting for the GenAI request.',
    values: [],
  },
  {
    key: 'gen_ai.request.max_tokens',
    type: 'int',
    brief: 'The maximum number of tokens the model generates for a request.',
    values: [],
  },
  {
    key: 'gen_ai.request.seed',
    type: 'int',
    brief: 'Requests with same seed value more likely to return same result.',
    values: [],
  },
  {
    key: 'gen_ai.output.type',
    type: 'string',
    brief: 'Represents the content type requested by the client.',
    values: [],
  },
  {
    key: 'gen_ai.tool.name',
    type: 'string',
    brief: 'Name of the tool utilized by the agent.',
    values: [],
  },
  {
    key: 'gen_ai.tool.call.id',
    type: 'string',
    brief: 'The tool call identifier.',
    values: [],
  },
  {
    key: 'gen_ai.tool.type',
    type: 'string',
    brief: 'Type of the tool utilized by the agent.',
    values: [],
  },
  {
    key: 'error.type',
    type: 'string',
    brief: 'Describes a class of error the operation ended with.',
    values: [],
  },
  { key: 'session.id', type: 'string', brief: 'A unique id to identify a session.', values: [] },
  { key: 'user.id', type: 'string', brief: 'Unique identifier of the user.', values: [] },
  {
    key: 'server.address',
    type: 'string',
    brief: 'Server domain name, IP address or Unix domain socket name.',
    values: [],
  },
  { key: 'server.port', type: 'int', brief: 'Server port number.', values: [] },
  { key: 'service.name', type: 'string', brief: 'Logical name of the service.', values: [] },
  {
    key: 'service.version',
    type: 'string',
    brief: 'The version string of the service API or implementation.',
    values: [],
  },
];
