import { randomUUID } from 'node:crypto';
import {
  AUDIT_INCIDENT_CATEGORY_VALUES,
  AUDIT_INCIDENT_SEVERITY_VALUES,
  type AuditIncidentCategory,
  type AuditIncidentSeverity,
} from '@decisiontrail/semconv';
import { StoreError } from './errors.ts';
import { requireString, type QueryContext } from './query-context.ts';
import { dateToDateTime64 } from './time-format.ts';

/** Where an incident is in its life. */
export type IncidentStatus = 'open' | 'investigating' | 'reported' | 'closed';

const STATUSES: readonly IncidentStatus[] = ['open', 'investigating', 'reported', 'closed'];

/** A serious-incident record (EU AI Act Art. 73). */
export interface Incident {
  incidentId: string;
  /** Increases with every change. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  title: string;
  description: string;
  severity: AuditIncidentSeverity;
  category: AuditIncidentCategory;
  status: IncidentStatus;
  modelId: string;
  modelVersion: string;
  decisionIds: string[];
  /** When the incident happened or became known: the start of the Art. 73 reporting clock. */
  occurredAt: Date;
  /** Start of the affected window of decisions, if known. */
  windowFrom: Date | null;
  /** End of the affected window of decisions, if known. */
  windowTo: Date | null;
  /** Art. 73 reporting deadline: occurredAt + 10 days (death), 2 days (critical infrastructure, widespread infringement) or 15 days. */
  reportDeadline: Date;
  reportedAt: Date | null;
  updatedBy: string;
}

/** Fields to open an incident with. */
export interface NewIncident {
  title: string;
  description?: string;
  severity: AuditIncidentSeverity;
  category: AuditIncidentCategory;
  status?: IncidentStatus;
  modelId?: string;
  modelVersion?: string;
  decisionIds?: string[];
  /** @default now */
  occurredAt?: Date;
  windowFrom?: Date | null;
  windowTo?: Date | null;
  updatedBy?: string;
}

/** Fields that can change later. */
export type IncidentUpdate = Partial<Omit<NewIncident, 'occurredAt'>> & { reportedAt?: Date | null };

const DAY_MS = 86_400_000;

/** Days to report an incident of this category under EU AI Act Art. 73. */
export function reportingDeadlineDays(category: AuditIncidentCategory): number {
  switch (category) {
    case AUDIT_INCIDENT_CATEGORY_VALUES.DEATH:
      return 10;
    case AUDIT_INCIDENT_CATEGORY_VALUES.CRITICAL_INFRASTRUCTURE:
    case AUDIT_INCIDENT_CATEGORY_VALUES.WIDESPREAD_INFRINGEMENT:
      return 2;
    default:
      return 15;
  }
}

function validate(incident: Omit<Incident, 'version' | 'createdAt' | 'updatedAt' | 'reportDeadline'>): void {
  for (const key of ['incidentId', 'title', 'description', 'modelId', 'modelVersion', 'updatedBy'] as const) {
    requireString(incident[key], key);
  }
  if (incident.title.trim() === '') throw new StoreError('INVALID_ARGUMENT', 'title must not be empty');
  if (!(Object.values(AUDIT_INCIDENT_SEVERITY_VALUES) as string[]).includes(incident.severity)) {
    throw new StoreError('INVALID_ARGUMENT', `unknown severity ${JSON.stringify(incident.severity)}`);
  }
  if (!(Object.values(AUDIT_INCIDENT_CATEGORY_VALUES) as string[]).includes(incident.category)) {
    throw new StoreError('INVALID_ARGUMENT', `unknown category ${JSON.stringify(incident.category)}`);
  }
  if (!STATUSES.includes(incident.status)) {
    throw new StoreError('INVALID_ARGUMENT', `unknown status ${JSON.stringify(incident.status)}`);
  }
  if (!Array.isArray(incident.decisionIds) || incident.decisionIds.some((id) => typeof id !== 'string')) {
    throw new StoreError('INVALID_ARGUMENT', 'decisionIds must be an array of strings');
  }
  for (const date of [incident.occurredAt, incident.reportedAt, incident.windowFrom, incident.windowTo]) {
    if (date !== null && !(date instanceof Date && Number.isFinite(date.getTime()))) {
      throw new StoreError('INVALID_ARGUMENT', 'dates must be valid Date objects');
    }
  }
}

interface IncidentRow {
  incidentId: string;
  version: string;
  createdAt: string;
  updatedAt: string;
  title: string;
  description: string;
  severity: AuditIncidentSeverity;
  category: AuditIncidentCategory;
  status: IncidentStatus;
  modelId: string;
  modelVersion: string;
  decisionIds: string[];
  occurredAt: string;
  windowFrom: string | null;
  windowTo: string | null;
  reportDeadline: string;
  reportedAt: string | null;
  updatedBy: string;
}

const INCIDENT_COLUMNS = `
  incident_id AS incidentId, toString(version) AS version,
  toString(toUnixTimestamp64Milli(created_at)) AS createdAt, toString(toUnixTimestamp64Milli(updated_at)) AS updatedAt,
  title, description, severity, category, status, model_id AS modelId, model_version AS modelVersion,
  decision_ids AS decisionIds, toString(toUnixTimestamp64Milli(occurred_at)) AS occurredAt,
  if(window_from IS NULL, NULL, toString(toUnixTimestamp64Milli(assumeNotNull(window_from)))) AS windowFrom,
  if(window_to IS NULL, NULL, toString(toUnixTimestamp64Milli(assumeNotNull(window_to)))) AS windowTo,
  toString(toUnixTimestamp64Milli(report_deadline)) AS reportDeadline,
  if(reported_at IS NULL, NULL, toString(toUnixTimestamp64Milli(assumeNotNull(reported_at)))) AS reportedAt,
  updated_by AS updatedBy`;

function fromRow(row: IncidentRow): Incident {
  const date = (ms: string): Date => new Date(Number(ms));
  return {
    ...row,
    version: Number(row.version),
    createdAt: date(row.createdAt),
    updatedAt: date(row.updatedAt),
    occurredAt: date(row.occurredAt),
    windowFrom: row.windowFrom === null ? null : date(row.windowFrom),
    windowTo: row.windowTo === null ? null : date(row.windowTo),
    reportDeadline: date(row.reportDeadline),
    reportedAt: row.reportedAt === null ? null : date(row.reportedAt),
  };
}

async function writeVersion(ctx: QueryContext, incident: Incident, deleted: boolean): Promise<void> {
  await ctx.insert('audit_incidents', [
    {
      incident_id: incident.incidentId,
      version: String(incident.version),
      deleted: deleted ? 1 : 0,
      created_at: dateToDateTime64(incident.createdAt),
      updated_at: dateToDateTime64(incident.updatedAt),
      title: incident.title,
      description: incident.description,
      severity: incident.severity,
      category: incident.category,
      status: incident.status,
      model_id: incident.modelId,
      model_version: incident.modelVersion,
      decision_ids: incident.decisionIds,
      occurred_at: dateToDateTime64(incident.occurredAt),
      window_from: incident.windowFrom === null ? null : dateToDateTime64(incident.windowFrom),
      window_to: incident.windowTo === null ? null : dateToDateTime64(incident.windowTo),
      report_deadline: dateToDateTime64(incident.reportDeadline),
      reported_at: incident.reportedAt === null ? null : dateToDateTime64(incident.reportedAt),
      updated_by: incident.updatedBy,
    },
  ]);
}

/** Opens an incident; returns it with its new id and reporting deadline. */
export async function createIncident(ctx: QueryContext, input: NewIncident): Promise<Incident> {
  const now = new Date();
  const occurredAt = input.occurredAt ?? now;
  const incident: Incident = {
    incidentId: randomUUID(),
    version: 1,
    createdAt: now,
    updatedAt: now,
    title: input.title,
    description: input.description ?? '',
    severity: input.severity,
    category: input.category,
    status: input.status ?? 'open',
    modelId: input.modelId ?? '',
    modelVersion: input.modelVersion ?? '',
    decisionIds: input.decisionIds ?? [],
    occurredAt,
    windowFrom: input.windowFrom ?? null,
    windowTo: input.windowTo ?? null,
    reportDeadline: new Date(occurredAt.getTime() + reportingDeadlineDays(input.category) * DAY_MS),
    reportedAt: null,
    updatedBy: input.updatedBy ?? '',
  };
  validate(incident);
  await writeVersion(ctx, incident, false);
  return incident;
}

/** The current version of an incident, or `null` if it does not exist (or was deleted). */
export async function getIncident(ctx: QueryContext, incidentId: string): Promise<Incident | null> {
  const rows = await ctx.rows<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM {{read:audit_incidents}} FINAL
     WHERE incident_id = {incident_id:String} AND deleted = 0`,
    { incident_id: requireString(incidentId, 'incidentId') },
  );
  return rows[0] === undefined ? null : fromRow(rows[0]);
}

/** Incidents, newest first, optionally by status or model. */
export async function listIncidents(
  ctx: QueryContext,
  query: { status?: IncidentStatus; modelId?: string; decisionId?: string } = {},
): Promise<Incident[]> {
  const rows = await ctx.rows<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM {{read:audit_incidents}} FINAL
     WHERE deleted = 0
       AND ({status:String} = '' OR status = {status:String})
       AND ({model_id:String} = '' OR model_id = {model_id:String})
       AND ({decision_id:String} = '' OR has(decision_ids, {decision_id:String}))
     ORDER BY occurred_at DESC, incident_id`,
    {
      status: requireString(query.status ?? '', 'status'),
      model_id: requireString(query.modelId ?? '', 'modelId'),
      decision_id: requireString(query.decisionId ?? '', 'decisionId'),
    },
  );
  return rows.map(fromRow);
}

/** Applies changes as a new version; throws NOT_FOUND for an unknown incident. */
export async function updateIncident(
  ctx: QueryContext,
  incidentId: string,
  update: IncidentUpdate,
): Promise<Incident> {
  const current = await getIncident(ctx, incidentId);
  if (current === null) throw new StoreError('NOT_FOUND', `no incident ${JSON.stringify(incidentId)}`);
  const category = update.category ?? current.category;
  const next: Incident = {
    ...current,
    ...Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined)),
    incidentId: current.incidentId,
    version: current.version + 1,
    updatedAt: new Date(),
    category,
    reportDeadline: new Date(current.occurredAt.getTime() + reportingDeadlineDays(category) * DAY_MS),
  };
  validate(next);
  await writeVersion(ctx, next, false);
  return next;
}

/** Marks an incident deleted (a new version; history stays in the table until merged). */
export async function deleteIncident(ctx: QueryContext, incidentId: string): Promise<void> {
  const current = await getIncident(ctx, incidentId);
  if (current === null) throw new StoreError('NOT_FOUND', `no incident ${JSON.stringify(incidentId)}`);
  await writeVersion(ctx, { ...current, version: current.version + 1, updatedAt: new Date() }, true);
}
