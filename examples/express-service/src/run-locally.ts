// `npm start`: runs the loan API with nothing else installed or running. It creates a signing key and an HMAC key
// under ./.decisiontrail/keys (once) and starts `decisiontrail serve` as its own process (settings:
// ./decisiontrail.yaml; embedded ClickHouse store in ./.decisiontrail/data) — its own process because the HTTP
// instrumentation patches node:http for the whole process, and the processor's receiver should not trace itself.
// Then it loads the telemetry, starts the API, sends three requests, and shows the timeline of the one whose
// database lookup is slow: the HTTP, Express and database spans beside the decision.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runCli } from '@decisiontrail/cli';
import { exportPublicKey, generateSigningKeyFile } from '@decisiontrail/signing-exporter';

const KEYS = '.decisiontrail/keys';
await mkdir(KEYS, { recursive: true });
if (!existsSync(`${KEYS}/signing.key`)) {
  const key = await generateSigningKeyFile(`${KEYS}/signing.key`);
  await writeFile(`${KEYS}/signing.pub`, `${exportPublicKey(key).vkey}\n`);
}
if (!existsSync(`${KEYS}/hmac.key`))
  await writeFile(`${KEYS}/hmac.key`, randomBytes(32).toString('hex'), { mode: 0o600 });
process.env['DECISIONTRAIL_HMAC_KEY'] ??= await readFile(`${KEYS}/hmac.key`, 'utf8');

const cliBin = fileURLToPath(new URL('../bin/decisiontrail.js', import.meta.resolve('@decisiontrail/cli')));
const serve = spawn(process.execPath, [cliBin, 'serve', '--config', 'decisiontrail.yaml'], {
  stdio: ['ignore', 'inherit', 'pipe'],
});
const processorUrl = await new Promise<string>((resolve, reject) => {
  let stderr = '';
  serve.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    const url = /listening on (http:\/\/\S+) /.exec(stderr)?.[1];
    if (url !== undefined) resolve(url);
  });
  serve.once('exit', (code) => reject(new Error(`decisiontrail serve exited (${code}): ${stderr}`)));
});
try {
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = processorUrl;
  const { sdk } = await import('./telemetry.ts');
  const { createApp, listen } = await import('./app.ts');
  const { server, url } = await listen(createApp());
  const timings: { decisionId: string; ms: number }[] = [];
  for (const body of [
    { applicantId: 'app-1041' },
    { emailHash: 'eh-2808649522' },
    { applicantId: 'app-77' },
  ]) {
    const started = performance.now();
    const response = await fetch(`${url}/loans/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const result = (await response.json()) as { outcome: string; decisionId: string };
    const ms = performance.now() - started;
    timings.push({ decisionId: result.decisionId, ms });
    console.log(`POST /loans/decision ${JSON.stringify(body)} → ${result.outcome} in ${ms.toFixed(1)} ms`);
  }
  server.close();
  await sdk.shutdown();
  // Everything is acknowledged; wait until the processor has stored it.
  while (
    !/^decisiontrail_processor_queue_entries 0$/m.test(await (await fetch(`${processorUrl}/metrics`)).text())
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // The lookup by e-mail hash scans the whole table: its SELECT span stands out beside the decision.
  const byEmail = timings[1]!;
  console.log(
    `\nThe decision of the request that looked the applicant up by e-mail hash, with the spans of its trace:`,
  );
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
  };
  process.exitCode = await runCli(['timeline', byEmail.decisionId], io);
} finally {
  serve.kill('SIGTERM');
  await new Promise((resolve) => serve.once('exit', resolve));
}
