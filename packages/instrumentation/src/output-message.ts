/** A tool call the model asked for, in the provider-neutral output form. */
export interface OutputToolCall {
  id: string;
  name: string;
  /** The arguments as compact JSON text (re-serialized when they parse, so plain and streamed calls agree). */
  arguments: string;
}

/**
 * One generated message — the output form every LLM decision is hashed, redacted or encrypted in. Plain and
 * streamed calls assemble the same form, so their output hashes agree; tool calls are part of it because asking
 * for a tool is the decision in agentic use.
 */
export interface OutputMessage {
  role: 'assistant';
  content: string;
  tool_calls?: OutputToolCall[];
}

/** Builds an {@link OutputMessage}, leaving `tool_calls` out when there are none. */
export function outputMessage(content: string, toolCalls: readonly OutputToolCall[] = []): OutputMessage {
  return toolCalls.length === 0
    ? { role: 'assistant', content }
    : { role: 'assistant', content, tool_calls: [...toolCalls] };
}

/** Compact JSON text of tool arguments given as an object or as (possibly partial) JSON text. */
export function normalizeToolArguments(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value ?? {});
  try {
    return JSON.stringify(JSON.parse(value));
  } catch {
    // A stream cut short leaves partial JSON: record what arrived.
    return value;
  }
}
