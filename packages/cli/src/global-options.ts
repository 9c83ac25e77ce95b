import type { OptionSpec } from './command.ts';

/** Options every command accepts, before or after the command name. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  data: {
    type: 'string',
    valueName: 'DIR',
    description:
      'data directory of the embedded store (env DECISIONTRAIL_DATA_DIR; default ./.decisiontrail/data)',
  },
  'clickhouse-url': {
    type: 'string',
    valueName: 'URL',
    description: 'use a ClickHouse server instead of the embedded store (env DECISIONTRAIL_CLICKHOUSE_URL)',
  },
  config: {
    type: 'string',
    valueName: 'FILE',
    description: 'configuration file (env DECISIONTRAIL_CONFIG; default ./decisiontrail.yaml when present)',
  },
  json: { type: 'boolean', description: 'print machine-readable JSON instead of text (reading commands)' },
  'no-color': {
    type: 'boolean',
    description: 'no ANSI colours (also when NO_COLOR is set or output is not a terminal)',
  },
  help: { type: 'boolean', short: 'h', description: 'show help for the command' },
};

/** Global option values after parsing. */
export interface GlobalOptionValues {
  data?: string;
  clickhouseUrl?: string;
  config?: string;
  json: boolean;
  noColor: boolean;
  help: boolean;
}
