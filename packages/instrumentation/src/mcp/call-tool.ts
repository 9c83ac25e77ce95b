import { context, diag } from '@opentelemetry/api';
import type { JsonObject, ResourceMethod } from '../internal-types.ts';
import type { PatchHost } from '../patched-create.ts';
import { ToolAction } from '../tool-action.ts';

/** MCP tools are reached through a protocol, outside the agent: GenAI semconv's `extension` tool type. */
const MCP_TOOL_TYPE = 'extension';

/**
 * Wraps `Client.prototype.callTool` of `@modelcontextprotocol/sdk` so each tool run becomes an `execute_tool {tool}`
 * action span: the arguments are its input, the `CallToolResult` (minus the protocol's `_meta`) its output, and a
 * result with `isError` marks the run failed. The SDK's promise is returned untouched; failures inside the
 * instrumentation go to `diag` and the call proceeds.
 */
export function patchCallTool(host: PatchHost) {
  return (original: ResourceMethod): ResourceMethod =>
    function patchedCallTool(this: unknown, ...args: unknown[]): unknown {
      if (!host.isEnabled()) return original.apply(this as never, args);
      let action: ToolAction;
      try {
        const params = (args[0] ?? {}) as JsonObject;
        action = ToolAction.start(host.tracer(), host.settings(), {
          toolName: String(params['name']),
          toolType: MCP_TOOL_TYPE,
          arguments: params['arguments'] ?? {},
        });
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not start a tool action span', error);
        return original.apply(this as never, args);
      }
      let returned: unknown;
      try {
        returned = context.with(action.context, () => original.apply(this as never, args));
      } catch (error) {
        action.fail(error);
        throw error;
      }
      if (!(returned instanceof Promise)) {
        action.end(undefined, false);
        return returned;
      }
      returned.then(
        (result: unknown) => {
          const { _meta: _ignored, ...recorded } = (result ?? {}) as JsonObject;
          action.end(recorded, recorded['isError'] === true);
        },
        (error: unknown) => action.fail(error),
      );
      return returned;
    };
}
