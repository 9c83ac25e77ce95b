export { runCli } from './run-cli.ts';
export type { CliIo } from './run-cli.ts';
export { COMMAND_TABLE } from './command-table.ts';
export type {
  CommandContext,
  CommandEntry,
  CommandExample,
  CommandGroupSpec,
  CommandSpec,
  OptionSpec,
  OptionValues,
} from './command.ts';
export { CliError } from './cli-error.ts';
export type { DemoModule, DemoOptions } from './commands/demo-command.ts';
export type { CliErrorCode } from './cli-error.ts';
export { EXIT_CODES, EXIT_CODE_TABLE } from './exit-codes.ts';
export type { ExitCode } from './exit-codes.ts';
export { reportingDeadline, ART73_REPORTING_DAYS, describeTimeLeft } from './incident-deadline.ts';
export type { ReportingDeadline } from './incident-deadline.ts';
export { renderReportHtml } from './render/report-html.ts';
export { renderReportMarkdown } from './render/report-markdown.ts';
export type { ReportDocument, ReportModelVersion } from './render/report-document.ts';
export type { TimelineDocument, TimelineDecision, TimelineEntry } from './render/timeline-document.ts';
export { parseTimeArgument } from './time-argument.ts';
