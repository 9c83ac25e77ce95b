import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { StoreError } from './errors.ts';
import type { ResolvedStoreOptions } from './store-options.ts';

type Connection = NonNullable<ClickHouseClientConfigOptions['connection']>;

/**
 * A pre-encoded insert body handed to the embedded engine as bytes: the statement is the same
 * `INSERT INTO table (columns) … FORMAT …` as through the client, with the settings in its
 * `SETTINGS` clause.
 */
export type RawInsert = (params: {
  table: string;
  columns: readonly string[];
  format: 'JSONCompactEachRow';
  body: Buffer;
  settings: Record<string, string | number>;
}) => Promise<void>;

const rawInserts = new WeakMap<ClickHouseClient, RawInsert>();

/**
 * The embedded engine's raw insert for a client made by {@link createStoreClient}, if it has one.
 * Through `@clickhouse/client` the chdb connection decodes the body into a JS string, appends it
 * to the SQL text, which the engine then copies and parses again; its raw insert hands the Buffer
 * over as is (no copy, no decoding) with the settings in the statement. The embedded session still
 * keeps those settings afterwards, as it does the client's `SET`s.
 */
export function rawInsertOf(client: ClickHouseClient): RawInsert | undefined {
  return rawInserts.get(client);
}

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
    mkdirSync(options.dataDir, { recursive: true });
    // chdb types its connection against its own copy of @clickhouse/client-common; the shapes are
    // the same contract, the declarations just come from two packages.
    const chdb = createChdbConnection({ path: options.dataDir });
    const client = createClient({ connection: chdb as unknown as Connection });
    rawInserts.set(client, async ({ table, columns, format, body, settings }) => {
      await chdb.chdb.rawInsert({ table, columns, format, values: body, settings });
    });
    return client;
  } catch (cause) {
    throw new StoreError(
      'CONNECTION_FAILED',
      `cannot open the embedded engine at ${options.dataDir} (one data directory per process)`,
      { cause },
    );
  }
}
