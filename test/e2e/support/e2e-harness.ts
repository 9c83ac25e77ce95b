import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exportPublicKey, generateSigningKeyFile, type SigningKey } from '@decisiontrail/core';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { AuditSampler } from '@decisiontrail/instrumentation';

/** The `decisiontrail` launcher, run as users run it. */
export const CLI_BIN = path.resolve(import.meta.dirname, '../../../packages/cli/bin/decisiontrail.js');

/** A fresh directory under the OS temp dir. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `dt-e2e-${prefix}-`));
}

/** An end-to-end working directory: decisiontrail.yaml, keys (signing.key + signing.pub), witness path. */
export interface E2eWorkspace {
  dir: string;
  configPath: string;
  dataDir: string;
  keysDir: string;
  witnessPath: string;
  publicKeyPath: string;
  key: SigningKey;
}

/** Writes a decisiontrail.yaml that keeps everything inside `dir` and listens on `port` (0: any free port). */
export async function createWorkspace(dir: string, port = 0): Promise<E2eWorkspace> {
  const keysDir = path.join(dir, 'keys');
  await mkdir(keysDir, { recursive: true });
  const key = await generateSigningKeyFile(path.join(keysDir, 'signing.key'));
  const publicKeyPath = path.join(keysDir, 'signing.pub');
  await writeFile(publicKeyPath, `${exportPublicKey(key).vkey}\n`);
  const configPath = path.join(dir, 'decisiontrail.yaml');
  await writeFile(
    configPath,
    [
      'storage:',
      '  dataDir: data',
      'keys:',
      '  dir: keys',
      '  witness: keys/checkpoints.witness.jsonl',
      'processor:',
      '  receiver:',
      `    port: ${port}`,
      '  stages:',
      '    route:',
      '      other: store',
      '',
    ].join('\n'),
  );
  return {
    dir,
    configPath,
    dataDir: path.join(dir, 'data'),
    keysDir,
    witnessPath: path.join(keysDir, 'checkpoints.witness.jsonl'),
    publicKeyPath,
    key,
  };
}

/** Environment for child processes: no DECISIONTRAIL_* leaking in from the developer's shell, no colour. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DECISIONTRAIL_'))),
    NO_COLOR: '1',
  };
}

/** Output of one `decisiontrail` run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `decisiontrail <args>` as a child process through the launcher. */
export function runDecisiontrail(args: readonly string[], cwd: string): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_BIN, ...args],
      { cwd, env: cleanEnv(), maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Parses a run's stdout as JSON, failing with the whole output when it is not JSON. */
export function parseJson<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`decisiontrail printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

/** Installs a global tracer provider (AuditSampler, the given span processor) and context manager. */
export function installTracing(processor: SpanProcessor, serviceName: string): TracerProvider {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    sampler: new AuditSampler(new AlwaysOnSampler()),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return provider;
}
