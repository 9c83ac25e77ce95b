import { existsSync, readdirSync } from 'node:fs';
import { CliError } from '../cli-error.ts';
import type { ResolvedSettings } from '../settings.ts';
import type { AuditBackend } from './audit-backend.ts';
import { openDirectBackend } from './direct-backend.ts';
import { openServeBackend } from './serve-backend.ts';
import { resolveServeCredentials } from './serve-credentials.ts';
import { findLiveServe } from './serve-state.ts';

/**
 * Opens the store the settings name. The embedded engine binds its data directory to one process: when a live
 * `decisiontrail serve` holds it (serve.json with a running pid) every query goes through serve's query endpoint
 * with the same bound parameters; otherwise the CLI opens the store itself. A missing or empty data directory is
 * reported, never created.
 */
export async function openBackend(settings: ResolvedSettings): Promise<AuditBackend> {
  const { storage, retention: days } = settings.config;
  const live = await findLiveServe(storage.dataDir);
  if (live !== undefined) return openServeBackend(live, await resolveServeCredentials(settings));
  // The configured retention, as serve opens the store with it: the report states these days.
  const retention = {
    standard: days.standard,
    high_risk: days.highRisk,
    incident: days.incident,
    permanent: days.permanent,
  };
  if (storage.clickhouse.url !== undefined) {
    const { url, username, password, database } = storage.clickhouse;
    return openDirectBackend(
      { kind: 'server', url, username, password, database, retention },
      `ClickHouse at ${url}`,
    );
  }
  const dir = storage.dataDir;
  if (!existsSync(dir)) {
    throw new CliError(
      'STORE_MISSING',
      `no store at ${dir}: start "decisiontrail serve --data ${dir}" to create one and collect spans, or pass --data DIR`,
    );
  }
  if (readdirSync(dir).filter((name) => name !== 'serve.json').length === 0) {
    throw new CliError('STORE_EMPTY', `the store at ${dir} is empty: nothing has been collected there yet`);
  }
  return openDirectBackend({ kind: 'embedded', dataDir: dir, retention }, `the embedded store at ${dir}`);
}

/** Runs `action` with an open store and always closes it. */
export async function withBackend<T>(
  settings: ResolvedSettings,
  action: (backend: AuditBackend) => Promise<T>,
): Promise<T> {
  const backend = await openBackend(settings);
  try {
    return await action(backend);
  } finally {
    await backend.close();
  }
}
