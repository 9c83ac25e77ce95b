// `node -r @decisiontrail/instrumentation/register app.js`
// CommonJS applications need no loader hook: require-in-the-middle sees every require(). Loads the package with
// require(esm) (Node >= 22.12) and registers the instrumentation configured from the environment.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload entry has only require() */
const { createRequire } = require('node:module');
const { registerFromEnvironment } = require('@decisiontrail/instrumentation');

// sdk-node is loaded only when DECISIONTRAIL_START_SDK=true asks for it, and resolved from the application.
const requireFromApp = createRequire(`${process.cwd()}/`);
registerFromEnvironment(() => requireFromApp('@opentelemetry/sdk-node'));
