// `node --import @decisiontrail/instrumentation/register app.js`
// Installs import-in-the-middle as an ESM loader limited to the modules this package patches (a bare
// `--import hook.mjs` would intercept everything, or — registered too late — nothing), then registers the
// instrumentation configured from the environment. See the package README for the variables.
import { createRequire, register } from 'node:module';
import { INSTRUMENTED_MODULES, registerFromEnvironment } from '@decisiontrail/instrumentation';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
  data: { include: [...INSTRUMENTED_MODULES] },
});

// sdk-node is loaded only when DECISIONTRAIL_START_SDK=true asks for it, and resolved from the application.
const requireFromApp = createRequire(`${process.cwd()}/`);
registerFromEnvironment(() => requireFromApp('@opentelemetry/sdk-node'));
