import type { MigrationResult } from '@decisiontrail/clickhouse';
import { CliError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { findLiveServe } from '../store/serve-state.ts';

/** `decisiontrail migrate` */
export const migrateCommand: CommandSpec = {
  kind: 'command',
  name: 'migrate',
  summary: 'create or upgrade the store schema (tables, views, TTLs)',
  usage: 'migrate [--data DIR | --clickhouse-url URL] [--json]',
  description:
    'Applies pending versioned migrations and records them; running it again changes nothing. The embedded store is\n' +
    'created when its directory does not exist yet. `decisiontrail serve` also migrates at start.',
  options: {},
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    { command: 'migrate --data ./.decisiontrail/data', note: 'create the embedded store' },
    { command: 'migrate --clickhouse-url https://ch.internal:8443', note: 'upgrade a ClickHouse server' },
  ],
  async run(context) {
    const { storage, retention } = context.settings.config;
    if (storage.clickhouse.url === undefined) {
      const live = await findLiveServe(storage.dataDir);
      if (live !== undefined) {
        throw new CliError(
          'STORE_UNREACHABLE',
          `decisiontrail serve (pid ${live.pid}) holds the store at ${storage.dataDir} and migrated it when it started; stop it to migrate by hand`,
        );
      }
    }
    const retentionDays = {
      standard: retention.standard,
      high_risk: retention.highRisk,
      incident: retention.incident,
      permanent: retention.permanent,
    };
    const { openStore } = await import('@decisiontrail/clickhouse');
    const store =
      storage.clickhouse.url === undefined
        ? await openStore({ dataDir: storage.dataDir, retention: retentionDays, migrate: false })
        : await openStore({
            kind: 'server',
            url: storage.clickhouse.url,
            username: storage.clickhouse.username,
            password: storage.clickhouse.password,
            database: storage.clickhouse.database,
            retention: retentionDays,
            migrate: false,
          });
    try {
      const result = await store.migrate();
      if (context.settings.json) context.out.json(result);
      else context.out.line(describeMigration(result));
    } finally {
      await store.close();
    }
    return EXIT_CODES.OK;
  },
};

function describeMigration(result: MigrationResult): string {
  return result.applied.length === 0
    ? `store schema is up to date (version ${result.current})`
    : `applied migration(s) ${result.applied.join(', ')}; schema version ${result.current}`;
}
