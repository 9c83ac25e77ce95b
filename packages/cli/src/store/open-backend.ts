import { existsSync } from 'node:fs';
import { CliError } from '../cli-error.ts';
import type { ResolvedSettings } from '../settings.ts';
import type { AuditBackend } from './audit-backend.ts';
import { findLiveServe } from './serve-state.ts';
import { openServeBackend } from './serve-backend.ts';

/**
 * Opens the store the settings name. The embedded engine binds its data directory to one process, and that process
 * is `decisiontrail serve`: it writes `<dataDir>/serve.json` and answers bound-parameter queries on
 * `POST /v1/query/<name>`. Every command goes through it, so an investigator never fights the running collector
 * for the store; when no serve is running the command refuses with one line that says how to start it. A missing
 * data directory is reported as such and never created.
 */
export async function openBackend(settings: ResolvedSettings): Promise<AuditBackend> {
  const { storage } = settings.config;
  const live = await findLiveServe(storage.dataDir);
  if (live !== undefined) return openServeBackend(live);
  const flag =
    storage.clickhouse.url !== undefined
      ? `--clickhouse-url ${storage.clickhouse.url}`
      : `--data ${storage.dataDir}`;
  if (storage.clickhouse.url === undefined && !existsSync(storage.dataDir)) {
    throw new CliError(
      'STORE_MISSING',
      `no store at ${storage.dataDir}: start "decisiontrail serve ${flag}" to create it and collect spans, or pass --data DIR`,
    );
  }
  throw new CliError(
    'STORE_NOT_SERVED',
    `the store is not being served: start "decisiontrail serve ${flag}" in another terminal (it holds the store and answers the CLI), then rerun`,
  );
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
