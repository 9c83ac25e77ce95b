import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectorConfigFiles } from '../../unit/collector/collector-config-model.ts';
import { COLLECTOR_CONFIG_DIR, MISSING_BINARY_MESSAGE, otelcolBinary } from './otelcol-harness.ts';

const binary = otelcolBinary();
if (binary === undefined) console.warn(MISSING_BINARY_MESSAGE);

describe.skipIf(binary === undefined)('otelcol validate', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'otelcol-validate-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function validate(configPath: string): { status: number | null; output: string } {
    const result = spawnSync(binary as string, ['validate', '--config', configPath], {
      encoding: 'utf8',
      // Some defaults point at /var/lib; validation does not touch the directory, but keep it local.
      env: { PATH: process.env.PATH ?? '', OTELCOL_STORAGE_DIR: scratch },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  it.each(collectorConfigFiles())('accepts %s', (file) => {
    const { status, output } = validate(join(COLLECTOR_CONFIG_DIR, file));
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it.each(['gateway.yaml', 'tail-sampling.yaml'])('accepts %s with overlays/serve-auth.yaml', (file) => {
    const result = spawnSync(
      binary as string,
      [
        'validate',
        '--config',
        join(COLLECTOR_CONFIG_DIR, file),
        '--config',
        join(COLLECTOR_CONFIG_DIR, 'overlays', 'serve-auth.yaml'),
      ],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          OTELCOL_STORAGE_DIR: scratch,
          DECISIONTRAIL_TOKEN_FILE: join(scratch, 'ingest.token'),
        },
      },
    );
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });

  // The accepting runs above mean something only if validate rejects what the Collector would reject.
  it('rejects an unknown setting on the audit exporter', () => {
    const text = readFileSync(join(COLLECTOR_CONFIG_DIR, 'gateway.yaml'), 'utf8');
    const broken = join(scratch, 'unknown-key.yaml');
    writeFileSync(broken, text.replace('max_elapsed_time: 0', 'max_elapsed_time: 0\n      max_attempts: 3'));
    const { status, output } = validate(broken);
    expect(status).not.toBe(0);
    expect(output).toContain('max_attempts');
  });

  it('rejects a routing condition that is not valid OTTL', () => {
    const text = readFileSync(join(COLLECTOR_CONFIG_DIR, 'gateway-tier.yaml'), 'utf8');
    const broken = join(scratch, 'bad-ottl.yaml');
    writeFileSync(
      broken,
      text.replace('FNV(attributes["audit.integrity.stream"]) / 2', 'FNV(attributes[) / 2'),
    );
    const { status, output } = validate(broken);
    expect(status).not.toBe(0);
    expect(output).toContain('invalid syntax');
  });
});
