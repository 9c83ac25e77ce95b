// `node --import @decisiontrail/instrumentation/register app.js`
// Installs import-in-the-middle as an ESM loader limited to the modules this package patches (a bare
// `--import hook.mjs` would intercept everything, or — registered too late — nothing), then registers the
// instrumentation configured from the environment (with DECISIONTRAIL_START_SDK=true it also starts the Node SDK,
// signing when a key is configured). See the package README for the variables.
import { register } from 'node:module';

// The OpenTelemetry SDK 3.x line needs Node.js 22.15. On an older Node the application still starts, unaudited.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `@decisiontrail/instrumentation/register: needs Node.js 22.15 or later; this is Node.js ${process.versions.node}: AI calls are NOT audited\n`,
  );
} else {
  const { LOADER_HOOK_SPECIFIERS, registerFromEnvironment } = await import('@decisiontrail/instrumentation');
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: [...LOADER_HOOK_SPECIFIERS] },
  });
  registerFromEnvironment();
}
