import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR, resolveStoreOptions } from '@decisiontrail/clickhouse';

describe('resolveStoreOptions', () => {
  it('defaults to the embedded engine under the working directory', () => {
    expect(resolveStoreOptions()).toEqual({
      kind: 'embedded',
      dataDir: resolve(DEFAULT_DATA_DIR),
      database: 'default',
      migrate: true,
      retention: { standard: 2557, high_risk: 3653, incident: null, permanent: null },
    });
  });

  it('fills server defaults and keeps TLS material', () => {
    const caCert = Buffer.from('ca');
    expect(
      resolveStoreOptions({ kind: 'server', url: 'https://ch.example:8443', tls: { caCert } }),
    ).toMatchObject({
      kind: 'server',
      username: 'default',
      password: '',
      asyncInsert: true,
      cluster: undefined,
      tls: { caCert },
    });
  });

  it.each([
    [{ database: 'x`; DROP' }, /database must match/],
    [{ retention: { standard: 0 } }, /retention.standard/],
    [{ retention: { high_risk: 1.5 } }, /retention.high_risk/],
    [{ kind: 'server' as const, url: 'not a url' }, /not a valid URL/],
    [{ kind: 'server' as const, url: 'ftp://x' }, /must be http/],
    [{ kind: 'server' as const, url: 'http://x', cluster: 'a b' }, /cluster must match/],
    [
      { kind: 'server' as const, url: 'http://x', tls: { caCert: Buffer.alloc(1), cert: Buffer.alloc(1) } },
      /together/,
    ],
  ])('rejects %j', (options, message) => {
    expect(() => resolveStoreOptions(options)).toThrow(message);
    try {
      resolveStoreOptions(options);
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS' });
    }
  });
});
