import {
  AUDIT_INCIDENT_CATEGORY_VALUES,
  AUDIT_INCIDENT_SEVERITY_VALUES,
  type AuditIncidentCategory,
  type AuditIncidentSeverity,
} from '@decisiontrail/semconv';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandContext, CommandGroupSpec, CommandSpec, OptionSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { describeTimeLeft, reportingDeadline, type ReportingDeadline } from '../incident-deadline.ts';
import { formatTime } from '../render/number-format.ts';
import type { AuditBackend, DecisionSummary, InvestigationSignal } from '../store/audit-backend.ts';
import type { IncidentRecord, IncidentUpdate, NewIncident } from '../store/incident-record.ts';
import { withBackend } from '../store/open-backend.ts';
import { parseTimeArgument } from '../time-argument.ts';
import { choiceOption, requiredOption, stringOption } from './option-values.ts';

const SEVERITIES = Object.values(AUDIT_INCIDENT_SEVERITY_VALUES) as AuditIncidentSeverity[];
const CATEGORIES = Object.values(AUDIT_INCIDENT_CATEGORY_VALUES) as AuditIncidentCategory[];
const INCIDENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const FIELD_OPTIONS: Record<string, OptionSpec> = {
  title: { type: 'string', valueName: 'TEXT', description: 'short description' },
  severity: { type: 'string', valueName: 'S', description: `severity: ${SEVERITIES.join(', ')}` },
  category: { type: 'string', valueName: 'C', description: `Art. 73 category: ${CATEGORIES.join(', ')}` },
  model: { type: 'string', valueName: 'ID', description: 'affected model id' },
  version: { type: 'string', valueName: 'V', description: 'affected model version' },
  from: { type: 'string', valueName: 'T', description: 'start of the affected window' },
  to: { type: 'string', valueName: 'T', description: 'end of the affected window' },
  'aware-at': {
    type: 'string',
    valueName: 'T',
    description: 'when the provider became aware (starts the Art. 73 clock; default now)',
  },
  notes: { type: 'string', valueName: 'TEXT', description: 'free-text notes' },
};

/** The incident with its Art. 73 deadline, as printed by --json. */
function withDeadline(
  incident: IncidentRecord,
  now: Date,
): IncidentRecord & { reporting: ReportingDeadline & { timeLeft: string } } {
  const deadline = reportingDeadline(incident.category, new Date(incident.awareAt), now);
  return { ...incident, reporting: { ...deadline, timeLeft: describeTimeLeft(deadline) } };
}

function incidentId(command: string, text: string): string {
  if (!INCIDENT_ID.test(text)) throw usageError(`${command}: ${JSON.stringify(text)} is not an incident id`);
  return text;
}

async function loadIncident(backend: AuditBackend, command: string, id: string): Promise<IncidentRecord> {
  const incident = await backend.getIncident(id);
  if (incident === null) throw new CliError('NOT_FOUND', `${command}: no incident with id ${id}`);
  return incident;
}

function deadlineLine(incident: IncidentRecord, now: Date, context: CommandContext): string {
  const deadline = reportingDeadline(incident.category, new Date(incident.awareAt), now);
  const left = incident.status === 'closed' ? 'closed' : describeTimeLeft(deadline);
  const styled =
    incident.status === 'closed'
      ? left
      : context.out.style(
          deadline.overdue ? 'red' : deadline.remainingMs < 86_400_000 ? 'yellow' : 'green',
          left,
        );
  return `${formatTime(deadline.deadline.toISOString())} (${deadline.basis}, ${deadline.days} days; ${styled})`;
}

function printIncident(incident: IncidentRecord, now: Date, context: CommandContext): void {
  const out = context.out;
  out.line(out.style('bold', `Incident ${incident.id}: ${incident.title}`));
  const rows: [string, string][] = [
    ['status', incident.status],
    ['severity', incident.severity],
    ['category', incident.category],
    ['model', `${incident.modelId} ${incident.modelVersion}`.trim()],
    ['window', `${formatTime(incident.windowFrom)} to ${formatTime(incident.windowTo)}`],
    ['aware at', formatTime(incident.awareAt)],
    ['report by', deadlineLine(incident, now, context)],
    ['opened', formatTime(incident.openedAt)],
  ];
  if (incident.closedAt !== null) rows.push(['closed', formatTime(incident.closedAt)]);
  if (incident.notes !== '') rows.push(['notes', incident.notes]);
  for (const [label, value] of rows) out.line(`  ${label.padEnd(10)} ${value}`);
}

/** Reads the window and awareness options; every time is validated before the store is touched. */
function readTimes(
  context: CommandContext,
  command: string,
  now: Date,
): { windowFrom?: string; windowTo?: string; awareAt?: string } {
  const times: { windowFrom?: string; windowTo?: string; awareAt?: string } = {};
  const from = stringOption(context, 'from');
  const to = stringOption(context, 'to');
  const aware = stringOption(context, 'aware-at');
  if (from !== undefined) times.windowFrom = parseTimeArgument('--from', from, now).toISOString();
  if (to !== undefined) times.windowTo = parseTimeArgument('--to', to, now).toISOString();
  if (aware !== undefined) times.awareAt = parseTimeArgument('--aware-at', aware, now).toISOString();
  if (times.windowFrom !== undefined && times.windowTo !== undefined && times.windowFrom >= times.windowTo) {
    throw usageError(`${command}: --from must be before --to`);
  }
  return times;
}

const openCommand: CommandSpec = {
  kind: 'command',
  name: 'incident open',
  summary: 'record a serious incident and start its Art. 73 reporting clock',
  usage:
    'incident open --title TEXT --severity S --category C --model ID [--version V] --from T [--to T] [--aware-at T]',
  description:
    'The reporting deadline follows EU AI Act Art. 73 from the category and the awareness time: 10 days for a\n' +
    'death, 2 days for a widespread infringement or a critical-infrastructure disruption, 15 days otherwise.',
  options: FIELD_OPTIONS,
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    {
      command:
        'incident open --title "v2 rejects eligible applicants" --severity high --category fundamental_rights --model credit-risk --version v2 --from 2026-03-01',
      note: 'open an incident for a model version since a date',
    },
  ],
  async run(context) {
    const now = new Date();
    const title = requiredOption(context, 'incident open', 'title');
    const severity = choiceOption(context, 'incident open', 'severity', SEVERITIES);
    const category = choiceOption(context, 'incident open', 'category', CATEGORIES);
    if (severity === undefined) throw usageError('incident open: --severity is required');
    if (category === undefined) throw usageError('incident open: --category is required');
    const modelId = requiredOption(context, 'incident open', 'model');
    requiredOption(context, 'incident open', 'from');
    const times = readTimes(context, 'incident open', now);
    const incident: NewIncident = {
      title,
      severity,
      category,
      modelId,
      modelVersion: stringOption(context, 'version') ?? '',
      windowFrom: times.windowFrom!,
      windowTo: times.windowTo ?? now.toISOString(),
      awareAt: times.awareAt ?? now.toISOString(),
      notes: stringOption(context, 'notes') ?? '',
    };
    if (incident.windowFrom >= incident.windowTo)
      throw usageError('incident open: --from must be before --to');
    const created = await withBackend(context.settings, (backend) => backend.createIncident(incident));
    if (context.settings.json) context.out.json(withDeadline(created, now));
    else printIncident(created, now, context);
    return EXIT_CODES.OK;
  },
};

const updateCommand: CommandSpec = {
  kind: 'command',
  name: 'incident update',
  summary: 'change an incident’s fields (severity, category, window, awareness time, notes)',
  usage:
    'incident update <incident-id> [--title TEXT] [--severity S] [--category C] [--model ID] [--version V] [--from T] [--to T] [--aware-at T] [--notes TEXT]',
  options: FIELD_OPTIONS,
  positionals: { min: 1, max: 1, names: 'an incident id' },
  json: true,
  examples: [
    {
      command: 'incident update INC-1 --category death --aware-at 2026-03-04T09:00Z',
      note: 'reclassify: the deadline becomes 10 days',
    },
  ],
  async run(context) {
    const now = new Date();
    const id = incidentId('incident update', context.positionals[0]!);
    const update: IncidentUpdate = { ...readTimes(context, 'incident update', now) };
    const title = stringOption(context, 'title');
    const severity = choiceOption(context, 'incident update', 'severity', SEVERITIES);
    const category = choiceOption(context, 'incident update', 'category', CATEGORIES);
    const model = stringOption(context, 'model');
    const version = stringOption(context, 'version');
    const notes = stringOption(context, 'notes');
    if (title !== undefined) update.title = title;
    if (severity !== undefined) update.severity = severity;
    if (category !== undefined) update.category = category;
    if (model !== undefined) update.modelId = model;
    if (version !== undefined) update.modelVersion = version;
    if (notes !== undefined) update.notes = notes;
    if (Object.keys(update).length === 0)
      throw usageError('incident update: nothing to change; give at least one option');
    const updated = await withBackend(context.settings, async (backend) => {
      const current = await loadIncident(backend, 'incident update', id);
      const from = update.windowFrom ?? current.windowFrom;
      const to = update.windowTo ?? current.windowTo;
      if (from >= to) throw usageError('incident update: the window would end before it starts');
      return backend.updateIncident(id, update);
    });
    if (context.settings.json) context.out.json(withDeadline(updated, now));
    else printIncident(updated, now, context);
    return EXIT_CODES.OK;
  },
};

const closeCommand: CommandSpec = {
  kind: 'command',
  name: 'incident close',
  summary: 'close an incident',
  usage: 'incident close <incident-id> [--notes TEXT]',
  options: { notes: FIELD_OPTIONS['notes']! },
  positionals: { min: 1, max: 1, names: 'an incident id' },
  json: true,
  examples: [
    {
      command: 'incident close INC-1 --notes "rolled back to v1; reported 2026-03-05"',
      note: 'close with a note',
    },
  ],
  async run(context) {
    const now = new Date();
    const id = incidentId('incident close', context.positionals[0]!);
    const notes = stringOption(context, 'notes');
    const closed = await withBackend(context.settings, async (backend) => {
      const current = await loadIncident(backend, 'incident close', id);
      if (current.status === 'closed') throw usageError(`incident close: incident ${id} is already closed`);
      const update: IncidentUpdate = { status: 'closed', closedAt: now.toISOString() };
      if (notes !== undefined) update.notes = current.notes === '' ? notes : `${current.notes}\n${notes}`;
      return backend.updateIncident(id, update);
    });
    if (context.settings.json) context.out.json(withDeadline(closed, now));
    else printIncident(closed, now, context);
    return EXIT_CODES.OK;
  },
};

const listCommand: CommandSpec = {
  kind: 'command',
  name: 'incident list',
  summary: 'incidents with their reporting deadlines',
  usage: 'incident list [--status open|closed|all]',
  options: { status: { type: 'string', valueName: 'S', description: 'open (default), closed or all' } },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [{ command: 'incident list', note: 'open incidents, most urgent deadline first' }],
  async run(context) {
    const now = new Date();
    const status =
      choiceOption(context, 'incident list', 'status', ['open', 'closed', 'all'] as const) ?? 'open';
    const incidents = await withBackend(context.settings, (backend) =>
      backend.listIncidents({ status: status === 'all' ? undefined : status }),
    );
    const rows = incidents
      .map((incident) => withDeadline(incident, now))
      .sort((a, b) => a.reporting.remainingMs - b.reporting.remainingMs);
    if (context.settings.json) {
      context.out.json(rows);
      return EXIT_CODES.OK;
    }
    if (rows.length === 0) {
      context.out.line(`no ${status === 'all' ? '' : `${status} `}incidents`);
      return EXIT_CODES.OK;
    }
    for (const incident of rows) {
      context.out.line(
        `${incident.id}  ${incident.status.padEnd(6)} ${incident.severity.padEnd(8)} ${incident.category.padEnd(24)} ${`${incident.modelId} ${incident.modelVersion}`.trim().padEnd(20)} report by ${deadlineLine(incident, now, context)}  ${incident.title}`,
      );
    }
    return EXIT_CODES.OK;
  },
};

const SHOW_DECISIONS = 20;

const showCommand: CommandSpec = {
  kind: 'command',
  name: 'incident show',
  summary: 'an incident with its affected decisions and the investigation signals and their evidence',
  usage: 'incident show <incident-id> [--json]',
  options: {},
  positionals: { min: 1, max: 1, names: 'an incident id' },
  json: true,
  examples: [
    {
      command: 'incident show INC-1',
      note: 'deadline, affected decisions, drift/degradation/adversarial signals',
    },
  ],
  async run(context) {
    const now = new Date();
    const id = incidentId('incident show', context.positionals[0]!);
    const result = await withBackend(context.settings, async (backend) => {
      const incident = await loadIncident(backend, 'incident show', id);
      const affected = await backend.incidentDecisions(incident, SHOW_DECISIONS);
      const signals = await backend.incidentSignals(incident);
      return { incident, affected, signals };
    });
    if (context.settings.json) {
      context.out.json({
        ...withDeadline(result.incident, now),
        affectedDecisions: result.affected,
        signals: result.signals,
      });
      return EXIT_CODES.OK;
    }
    printIncident(result.incident, now, context);
    printAffected(context, result.affected);
    printSignals(context, result.signals);
    return EXIT_CODES.OK;
  },
};

function printAffected(
  context: CommandContext,
  affected: { total: number; decisions: DecisionSummary[] },
): void {
  const out = context.out;
  out.line('', out.style('bold', `Affected decisions: ${affected.total.toLocaleString('en-US')}`));
  for (const d of affected.decisions) {
    out.line(
      `  ${formatTime(d.time)}  ${d.decisionId}  ${`${d.modelId} ${d.modelVersion}`.trim()}  ${d.outcome}${d.confidence === null ? '' : ` (${d.confidence.toFixed(2)})`}${d.overridden ? '  overridden' : ''}`,
    );
  }
  if (affected.total > affected.decisions.length)
    out.line(`  … and ${(affected.total - affected.decisions.length).toLocaleString('en-US')} more`);
}

function printSignals(context: CommandContext, signals: InvestigationSignal[]): void {
  const out = context.out;
  out.line('', out.style('bold', `Investigation signals: ${signals.length}`));
  for (const signal of signals) {
    out.line(
      `  ${out.style('yellow', signal.kind)}: ${signal.summary}${signal.score === null ? '' : ` (score ${signal.score.toFixed(3)})`}`,
    );
    for (const evidence of signal.evidence) out.line(`      ${evidence.label}: ${evidence.value}`);
  }
}

/** `decisiontrail incident open|update|close|list|show` */
export const incidentCommands: CommandGroupSpec = {
  kind: 'group',
  name: 'incident',
  summary: 'serious incidents: open, update, close, list, show (with Art. 73 deadlines)',
  description:
    'Incidents are stored with the audit trail; every listing shows the EU AI Act Art. 73 reporting deadline.',
  subcommands: [openCommand, updateCommand, closeCommand, listCommand, showCommand],
};
