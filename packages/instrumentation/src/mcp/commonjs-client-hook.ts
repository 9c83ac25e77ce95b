import { diag } from '@opentelemetry/api';
import type { InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { Hook } from 'require-in-the-middle';

/** The MCP SDK's CommonJS client file, as the instrumentation's module definition names it. */
export const MCP_COMMONJS_CLIENT_FILE = '@modelcontextprotocol/sdk/dist/cjs/client/index.js';

/** How require-in-the-middle names that file to a hook that lists it (`/index.js` dropped). */
const MCP_COMMONJS_CLIENT_MODULE = '@modelcontextprotocol/sdk/dist/cjs/client';

/** The base class's handler of a required module file: version check, patch, and re-patch on a later enable. */
type OnRequire = (
  module: InstrumentationModuleDefinition,
  exports: unknown,
  name: string,
  baseDir?: string,
) => unknown;

/**
 * Hooks `require()` of the MCP SDK's CommonJS client. The base class's single require hook never sees it:
 * require-in-the-middle places a file inside its package by resolving the package's main, and the SDK's `.` export
 * names a CommonJS index the package does not ship, so every file of it is passed over. A hook that lists the file by
 * name is called without that resolution; it hands the file to the base class's own handler, so the supported
 * versions, `disable()` and `enable()` apply to it exactly as to the ESM client and the other SDKs.
 *
 * `onRequire` is InstrumentationBase's handler (not part of its typed API): without it, the CommonJS client is
 * left unpatched with a diag warning, and `manuallyInstrument` still works.
 */
export function hookMcpCommonJsClient(
  module: InstrumentationModuleDefinition,
  onRequire: OnRequire | undefined,
): Hook | undefined {
  if (typeof onRequire !== 'function') {
    diag.warn(
      '@decisiontrail/instrumentation: this @opentelemetry/instrumentation has no require handler to reuse; ' +
        'the MCP SDK loaded through require() is not instrumented (use manuallyInstrument)',
    );
    return undefined;
  }
  return new Hook([MCP_COMMONJS_CLIENT_MODULE], { internals: true }, (exports, _name, baseDir) => {
    try {
      return onRequire(module, exports, MCP_COMMONJS_CLIENT_FILE, baseDir) as typeof exports;
    } catch (error) {
      diag.error('@decisiontrail/instrumentation: could not patch the MCP CommonJS client', error);
      return exports;
    }
  });
}
