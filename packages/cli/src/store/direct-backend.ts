import type { StoreOptions } from '@decisiontrail/clickhouse';
import type { AuditBackend } from './audit-backend.ts';

/**
 * Opens the store in this process: the embedded engine's data directory (when no serve holds it) or a ClickHouse
 * server. Migrations are not run: reading commands must never change the store, and `decisiontrail migrate` is the
 * explicit way to upgrade it; a store that lacks one is refused at open with a message saying so.
 */
export async function openDirectBackend(options: StoreOptions, via: string): Promise<AuditBackend> {
  // Loaded on demand: the embedded engine is a large native module that help and usage errors should not load.
  const { openStore } = await import('@decisiontrail/clickhouse');
  const store = await openStore({ ...options, migrate: 'check' });
  return {
    via,
    queries: store,
    verificationRecords: (query) => store.verificationRecords(query),
    close: () => store.close(),
  };
}
