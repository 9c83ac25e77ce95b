// Internals for this package's tests and for @decisiontrail/demo; not a stable API.
export { COMMAND_TABLE } from './command-table.ts';
export { CliError } from './cli-error.ts';
export { EXIT_CODE_TABLE, EXIT_CODES } from './exit-codes.ts';
export {
  ART73_REPORTING_DAYS,
  describeTimeLeft,
  formatDuration,
  reportingDeadline,
} from './incident-deadline.ts';
export { checkIndependentWitnesses } from './independent-witness-check.ts';
export { incidentWindow } from './incident-window.ts';
export { formatCount, formatPercent, formatTime } from './render/number-format.ts';
export { ProgressBar } from './render/progress-bar.ts';
export { renderReportHtml } from './render/report-html.ts';
export { renderReportMarkdown } from './render/report-markdown.ts';
export type { ReportDocument } from './render/report-document.ts';
export { buildReportDocument } from './render/report-view.ts';
export { buildTimelineDocument } from './render/timeline-view.ts';
export { evidenceQueryFor, verifyTimeline } from './render/timeline-verification.ts';
export { barChart, lineChart } from './render/svg-chart.ts';
export { runCli } from './run-cli.ts';
export { openServeBackend } from './store/serve-backend.ts';
export { TerminalOutput } from './terminal-output.ts';
export { SIGNING_KEY_FILE } from './trusted-keys.ts';
export { parseTimeArgument, parseTimeRange } from './time-argument.ts';
