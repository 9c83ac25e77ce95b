import type { CommandEntry } from './command.ts';
import { decisionsCommand } from './commands/decisions-command.ts';
import { demoCommand } from './commands/demo-command.ts';
import { eraseCommand } from './commands/erase-command.ts';
import { subjectCommand } from './commands/subject-command.ts';
import { processingRecordCommand } from './commands/processing-record-command.ts';
import { fairnessCommand } from './commands/fairness-command.ts';
import { reproduceCommand } from './commands/reproduce-command.ts';
import { exportCommand } from './commands/export-command.ts';
import { incidentCommands } from './commands/incident-commands.ts';
import { keysCommands } from './commands/keys-commands.ts';
import { migrateCommand } from './commands/migrate-command.ts';
import { quarantineCommands } from './commands/quarantine-commands.ts';
import { reportCommand } from './commands/report-command.ts';
import { serveCommand } from './commands/serve-command.ts';
import { timelineCommand } from './commands/timeline-command.ts';
import { verifyBundleCommand } from './commands/verify-bundle-command.ts';
import { verifyCommand } from './commands/verify-command.ts';

/**
 * Every `decisiontrail` command, in the order `--help` lists them. A command is added by importing its spec and
 * listing it here. (`demo` runs the separate @decisiontrail/demo package, which it loads only when it runs.)
 */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  decisionsCommand,
  timelineCommand,
  reproduceCommand,
  reportCommand,
  fairnessCommand,
  verifyCommand,
  exportCommand,
  verifyBundleCommand,
  incidentCommands,
  subjectCommand,
  processingRecordCommand,
  eraseCommand,
  quarantineCommands,
  keysCommands,
  serveCommand,
  migrateCommand,
  demoCommand,
];
