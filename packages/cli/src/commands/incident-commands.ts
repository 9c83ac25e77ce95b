import type {
  DecisionRow,
  FeatureDrift,
  Incident,
  IncidentStatus,
  IncidentUpdate,
  NewIncident,
} from '@decisiontrail/clickhouse';
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
import { incidentScope, incidentWindow } from '../incident-window.ts';
import { formatConfidence, formatCount, formatPercent, formatTime } from '../render/number-format.ts';
import type { AuditQueries } from '../store/audit-backend.ts';
import { withBackend } from '../store/open-backend.ts';
import { BEGINNING_OF_TIME } from '../store/time-bounds.ts';
import { parseTimeArgument } from '../time-argument.ts';
import { choiceOption, listOption, requiredOption, stringOption } from './option-values.ts';

const SEVERITIES = Object.values(AUDIT_INCIDENT_SEVERITY_VALUES) as AuditIncidentSeverity[];
const CATEGORIES = Object.values(AUDIT_INCIDENT_CATEGORY_VALUES) as AuditIncidentCategory[];
const STATUSES: readonly IncidentStatus[] = ['open', 'investigating', 'reported', 'closed'];
const INCIDENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const DAY_MS = 86_400_000;

const FIELD_OPTIONS: Record<string, OptionSpec> = {
  title: { type: 'string', valueName: 'TEXT', description: 'short description' },
  severity: { type: 'string', valueName: 'S', description: `severity: ${SEVERITIES.join(', ')}` },
  category: { type: 'string', valueName: 'C', description: `Art. 73 category: ${CATEGORIES.join(', ')}` },
  model: { type: 'string', valueName: 'ID', description: 'affected model id' },
  version: { type: 'string', valueName: 'V', description: 'affected model version' },
  from: { type: 'string', valueName: 'T', description: 'start of the affected window' },
  to: { type: 'string', valueName: 'T', description: 'end of the affected window (default now)' },
  decision: {
    type: 'string',
    multiple: true,
    valueName: 'ID',
    description: 'a decision id that is part of the incident',
  },
  notes: { type: 'string', valueName: 'TEXT', description: 'free-text description' },
};

/** An incident as printed by --json: the stored record, its affected window and its Art. 73 reporting state. */
function incidentView(incident: Incident, now: Date): Record<string, unknown> {
  const deadline = reportingDeadline(incident.category, incident.occurredAt, now);
  const window = incidentWindow(incident);
  return {
    ...incident,
    window: window === null ? null : { from: window.from.toISOString(), to: window.to.toISOString() },
    reporting: { ...deadline, timeLeft: reportingState(incident, deadline) },
  };
}

function reportingState(incident: Incident, deadline: ReportingDeadline): string {
  if (incident.reportedAt !== null) {
    return incident.reportedAt.getTime() <= deadline.deadline.getTime()
      ? `reported ${formatTime(incident.reportedAt.toISOString())}`
      : `reported late ${formatTime(incident.reportedAt.toISOString())}`;
  }
  if (incident.status === 'closed') return 'closed without a report';
  return describeTimeLeft(deadline);
}

function incidentId(command: string, text: string): string {
  if (!INCIDENT_ID.test(text)) throw usageError(`${command}: ${JSON.stringify(text)} is not an incident id`);
  return text;
}

async function loadIncident(queries: AuditQueries, command: string, id: string): Promise<Incident> {
  const incident = await queries.getIncident(id);
  if (incident === null) throw new CliError('NOT_FOUND', `${command}: no incident with id ${id}`);
  return incident;
}

function deadlineText(incident: Incident, now: Date, context: CommandContext): string {
  const deadline = reportingDeadline(incident.category, incident.occurredAt, now);
  const state = reportingState(incident, deadline);
  const pending = incident.reportedAt === null && incident.status !== 'closed';
  const style = !pending
    ? 'dim'
    : deadline.overdue
      ? 'red'
      : deadline.remainingMs < DAY_MS
        ? 'yellow'
        : 'green';
  return `${formatTime(deadline.deadline.toISOString())} (${deadline.basis}: ${deadline.days} days; ${context.out.style(style, state)})`;
}

function printIncident(incident: Incident, now: Date, context: CommandContext): void {
  const out = context.out;
  const window = incidentWindow(incident);
  const text = incident.description;
  out.line(out.style('bold', `Incident ${incident.incidentId}: ${incident.title}`));
  const rows: [string, string][] = [
    ['status', incident.status],
    ['severity', incident.severity],
    ['category', incident.category],
    ['model', `${incident.modelId} ${incident.modelVersion}`.trim() || '—'],
    [
      'window',
      window === null
        ? '—'
        : `${formatTime(window.from.toISOString())} to ${formatTime(window.to.toISOString())}`,
    ],
    ['aware at', formatTime(incident.occurredAt.toISOString())],
    ['report by', deadlineText(incident, now, context)],
    ['opened', formatTime(incident.createdAt.toISOString())],
  ];
  if (incident.decisionIds.length > 0) rows.push(['decisions', incident.decisionIds.join(', ')]);
  if (text !== '') rows.push(['notes', text.replace(/\n/g, '\n             ')]);
  for (const [label, value] of rows) out.line(`  ${label.padEnd(10)} ${value}`);
}

function optionalTime(context: CommandContext, name: string, now: Date): Date | undefined {
  const value = stringOption(context, name);
  return value === undefined ? undefined : parseTimeArgument(`--${name}`, value, now);
}

function decisionIds(context: CommandContext, command: string): string[] {
  const ids = listOption(context, 'decision');
  for (const id of ids) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      throw usageError(`${command}: --decision ${JSON.stringify(id)} is not a decision id (UUID)`);
    }
  }
  return ids.map((id) => id.toLowerCase());
}

const openCommand: CommandSpec = {
  kind: 'command',
  name: 'incident open',
  summary: 'record a serious incident and start its Art. 73 reporting clock',
  usage:
    'incident open --title TEXT --severity S --category C --model ID [--version V] --from T [--to T] [--aware-at T] [--decision ID]… [--notes TEXT]',
  description:
    'The reporting deadline follows EU AI Act Art. 73 from the category and the time the provider became aware\n' +
    '(--aware-at, default now): 10 days for a death, 2 days for a widespread infringement or a serious\n' +
    'disruption of critical infrastructure, 15 days for every other serious incident.',
  options: {
    ...FIELD_OPTIONS,
    'aware-at': {
      type: 'string',
      valueName: 'T',
      description: 'when the provider became aware (starts the Art. 73 clock; default now)',
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    {
      command:
        'incident open --title "v2 rejects eligible applicants" --severity high --category fundamental_rights --model credit-risk --version v2 --from 2026-03-01',
      note: 'an incident about a model version since a date',
    },
    {
      command:
        'incident open --title "outage of grid balancing" --severity critical --category critical_infrastructure --model grid-ai --from 2h --aware-at 30m',
      note: 'critical infrastructure: 2 days to report',
    },
  ],
  async run(context) {
    const now = new Date();
    const command = 'incident open';
    const title = requiredOption(context, command, 'title');
    const severity = choiceOption(context, command, 'severity', SEVERITIES);
    const category = choiceOption(context, command, 'category', CATEGORIES);
    if (severity === undefined) throw usageError(`${command}: --severity is required`);
    if (category === undefined) throw usageError(`${command}: --category is required`);
    const modelId = requiredOption(context, command, 'model');
    const from = parseTimeArgument('--from', requiredOption(context, command, 'from'), now);
    const to = optionalTime(context, 'to', now) ?? now;
    if (from.getTime() >= to.getTime()) throw usageError(`${command}: --from must be before --to`);
    const awareAt = optionalTime(context, 'aware-at', now) ?? now;
    if (awareAt.getTime() > now.getTime()) throw usageError(`${command}: --aware-at lies in the future`);
    const incident: NewIncident = {
      title,
      severity,
      category,
      modelId,
      modelVersion: stringOption(context, 'version') ?? '',
      decisionIds: decisionIds(context, command),
      occurredAt: awareAt,
      description: stringOption(context, 'notes') ?? '',
      windowFrom: from,
      windowTo: to,
      updatedBy: context.settings.env['USER'] ?? '',
    };
    const created = await withBackend(context.settings, (backend) =>
      backend.queries.createIncident(incident),
    );
    if (context.settings.json) context.out.json(incidentView(created, now));
    else printIncident(created, now, context);
    return EXIT_CODES.OK;
  },
};

const updateCommand: CommandSpec = {
  kind: 'command',
  name: 'incident update',
  summary: 'change an incident: severity, category, status, window, model, decisions, notes, report time',
  usage:
    'incident update <incident-id> [--status S] [--severity S] [--category C] [--from T --to T] [--reported-at T] …',
  description:
    'Every change is stored as a new version of the incident; a new category recomputes the Art. 73 deadline.',
  options: {
    ...FIELD_OPTIONS,
    status: { type: 'string', valueName: 'S', description: `status: ${STATUSES.join(', ')}` },
    'reported-at': {
      type: 'string',
      valueName: 'T',
      description: 'when the incident was reported to the authority',
    },
  },
  positionals: { min: 1, max: 1, names: 'an incident id' },
  json: true,
  examples: [
    {
      command: 'incident update 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b --category death',
      note: 'reclassify: the deadline becomes 10 days',
    },
    {
      command: 'incident update 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b --status reported --reported-at now',
      note: 'record the report to the authority',
    },
  ],
  async run(context) {
    const now = new Date();
    const command = 'incident update';
    const id = incidentId(command, context.positionals[0]!);
    const update: IncidentUpdate = {};
    const title = stringOption(context, 'title');
    const severity = choiceOption(context, command, 'severity', SEVERITIES);
    const category = choiceOption(context, command, 'category', CATEGORIES);
    const status = choiceOption(context, command, 'status', STATUSES);
    const model = stringOption(context, 'model');
    const version = stringOption(context, 'version');
    const notes = stringOption(context, 'notes');
    const from = optionalTime(context, 'from', now);
    const to = optionalTime(context, 'to', now);
    const reportedAt = optionalTime(context, 'reported-at', now);
    const decisions = decisionIds(context, command);
    if (title !== undefined) update.title = title;
    if (severity !== undefined) update.severity = severity;
    if (category !== undefined) update.category = category;
    if (status !== undefined) update.status = status;
    if (model !== undefined) update.modelId = model;
    if (version !== undefined) update.modelVersion = version;
    if (reportedAt !== undefined) update.reportedAt = reportedAt;
    const changesTextOrWindow = notes !== undefined || from !== undefined || to !== undefined;
    if (Object.keys(update).length === 0 && !changesTextOrWindow && decisions.length === 0) {
      throw usageError(`${command}: nothing to change; give at least one option`);
    }
    const updated = await withBackend(context.settings, async (backend) => {
      const current = await loadIncident(backend.queries, command, id);
      if (decisions.length > 0) update.decisionIds = [...new Set([...current.decisionIds, ...decisions])];
      if (notes !== undefined) update.description = notes;
      if (from !== undefined || to !== undefined) {
        // A window needs its start: --to alone on an incident without one changes nothing.
        const windowFrom = from ?? current.windowFrom;
        const windowTo = to ?? current.windowTo ?? now;
        if (windowFrom !== null) {
          if (windowFrom.getTime() >= windowTo.getTime())
            throw usageError(`${command}: the window would end before it starts`);
          update.windowFrom = windowFrom;
          update.windowTo = windowTo;
        }
      }
      return backend.queries.updateIncident(id, update);
    });
    if (context.settings.json) context.out.json(incidentView(updated, now));
    else printIncident(updated, now, context);
    return EXIT_CODES.OK;
  },
};

const closeCommand: CommandSpec = {
  kind: 'command',
  name: 'incident close',
  summary: 'close an incident',
  usage: 'incident close <incident-id> [--notes TEXT]',
  options: { notes: { type: 'string', valueName: 'TEXT', description: 'appended to the description' } },
  positionals: { min: 1, max: 1, names: 'an incident id' },
  json: true,
  examples: [
    {
      command: 'incident close 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b --notes "rolled back to v1"',
      note: 'close with a note',
    },
  ],
  async run(context) {
    const now = new Date();
    const id = incidentId('incident close', context.positionals[0]!);
    const notes = stringOption(context, 'notes');
    const closed = await withBackend(context.settings, async (backend) => {
      const current = await loadIncident(backend.queries, 'incident close', id);
      if (current.status === 'closed') throw usageError(`incident close: incident ${id} is already closed`);
      const update: IncidentUpdate = { status: 'closed' };
      if (notes !== undefined)
        update.description = current.description === '' ? notes : `${current.description}\n${notes}`;
      return backend.queries.updateIncident(id, update);
    });
    if (context.settings.json) context.out.json(incidentView(closed, now));
    else printIncident(closed, now, context);
    return EXIT_CODES.OK;
  },
};

const listCommand: CommandSpec = {
  kind: 'command',
  name: 'incident list',
  summary: 'incidents with their reporting deadlines, most urgent first',
  usage: 'incident list [--status open|investigating|reported|closed|all] [--model ID]',
  options: {
    status: { type: 'string', valueName: 'S', description: 'only this status (default: all)' },
    model: { type: 'string', valueName: 'ID', description: 'only incidents of this model' },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [{ command: 'incident list --status open', note: 'open incidents, most urgent deadline first' }],
  async run(context) {
    const now = new Date();
    const status = choiceOption(context, 'incident list', 'status', [...STATUSES, 'all'] as const);
    const model = stringOption(context, 'model');
    const incidents = await withBackend(context.settings, (backend) =>
      backend.queries.listIncidents({
        ...(status !== undefined && status !== 'all' ? { status } : {}),
        ...(model ? { modelId: model } : {}),
      }),
    );
    const sorted = [...incidents].sort((a, b) => a.reportDeadline.getTime() - b.reportDeadline.getTime());
    if (context.settings.json) {
      context.out.json(sorted.map((incident) => incidentView(incident, now)));
      return EXIT_CODES.OK;
    }
    if (sorted.length === 0) {
      context.out.line('no incidents');
      return EXIT_CODES.OK;
    }
    for (const incident of sorted) {
      context.out.line(
        `${incident.incidentId}  ${incident.status.padEnd(13)} ${incident.severity.padEnd(8)} ${incident.category.padEnd(23)} report by ${deadlineText(incident, now, context)}  ${incident.title}`,
      );
    }
    return EXIT_CODES.OK;
  },
};

const SHOW_DECISIONS = 20;

interface IncidentEvidence {
  affected: { total: number; shown: DecisionRow[] };
  signals: Awaited<ReturnType<AuditQueries['driftSignal' | 'degradationSignal' | 'adversarialSignals']>>[];
}

/** One line per recorded input feature: its drift level, PSI and KS, and the decisions behind each window. */
function printFeatureDrift(out: CommandContext['out'], features: readonly FeatureDrift[]): void {
  for (const f of features) {
    const flagged = f.level === 'moderate' || f.level === 'significant';
    out.line(
      `  ${out.style(flagged ? 'yellow' : 'dim', `input drift ${f.feature}: ${f.level}`)} (PSI ${f.psi?.toFixed(3) ?? '—'}, KS ${f.ks?.toFixed(3) ?? '—'}; baseline ${formatCount(f.baselineDecisions)} decisions, window ${formatCount(f.currentDecisions)})`,
    );
  }
}

/** Affected decisions and investigation signals over the incident's model, version and window. */
async function gatherEvidence(queries: AuditQueries, incident: Incident): Promise<IncidentEvidence> {
  const scope = incidentScope(incident);
  const range = { from: scope.from, to: scope.to };
  const filter = {
    from: range.from,
    to: range.to,
    modelId: incident.modelId,
    ...(incident.modelVersion !== '' ? { modelVersion: incident.modelVersion } : {}),
  };
  const signals: IncidentEvidence['signals'] = [];
  if (incident.modelId === '') return { affected: { total: 0, shown: [] }, signals };
  const [shown, totals] = [
    await queries.decisions({ ...filter, limit: SHOW_DECISIONS }),
    await queries.oversightRates(filter),
  ];
  const length = range.to.getTime() - range.from.getTime();
  // Drift of this window against the window of equal length just before it.
  signals.push(
    await queries.driftSignal({
      modelId: incident.modelId,
      baseline: { from: new Date(range.from.getTime() - length), to: range.from },
      current: range,
    }),
  );
  // Degradation around the deployment of the affected version, when there was one before the window ended.
  const report = await queries.periodReport({
    from: BEGINNING_OF_TIME,
    to: range.to,
    modelId: incident.modelId,
  });
  const deployment = report.deployments
    .filter((d) => incident.modelVersion === '' || d.modelVersion === incident.modelVersion)
    .at(-1);
  if (deployment !== undefined)
    signals.push(await queries.degradationSignal({ deploymentId: deployment.deploymentId }));
  signals.push(await queries.adversarialSignals(filter));
  return { affected: { total: totals.decisions, shown }, signals };
}

function printEvidence(context: CommandContext, evidence: IncidentEvidence): void {
  const out = context.out;
  out.line();
  out.line(out.style('bold', `Affected decisions: ${formatCount(evidence.affected.total)}`));
  for (const d of evidence.affected.shown) {
    const time = new Date(Number(BigInt(d.timeUnixNano) / 1_000_000n)).toISOString();
    out.line(
      `  ${formatTime(time)}  ${d.decisionId}  ${`${d.modelId} ${d.modelVersion}`.trim()}  ${d.outcome || '—'}${d.confidence === null ? '' : ` (${formatConfidence(d.confidence)})`}`,
    );
  }
  if (evidence.affected.total > evidence.affected.shown.length) {
    out.line(`  … and ${formatCount(evidence.affected.total - evidence.affected.shown.length)} more`);
  }
  out.line();
  out.line(out.style('bold', 'Investigation signals'));
  for (const signal of evidence.signals) {
    if (signal.signal === 'drift') {
      const { baselineDecisions, currentDecisions } = signal.evidence;
      if (baselineDecisions === 0 || currentDecisions === 0) {
        // PSI compares two distributions; with an empty side there is nothing to compare.
        out.line(
          `  ${out.style('dim', 'drift: not computable')} (baseline window before the incident: ${formatCount(baselineDecisions)} decisions, incident window: ${formatCount(currentDecisions)})`,
        );
        printFeatureDrift(out, signal.features);
        continue;
      }
      const flagged = signal.level === 'moderate' || signal.level === 'significant';
      // The level counts the input features with enough decisions in both windows: name the one that drifted most.
      const [topFeature] = signal.features
        .filter((f) => f.psi !== null && !f.level.startsWith('insufficient'))
        .sort((a, b) => b.psi! - a.psi!);
      const inputs =
        topFeature === undefined ? '' : `, input ${topFeature.feature} ${topFeature.psi!.toFixed(3)}`;
      out.line(
        `  ${out.style(flagged ? 'yellow' : 'dim', `drift: ${signal.level}`)} (PSI confidence ${signal.psiConfidence?.toFixed(3) ?? '—'}, outcomes ${signal.psiOutcome?.toFixed(3) ?? '—'}${inputs})`,
      );
      out.line(
        `      baseline ${formatCount(baselineDecisions)} decisions, window ${formatCount(currentDecisions)} decisions`,
      );
      for (const o of signal.evidence.outcomes) {
        out.line(
          `      outcome ${o.outcome}: ${formatPercent(o.baselineShare)} → ${formatPercent(o.currentShare)}`,
        );
      }
      printFeatureDrift(out, signal.features);
    } else if (signal.signal === 'degradation') {
      const b = signal.evidence.before;
      const a = signal.evidence.after;
      out.line(
        `  ${out.style(signal.degraded ? 'red' : 'dim', `degradation: ${signal.verdict}`)} around deployment ${signal.deploymentId} at ${formatTime(signal.at)}`,
      );
      for (const left of signal.insufficient) {
        out.line(
          `      ${left.rate} not compared: ${formatCount(left.before)} before, ${formatCount(left.after)} after (${formatCount(left.minimum)} needed on each side)`,
        );
      }
      out.line(
        `      override rate ${formatPercent(b.oversight.overrideRate)} → ${formatPercent(a.oversight.overrideRate)} (${formatCount(b.oversight.decisions)} → ${formatCount(a.oversight.decisions)} decisions)`,
      );
      out.line(
        `      error rate ${formatPercent(b.accuracy.errorRate)} → ${formatPercent(a.accuracy.errorRate)} (feedback on ${formatCount(b.accuracy.labelled)} → ${formatCount(a.accuracy.labelled)})`,
      );
    } else {
      const found = signal.nearThresholdBursts.length + signal.repeatedInputs.length;
      out.line(`  ${out.style(found > 0 ? 'yellow' : 'dim', `adversarial patterns: ${found}`)}`);
      for (const burst of signal.nearThresholdBursts) {
        out.line(
          `      near-threshold burst by ${burst.actorId} at ${formatTime(burst.windowStart)}: ${formatCount(burst.decisions)} decisions, e.g. ${burst.decisionIds.slice(0, 3).join(', ')}`,
        );
      }
      for (const repeat of signal.repeatedInputs) {
        out.line(
          `      ${repeat.actorId} repeated input ${repeat.inputHash.slice(0, 16)}… ${formatCount(repeat.decisions)} times (${repeat.distinctOutcomes} outcomes)`,
        );
      }
    }
  }
}

const showCommand: CommandSpec = {
  kind: 'command',
  name: 'incident show',
  summary: 'an incident with its deadline, affected decisions, and investigation signals with their evidence',
  usage: 'incident show <incident-id> [--json]',
  description:
    'Signals over the incident’s model, version and window: drift of confidence and outcomes against the window\n' +
    'before, and of each numeric input feature the decisions record (audit.input.features: PSI and KS), degradation\n' +
    'of override and error rates around the deployment of the version, and adversarial patterns (near-threshold\n' +
    'bursts, one actor repeating an input). A window with fewer than 30 decisions is "insufficient baseline" or\n' +
    '"insufficient data", never a signal.',
  options: {},
  positionals: { min: 1, max: 1, names: 'an incident id' },
  json: true,
  examples: [
    {
      command: 'incident show 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b',
      note: 'everything known about one incident',
    },
  ],
  async run(context) {
    const now = new Date();
    const id = incidentId('incident show', context.positionals[0]!);
    const { incident, evidence } = await withBackend(context.settings, async (backend) => {
      const incident = await loadIncident(backend.queries, 'incident show', id);
      return { incident, evidence: await gatherEvidence(backend.queries, incident) };
    });
    if (context.settings.json) {
      context.out.json({
        ...incidentView(incident, now),
        affectedDecisions: evidence.affected,
        signals: evidence.signals,
      });
      return EXIT_CODES.OK;
    }
    printIncident(incident, now, context);
    printEvidence(context, evidence);
    return EXIT_CODES.OK;
  },
};

/** `decisiontrail incident open|update|close|list|show` */
export const incidentCommands: CommandGroupSpec = {
  kind: 'group',
  name: 'incident',
  summary: 'serious incidents: open, update, close, list, show (with Art. 73 deadlines)',
  description:
    'Incidents are stored with the audit trail; every listing shows the EU AI Act Art. 73 reporting deadline.',
  subcommands: [openCommand, updateCommand, closeCommand, listCommand, showCommand],
};
