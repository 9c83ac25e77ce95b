import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, startProcessor } from '@decisiontrail/processor';
import type { AuditStore, DecisionTrailConfig, ProcessorHandle } from '@decisiontrail/processor';

/** A temporary directory removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Config for tests: everything under `dir`, an ephemeral loopback port, plus the given YAML. */
export function testConfig(dir: string, yaml = ''): DecisionTrailConfig {
  const base = parseConfig(yaml, { baseDir: dir, env: {} });
  return {
    ...base,
    processor: { ...base.processor, receiver: { ...base.processor.receiver, port: 0 } },
  };
}

/** Starts a processor with `yaml` over a fresh directory; `stop` closes it and removes the directory. */
export async function startTestProcessor(
  yaml: string,
  options: {
    store?: AuditStore;
    drainTimeoutMs?: number;
    dir?: string;
    env?: Readonly<Record<string, string | undefined>>;
  } = {},
): Promise<{
  processor: ProcessorHandle;
  config: DecisionTrailConfig;
  dir: string;
  stop: () => Promise<void>;
}> {
  const temp =
    options.dir === undefined ? await tempDir('dt-proc-') : { dir: options.dir, remove: async () => {} };
  const config = testConfig(temp.dir, yaml);
  const port = /port: (\d+)/.exec(yaml)?.[1];
  if (port !== undefined) config.processor.receiver.port = Number(port);
  const logs: string[] = [];
  const processor = await startProcessor(config, {
    ...(options.store === undefined ? {} : { store: options.store }),
    drainTimeoutMs: options.drainTimeoutMs ?? 5_000,
    log: (m) => logs.push(m),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  return {
    processor,
    config,
    dir: temp.dir,
    stop: async () => {
      await processor.close();
      await temp.remove();
    },
  };
}

/** POSTs an OTLP body. */
export async function postTraces(
  url: string,
  body: Uint8Array | string,
  headers: Record<string, string> = { 'content-type': 'application/x-protobuf' },
): Promise<{ status: number; headers: Headers; body: Uint8Array }> {
  const response = await fetch(`${url}/v1/traces`, { method: 'POST', headers, body });
  return {
    status: response.status,
    headers: response.headers,
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

/** Polls until `check` holds (a drain is asynchronous after the ack). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
