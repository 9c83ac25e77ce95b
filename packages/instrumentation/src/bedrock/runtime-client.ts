import type { JsonObject, ResourceMethod } from '../internal-types.ts';
import type { CallRecogniser, CreateMethodSpec } from '../patched-create.ts';
import { converseSpec, converseStreamSpec } from './converse.ts';
import { invokeModelSpec, invokeModelWithResponseStreamSpec } from './invoke-model.ts';

/** The commands recorded as decisions, by their export name in `@aws-sdk/client-bedrock-runtime`. */
const COMMAND_SPECS: readonly (readonly [string, CreateMethodSpec])[] = [
  ['ConverseCommand', converseSpec],
  ['ConverseStreamCommand', converseStreamSpec],
  ['InvokeModelCommand', invokeModelSpec],
  ['InvokeModelWithResponseStreamCommand', invokeModelWithResponseStreamSpec],
];

/**
 * Recognises the `send(command)` calls of a `BedrockRuntimeClient` whose command is one of the recorded ones, by
 * the command classes of the same module (so a bundler renaming classes changes nothing). The aggregated
 * `BedrockRuntime` client's methods go through `send` too.
 */
export function recogniseBedrockCommand(moduleExports: unknown): CallRecogniser {
  const exports = (moduleExports ?? {}) as Record<string, unknown>;
  const specs = new Map<unknown, CreateMethodSpec>();
  for (const [name, spec] of COMMAND_SPECS)
    if (typeof exports[name] === 'function') specs.set(exports[name], spec);
  // The client resolves its endpoint asynchronously (a provider function, even when configured as text), so the
  // span, which starts before the request, carries no server.address / server.port.
  return (_self, args) => {
    const command = args[0] as { constructor?: unknown; input?: unknown } | undefined;
    const spec = specs.get(command?.constructor);
    if (!spec) return undefined;
    return {
      spec,
      params: (command?.input ?? {}) as JsonObject,
      baseUrl: undefined,
    };
  };
}

/**
 * Lets the promise-based patched `send` serve the callback form as well (`send(command, cb)` and
 * `send(command, options, cb)`), settling the callback exactly as the Smithy client does.
 */
export function withSendCallbacks(patch: (original: ResourceMethod) => ResourceMethod) {
  return (original: ResourceMethod): ResourceMethod => {
    const patched = patch(original);
    return function send(this: unknown, ...args: unknown[]): unknown {
      const [command, optionsOrCallback, maybeCallback] = args;
      const callback = typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback;
      if (typeof callback !== 'function') return patched.apply(this as never, args);
      const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
      const settle = callback as (error: unknown, output?: unknown) => void;
      // As the Smithy client does: a throw inside the callback is the caller's and is not turned into a rejection.
      (patched.call(this as never, command, options) as Promise<unknown>)
        .then(
          (output) => settle(null, output),
          (error: unknown) => settle(error),
        )
        .catch(() => undefined);
      return undefined;
    };
  };
}
