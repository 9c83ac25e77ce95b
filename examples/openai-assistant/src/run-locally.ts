// `npm start`: runs app.ts (the support assistant) with nothing else installed or running. It creates a signing key and an HMAC key under
// ./.decisiontrail/keys (once), starts the decisiontrail processor in this process on a free port with the embedded
// ClickHouse store in ./.decisiontrail/data (settings: ./decisiontrail.yaml), points OTEL_EXPORTER_OTLP_ENDPOINT at it,
// starts a local OpenAI-compatible server unless OPENAI_BASE_URL names a real one, runs the app, and shows
// what was stored with `decisiontrail timeline` and `decisiontrail verify`. In a real deployment the processor
// runs on its own (`decisiontrail serve`) and the app only sets OTEL_EXPORTER_OTLP_ENDPOINT.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { runCli } from '@decisiontrail/cli';
import type { DecisionReference } from '@decisiontrail/instrumentation';
import { loadConfig, startProcessor } from '@decisiontrail/processor';
import { exportPublicKey, generateSigningKeyFile } from '@decisiontrail/signing-exporter';
import { startLocalOpenAiServer } from './local-openai-server.ts';

const KEYS = '.decisiontrail/keys';
await mkdir(KEYS, { recursive: true });
if (!existsSync(`${KEYS}/signing.key`)) {
  const key = await generateSigningKeyFile(`${KEYS}/signing.key`);
  await writeFile(`${KEYS}/signing.pub`, `${exportPublicKey(key).vkey}\n`);
}
if (!existsSync(`${KEYS}/hmac.key`))
  await writeFile(`${KEYS}/hmac.key`, randomBytes(32).toString('hex'), { mode: 0o600 });
process.env['DECISIONTRAIL_HMAC_KEY'] ??= await readFile(`${KEYS}/hmac.key`, 'utf8');

const config = await loadConfig('decisiontrail.yaml', { env: {} });
const processor = await startProcessor(config, { log: (message) => console.error(message) });
const openai = process.env['OPENAI_BASE_URL'] === undefined ? await startLocalOpenAiServer() : undefined;
if (openai !== undefined) process.env['OPENAI_BASE_URL'] = openai.baseURL;
try {
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = processor.url;
  const { answer: reference } = (await import('./app.ts')) as { answer: DecisionReference };
  // The app has shut its SDK down, so the processor has acknowledged everything; wait until it is stored.
  while (!/^decisiontrail_processor_queue_entries 0$/m.test(processor.metrics.render())) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
  };
  process.exitCode = (await runCli(['timeline', reference.decisionId], io)) || (await runCli(['verify'], io));
} finally {
  await openai?.close();
  await processor.close();
}
