import type { CommandEntry } from './command.ts';
import { eraseCommand } from './commands/erase-command.ts';
import { incidentCommands } from './commands/incident-commands.ts';
import { migrateCommand } from './commands/migrate-command.ts';
import { reportCommand } from './commands/report-command.ts';
import { serveCommand } from './commands/serve-command.ts';
import { timelineCommand } from './commands/timeline-command.ts';

/**
 * Every `decisiontrail` command, in the order `--help` lists them. A command is added by importing its spec and
 * listing it here (the `demo` command lives in ./demo/index.ts and is registered the same way).
 */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  timelineCommand,
  reportCommand,
  incidentCommands,
  eraseCommand,
  serveCommand,
  migrateCommand,
];
