import { resolve } from 'node:path';
import { DEFAULT_DATA_DIR, DEFAULT_RETENTION_DAYS, yearsInDays } from '@decisiontrail/core';
import { StoreError } from './errors.ts';

/** Days a retention class is kept; `null` means never expire. */
export interface RetentionPolicy {
  /** @default 2557 (7 years, {@link yearsInDays}) */
  standard?: number | null;
  /** @default 3653 (10 years) */
  high_risk?: number | null;
  /** @default null (never) */
  incident?: number | null;
  /** @default null (never) */
  permanent?: number | null;
}

/** Options shared by both backends. */
interface CommonStoreOptions {
  /**
   * Database that holds every table. Must be a plain identifier.
   * @default 'default'
   */
  database?: string;
  /** Retention classes mapped to table TTLs. */
  retention?: RetentionPolicy;
  /**
   * What to do about the schema when the store opens: `true` applies pending migrations; `'check'` changes
   * nothing and fails with `MIGRATION_PENDING` when the store lacks a migration this version reads (what reading
   * commands use); `false` does neither.
   * @default true
   */
  migrate?: boolean | 'check';
}

/** The in-process engine (chdb). One data directory per process. */
export interface EmbeddedStoreOptions extends CommonStoreOptions {
  kind?: 'embedded';
  /**
   * Data directory of the embedded engine, created when missing.
   * @default './.decisiontrail/data' under the working directory
   */
  dataDir?: string;
}

/** A ClickHouse server or ClickHouse Cloud over HTTP(S). */
export interface ServerStoreOptions extends CommonStoreOptions {
  kind: 'server';
  /** e.g. `https://abc.clickhouse.cloud:8443` */
  url: string;
  /** @default 'default' */
  username?: string;
  /** @default '' */
  password?: string;
  /** PEM contents; `cert` and `key` together select mutual TLS. */
  tls?: { caCert: Buffer; cert?: Buffer; key?: Buffer };
  /**
   * Cluster name: when set, migrations generate `ON CLUSTER` DDL with Replicated and Distributed tables.
   * @default undefined
   */
  cluster?: string;
  /**
   * Let the server batch small inserts (`async_insert=1, wait_for_async_insert=1`).
   * @default true
   */
  asyncInsert?: boolean;
  /** @default 30000 */
  requestTimeoutMs?: number;
}

/** How to reach the store: embedded (the default) or a server by URL. */
export type StoreOptions = EmbeddedStoreOptions | ServerStoreOptions;

/** {@link StoreOptions} after defaults and validation. */
export type ResolvedStoreOptions =
  | (Required<Omit<EmbeddedStoreOptions, 'retention'>> & { retention: ResolvedRetention })
  | (Required<Omit<ServerStoreOptions, 'retention' | 'tls' | 'cluster'>> & {
      retention: ResolvedRetention;
      tls: ServerStoreOptions['tls'];
      cluster: string | undefined;
    });

/** Retention in days per class, `null` for never. */
export type ResolvedRetention = Record<'standard' | 'high_risk' | 'incident' | 'permanent', number | null>;

// Where the embedded engine keeps data unless told otherwise, and how years of retention count: decisiontrail.yaml's
// rules (core), so the store opened by the CLI, by serve or by a library user agrees with the file.
export { DEFAULT_DATA_DIR, yearsInDays };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Checks a database or cluster name: only identifiers are ever spliced into DDL. */
export function assertIdentifier(value: string, what: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new StoreError(
      'INVALID_OPTIONS',
      `${what} must match ${IDENTIFIER.source}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Retention when nothing is configured: 7 years, 10 for high-risk records, incidents and `permanent` forever. */
export const DEFAULT_RETENTION: Readonly<ResolvedRetention> = {
  standard: DEFAULT_RETENTION_DAYS.standard,
  high_risk: DEFAULT_RETENTION_DAYS.highRisk,
  incident: DEFAULT_RETENTION_DAYS.incident,
  permanent: DEFAULT_RETENTION_DAYS.permanent,
};

function resolveRetention(retention: RetentionPolicy | undefined): ResolvedRetention {
  const resolved: ResolvedRetention = { ...DEFAULT_RETENTION, ...retention };
  for (const [name, days] of Object.entries(resolved)) {
    if (days !== null && !(Number.isSafeInteger(days) && days > 0)) {
      throw new StoreError('INVALID_OPTIONS', `retention.${name} must be a positive integer of days or null`);
    }
  }
  return resolved;
}

/** Applies defaults and validates; the only place defaults live. */
export function resolveStoreOptions(options: StoreOptions = {}): ResolvedStoreOptions {
  const database = assertIdentifier(options.database ?? 'default', 'database');
  const retention = resolveRetention(options.retention);
  const migrate = options.migrate ?? true;
  if (options.kind === 'server') {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (cause) {
      throw new StoreError('INVALID_OPTIONS', `url is not a valid URL: ${JSON.stringify(options.url)}`, {
        cause,
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new StoreError('INVALID_OPTIONS', `url must be http(s), got ${url.protocol}`);
    }
    if (options.tls !== undefined && (options.tls.cert === undefined) !== (options.tls.key === undefined)) {
      throw new StoreError('INVALID_OPTIONS', 'tls.cert and tls.key must be given together');
    }
    return {
      kind: 'server',
      url: options.url,
      username: options.username ?? 'default',
      password: options.password ?? '',
      tls: options.tls,
      cluster: options.cluster === undefined ? undefined : assertIdentifier(options.cluster, 'cluster'),
      asyncInsert: options.asyncInsert ?? true,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      database,
      retention,
      migrate,
    };
  }
  return {
    kind: 'embedded',
    dataDir: resolve(options.dataDir ?? DEFAULT_DATA_DIR),
    database,
    retention,
    migrate,
  };
}
