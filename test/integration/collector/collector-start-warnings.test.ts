import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectorConfigFiles } from '../../unit/collector/collector-config-model.ts';
import {
  collectorEnv,
  collectorPorts,
  COLLECTOR_CONFIG_DIR,
  MISSING_BINARY_MESSAGE,
  otelcolBinary,
  startCollector,
} from './otelcol-harness.ts';

// `otelcol validate` prints nothing for a deprecated component alias; the Collector warns only when it
// builds its pipelines. Every shipped configuration is started for real, and startCollector (used by
// every Collector test) refuses a start that logged a deprecation warning.

const binary = otelcolBinary();
if (binary === undefined) console.warn(MISSING_BINARY_MESSAGE);

describe.skipIf(binary === undefined)('the Collector at start', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'otelcol-start-warnings-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  async function start(config: string | string[], env: Record<string, string> = {}): Promise<string> {
    const ports = await collectorPorts();
    const collector = await startCollector({
      binary: binary as string,
      config,
      env: { ...collectorEnv(ports, mkdtempSync(join(scratch, 'queue-'))), ...env },
      healthPort: ports.health,
    });
    const output = collector.output();
    await collector.stop();
    return output;
  }

  it.each(collectorConfigFiles())('starts %s without a deprecation warning', async (file) => {
    expect(await start(file)).toContain('Everything is ready');
  });

  it('starts gateway.yaml with overlays/serve-auth.yaml without a deprecation warning', async () => {
    const tokenFile = join(scratch, 'ingest.token');
    writeFileSync(tokenFile, 'start-warnings-token\n', { mode: 0o600 });
    const output = await start(['gateway.yaml', 'overlays/serve-auth.yaml'], {
      DECISIONTRAIL_TOKEN_FILE: tokenFile,
    });
    expect(output).toContain('Everything is ready');
  });

  // The runs above mean something only if a deprecated alias does fail the start.
  it('refuses a start that logs a deprecated alias, naming it', async () => {
    const text = readFileSync(join(COLLECTOR_CONFIG_DIR, 'gateway.yaml'), 'utf8');
    const legacy = join(scratch, 'gateway-legacy-alias.yaml');
    writeFileSync(legacy, text.replaceAll('otlp_http/', 'otlphttp/'));
    expect(text).not.toEqual(readFileSync(legacy, 'utf8'));
    await expect(start(legacy)).rejects.toThrow(/deprecation warning.*\n.*"otlphttp" alias is deprecated/);
  });
});
