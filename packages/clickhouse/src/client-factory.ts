import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { Session } from 'chdb';
import { createChdbConnection } from 'chdb/connection';
import { StoreError } from './errors.ts';
import type { ResolvedStoreOptions } from './store-options.ts';

type Connection = NonNullable<ClickHouseClientConfigOptions['connection']>;

/**
 * Server settings the embedded engine starts with (`clickhouse local` arguments; they cannot be changed by a
 * statement once it runs). A server deployment keeps its own configuration.
 *
 * - `background_merges_mutations_concurrency_ratio = 1`: at most as many merges in progress as the merge pool
 *   has threads (2), not twice as many. The pool runs two at a time either way, taking turns between the
 *   merges assigned to it, and every assigned merge holds its buffers while it waits its turn: in the
 *   processor's soak (under load) three or four merges in progress held up to 194 MiB together. The same merge
 *   work is done, a merge finishing before the next is assigned; a small merge may wait behind a large one.
 */
export const EMBEDDED_ENGINE_ARGS: readonly string[] = ['--background_merges_mutations_concurrency_ratio=1'];

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
    // `createChdbConnection` passes no engine arguments; the first connection to a data directory starts
    // the engine with its own, and later connections to the directory share that engine. So a session with
    // the arguments is opened first and closed once the client's connection holds the engine.
    const starter = new Session(options.dataDir, { connectionArgs: EMBEDDED_ENGINE_ARGS });
    try {
      const chdb = createChdbConnection({ path: options.dataDir });
      return createClient({ connection: chdb as unknown as Connection });
    } finally {
      starter.close();
    }
  } catch (cause) {
    throw new StoreError(
      'CONNECTION_FAILED',
      `cannot open the embedded engine at ${options.dataDir} (one data directory per process)`,
      { cause },
    );
  }
}
