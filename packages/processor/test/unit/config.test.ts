import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, parseConfig } from '@decisiontrail/processor';

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies every default to an empty file, binding the receiver to loopback', () => {
    const config = parseConfig('', { baseDir: '/srv/app', env: {} });
    expect(config.storage.dataDir).toBe('/srv/app/.decisiontrail/data');
    expect(config.storage.clickhouse.url).toBeUndefined();
    expect(config.processor.receiver).toEqual({
      host: '127.0.0.1',
      port: 4318,
      maxBodyBytes: 4 * 1024 ** 2,
      maxConcurrentRequests: 64,
      tls: undefined,
      allowedOrigins: [],
      allowedHosts: [],
    });
    expect(config.processor.auth).toEqual({
      tokens: [],
      clientCertificates: [{ commonName: '*', scopes: ['admin'] }],
      allowUnauthenticated: false,
    });
    expect(config.processor.queue.dir).toBe('/srv/app/.decisiontrail/queue');
    // Seven and ten whole years wherever they start: 365 days a year plus the leap days such a run can hold.
    expect(config.retention).toEqual({
      standard: 7 * 365 + 2,
      highRisk: 10 * 365 + 3,
      incident: null,
      permanent: null,
    });
    expect(config.keys.hmacKey).toBe('/srv/app/.decisiontrail/keys/hmac.key');
    expect(config.processor.stages.policy.signedPlaintext).toBe('quarantine');
    expect(defaultConfig({ baseDir: '/srv/app', env: {} })).toEqual(config);
  });

  it('reads every section with units and resolves relative paths against the base directory', () => {
    const config = parseConfig(
      `
storage:
  dataDir: data
retention: { standard: 30d, highRisk: 2y, incident: never }
capture: { input: redact, output: none }
processor:
  receiver: { host: 0.0.0.0, port: 14318, maxBodyBytes: 8MiB }
  stages:
    verify: { unsigned: quarantine }
    policy: { hash: [audit.input.content], redact: [user.email] }
    route: { other: forward }
  queue: { dir: /var/q, segmentBytes: 1MiB }
  sinks:
    forward: { url: "http://collector:4318/v1/traces", headers: { authorization: Bearer x } }
`,
      { baseDir: '/etc/dt', env: {} },
    );
    expect(config.storage.dataDir).toBe('/etc/dt/data');
    expect(config.retention.standard).toBe(30);
    expect(config.retention.highRisk).toBe(2 * 365 + 1);
    expect(config.capture).toEqual({ input: 'redact', output: 'none' });
    expect(config.processor.receiver.maxBodyBytes).toBe(8 * 1024 ** 2);
    expect(config.processor.queue.dir).toBe('/var/q');
    expect(config.processor.stages.policy.hash).toEqual(['audit.input.content']);
    expect(config.processor.sinks.forward.headers).toEqual({ authorization: 'Bearer x' });
  });

  it('names an unknown key by its full path', () => {
    const issues = issuesOf(() => parseConfig('processor:\n  receiver:\n    prot: 1\n', { env: {} }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('processor.receiver.prot');
    expect(issues[0]!.message).toMatch(/unknown key/);
  });

  it('names every bad value by its path', () => {
    const issues = issuesOf(() =>
      parseConfig(
        'processor:\n  receiver: { port: 70000, maxBodyBytes: lots }\n  stages: { route: { other: elsewhere } }\nretention: { standard: 7 }\n',
        { env: {} },
      ),
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      'processor.receiver.maxBodyBytes',
      'processor.receiver.port',
      'processor.stages.route.other',
      'retention.standard',
    ]);
  });

  it('rejects cross-field mistakes: forwarding without a forward URL', () => {
    const issues = issuesOf(() =>
      parseConfig('processor: { stages: { route: { other: forward } } }', { env: {} }),
    );
    expect(issues).toEqual([
      { path: 'processor.sinks.forward.url', message: 'required when the route stage forwards spans' },
    ]);
  });

  it('rejects text that is not a YAML mapping', () => {
    expect(issuesOf(() => parseConfig('- a\n- b\n', { env: {} }))[0]!.path).toBe('(root)');
    expect(issuesOf(() => parseConfig('a: [', { env: {} }))[0]!.message).toMatch(/not valid YAML/);
  });

  it('applies environment overrides and names the variable when its value is bad', () => {
    const config = parseConfig('storage: { dataDir: x }', {
      baseDir: '/b',
      env: {
        DECISIONTRAIL_CLICKHOUSE_URL: 'http://ch:8123',
        DECISIONTRAIL_PROCESSOR_PORT: '9999',
        DECISIONTRAIL_DATA_DIR: '/d',
      },
    });
    expect(config.storage.clickhouse.url).toBe('http://ch:8123');
    expect(config.storage.dataDir).toBe('/d');
    expect(config.processor.receiver.port).toBe(9999);
    const issues = issuesOf(() => parseConfig('', { env: { DECISIONTRAIL_PROCESSOR_PORT: 'http' } }));
    expect(issues[0]!.path).toBe('processor.receiver.port');
    expect(issues[0]!.message).toMatch(/DECISIONTRAIL_PROCESSOR_PORT/);
  });
});

describe('loadConfig', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('resolves paths against the file and names the file in errors', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-config-'));
    dirs.push(dir);
    const file = path.join(dir, 'decisiontrail.yaml');
    await writeFile(file, 'storage:\n  dataDir: ./d\n');
    expect((await loadConfig(file, { env: {} })).storage.dataDir).toBe(path.join(dir, 'd'));
    await writeFile(file, 'storage:\n  dataDirr: ./d\n');
    await expect(loadConfig(file, { env: {} })).rejects.toThrow(
      `invalid configuration in ${file}: storage.dataDirr`,
    );
    await expect(loadConfig(path.join(dir, 'missing.yaml'))).rejects.toMatchObject({
      code: 'CONFIG_UNREADABLE',
    });
  });
});

describe('network security settings', () => {
  it('reads tokens by file or variable, TLS files and the browser allow-lists, resolving paths', () => {
    const config = parseConfig(
      `
processor:
  receiver:
    tls: { cert: tls/server.pem, key: tls/server.key, clientCa: tls/clients.pem, ca: tls/ca.pem }
    allowedOrigins: ["https://Console.Example:443/"]
    allowedHosts: [Audit.Example., "[fd00::1]"]
  auth:
    tokens:
      - { name: collector, scopes: [ingest], file: secrets/ingest.token }
      - { name: investigators, scopes: [read, write], env: DT_READ_TOKEN }
    clientCertificates:
      - { commonName: otel-gateway, scopes: [ingest] }
`,
      { baseDir: '/etc/dt', env: {} },
    );
    expect(config.processor.receiver.tls).toEqual({
      cert: '/etc/dt/tls/server.pem',
      key: '/etc/dt/tls/server.key',
      clientCa: '/etc/dt/tls/clients.pem',
      ca: '/etc/dt/tls/ca.pem',
    });
    expect(config.processor.receiver.allowedOrigins).toEqual(['https://console.example']);
    expect(config.processor.receiver.allowedHosts).toEqual(['audit.example', 'fd00::1']);
    expect(config.processor.auth.tokens).toEqual([
      { name: 'collector', scopes: ['ingest'], file: '/etc/dt/secrets/ingest.token', env: undefined },
      { name: 'investigators', scopes: ['read', 'write'], file: undefined, env: 'DT_READ_TOKEN' },
    ]);
    expect(config.processor.auth.clientCertificates).toEqual([
      { commonName: 'otel-gateway', scopes: ['ingest'] },
    ]);
  });

  it('refuses an inline token and an unknown scope by their paths, never echoing the value', () => {
    const issues = issuesOf(() =>
      parseConfig(
        `
processor:
  auth:
    tokens:
      - { name: a, scopes: [ingest], token: s3cr3t-s3cr3t-s3cr3t }
      - { name: c, scopes: [root], env: C }
`,
        { env: {} },
      ),
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      'processor.auth.tokens[0].token',
      'processor.auth.tokens[1].scopes[0]',
    ]);
    expect(JSON.stringify(issues)).not.toContain('s3cr3t');
  });

  it('refuses missing sources and scopes, half TLS, client rules without a CA and origins with paths', () => {
    const issues = issuesOf(() =>
      parseConfig(
        `
processor:
  receiver:
    tls: { cert: a.pem }
    allowedOrigins: ["https://app.example/login", "app.example"]
    allowedHosts: ["app.example:443"]
  auth:
    tokens:
      - { name: a, scopes: [ingest] }
      - { name: b, scopes: [], env: B }
      - { name: b, scopes: [read], file: c, env: C }
    clientCertificates: [{ commonName: x, scopes: [read] }]
`,
        { env: {} },
      ),
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      'processor.auth.clientCertificates',
      'processor.auth.tokens[0]',
      'processor.auth.tokens[1].scopes',
      'processor.auth.tokens[2]',
      'processor.auth.tokens[2].name',
      'processor.receiver.allowedHosts[0]',
      'processor.receiver.allowedOrigins[0]',
      'processor.receiver.allowedOrigins[1]',
      'processor.receiver.tls',
    ]);
  });
});
