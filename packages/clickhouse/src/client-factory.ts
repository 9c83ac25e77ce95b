import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { StoreError } from './errors.ts';
import type { ResolvedStoreOptions } from './store-options.ts';

type Connection = NonNullable<ClickHouseClientConfigOptions['connection']>;

/**
 * One `@clickhouse/client` for both backends, so every statement in this package runs unchanged
 * on the embedded engine and on a server.
 */
export function createStoreClient(options: ResolvedStoreOptions): ClickHouseClient {
  if (options.kind === 'server') {
    return createClient({
      url: options.url,
      username: options.username,
      password: options.password,
      request_timeout: options.requestTimeoutMs,
      ...(options.tls === undefined
        ? {}
        : {
            tls:
              options.tls.cert !== undefined && options.tls.key !== undefined
                ? { ca_cert: options.tls.caCert, cert: options.tls.cert, key: options.tls.key }
                : { ca_cert: options.tls.caCert },
          }),
      clickhouse_settings: {
        // 64-bit integers as strings: JSON numbers lose precision past 2^53.
        output_format_json_quote_64bit_integers: 1,
      },
    });
  }
  try {
    // The data directory holds every stored decision: owner-only when we create it.
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    // chdb types its connection against its own copy of @clickhouse/client-common; the shapes are
    // the same contract, the declarations just come from two packages.
    const chdb = createChdbConnection({ path: options.dataDir });
    return createClient({ connection: chdb as unknown as Connection });
  } catch (cause) {
    throw new StoreError(
      'CONNECTION_FAILED',
      `cannot open the embedded engine at ${options.dataDir} (one data directory per process)`,
      { cause },
    );
  }
}
