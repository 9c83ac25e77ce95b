// `node -r @decisiontrail/instrumentation/register app.js`
// CommonJS applications need no loader hook: require-in-the-middle sees every require(). Loads the package with
// require(esm) and registers the instrumentation configured from the environment (with DECISIONTRAIL_START_SDK=true
// it also starts the Node SDK, signing when a key is configured).
'use strict';

// The OpenTelemetry SDK 3.x line needs Node.js 22.15. On an older Node the application still starts, unaudited.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `@decisiontrail/instrumentation/register: needs Node.js 22.15 or later; this is Node.js ${process.versions.node}: AI calls are NOT audited\n`,
  );
} else {
  /* eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS preload entry has only require() */
  const { registerFromEnvironment } = require('@decisiontrail/instrumentation');
  registerFromEnvironment();
}
