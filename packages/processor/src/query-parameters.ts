import type { IncidentUpdate, Store } from '@decisiontrail/clickhouse';
import type { StoreQueryName } from '@decisiontrail/core';
import { isWellFormed } from '@decisiontrail/core/internal';
import { ProcessorError } from './errors.ts';

/** How one parameter of a store query is written in JSON. */
type Rule =
  | { kind: 'string' | 'date' | 'integer' | 'number' | 'boolean' | 'stringList'; optional: boolean }
  | { kind: 'nullableDate'; optional: true }
  | { kind: 'object'; optional: boolean; fields: Fields }
  | { kind: 'objectList'; optional: boolean; fields: Fields };

type Fields = Readonly<Record<string, Rule>>;

/** Every key of `T`, each with its rule: the table cannot leave a parameter out nor invent one. */
type FieldsOf<T> = { readonly [K in keyof Required<T>]: Rule };

const required = <K extends 'string' | 'date' | 'integer' | 'number' | 'boolean' | 'stringList'>(
  kind: K,
): Rule => ({ kind, optional: false });
const optional = <K extends 'string' | 'date' | 'integer' | 'number' | 'boolean' | 'stringList'>(
  kind: K,
): Rule => ({ kind, optional: true });
const NULLABLE_DATE: Rule = { kind: 'nullableDate', optional: true };

/**
 * Each served store query (core's {@link STORE_QUERIES}) with the parameter object its Store method takes: a name
 * in that table that is not a Store method fails to compile here.
 */
export type QueryParams = {
  [K in Exclude<StoreQueryName, 'getIncident' | 'updateIncident'>]: NonNullable<Parameters<Store[K]>[0]>;
} & {
  // These two take the incident id as an argument of its own; over JSON it is one more member.
  getIncident: { incidentId: string };
  updateIncident: { incidentId: string } & IncidentUpdate;
};

export type { StoreQueryName };

const DECISION_FILTER = {
  from: required('date'),
  to: required('date'),
  modelId: optional('string'),
  modelVersion: optional('string'),
  service: optional('string'),
} as const;

const INCIDENT_FIELDS = {
  title: required('string'),
  description: optional('string'),
  severity: required('string'),
  category: required('string'),
  status: optional('string'),
  modelId: optional('string'),
  modelVersion: optional('string'),
  decisionIds: optional('stringList'),
  windowFrom: NULLABLE_DATE,
  windowTo: NULLABLE_DATE,
  updatedBy: optional('string'),
} as const;

const WINDOW: Rule = {
  kind: 'object',
  optional: false,
  fields: { from: required('date'), to: required('date') },
};

/**
 * The parameters of every store query reachable through `POST /v1/query/<name>`, typed against the Store
 * method each one calls. Enumerations and ranges (severity, limit bounds…) are the store's to check; this
 * table decides what JSON is a parameter object at all.
 */
const QUERY_PARAMETERS: { readonly [K in StoreQueryName]: FieldsOf<QueryParams[K]> } = {
  decisionTimeline: { decisionId: optional('string'), traceId: optional('string') },
  timelineWithEvidence: { decisionId: optional('string'), traceId: optional('string') },
  timelineEvidence: {
    decisionIds: required('stringList'),
    spans: {
      kind: 'objectList',
      optional: false,
      fields: {
        traceId: required('string'),
        spanId: required('string'),
        timeUnixNano: required('string'),
        stream: required('string'),
        seq: required('string'),
      },
    },
  },
  subjectDecisions: {
    subjectId: required('string'),
    from: optional('date'),
    to: optional('date'),
    limit: optional('integer'),
  },
  decisions: { ...DECISION_FILTER, limit: optional('integer') },
  processingActivities: { from: optional('date'), to: optional('date') },
  fairnessMetrics: {
    ...DECISION_FILTER,
    positiveOutcome: required('string'),
    minDecisions: optional('integer'),
  },
  findDecisions: {
    from: optional('date'),
    to: optional('date'),
    modelId: optional('string'),
    modelVersion: optional('string'),
    service: optional('string'),
    outcome: optional('string'),
    overridden: optional('boolean'),
    minConfidence: optional('number'),
    maxConfidence: optional('number'),
    subjectId: optional('string'),
    fairnessGroup: optional('string'),
    incident: {
      kind: 'object',
      optional: true,
      fields: {
        decisionIds: required('stringList'),
        modelId: required('string'),
        modelVersion: required('string'),
        from: required('date'),
        to: required('date'),
      },
    },
    sealed: {
      kind: 'objectList',
      optional: true,
      fields: { stream: required('string'), size: required('integer') },
    },
    integrity: optional('string'),
    sort: optional('string'),
    order: optional('string'),
    limit: optional('integer'),
    cursor: optional('string'),
  },
  oversightRates: DECISION_FILTER,
  accuracy: DECISION_FILTER,
  confidenceDistribution: { ...DECISION_FILTER, buckets: optional('integer') },
  fairnessDisparity: DECISION_FILTER,
  periodReport: { ...DECISION_FILTER, exact: optional('boolean') },
  integrityCoverage: DECISION_FILTER,
  driftSignal: {
    modelId: required('string'),
    modelVersion: optional('string'),
    service: optional('string'),
    baseline: WINDOW,
    current: WINDOW,
    buckets: optional('integer'),
    minDecisions: optional('integer'),
  },
  degradationSignal: {
    deploymentId: optional('string'),
    modelId: optional('string'),
    at: optional('date'),
    windowMs: optional('integer'),
    threshold: optional('number'),
    minDecisions: optional('integer'),
  },
  adversarialSignals: {
    ...DECISION_FILTER,
    threshold: optional('number'),
    band: optional('number'),
    burstWindowSeconds: optional('integer'),
    minBurst: optional('integer'),
    minRepeats: optional('integer'),
  },
  createIncident: { ...INCIDENT_FIELDS, occurredAt: optional('date') },
  getIncident: { incidentId: required('string') },
  listIncidents: { status: optional('string'), modelId: optional('string'), decisionId: optional('string') },
  updateIncident: {
    ...INCIDENT_FIELDS,
    incidentId: required('string'),
    title: optional('string'),
    severity: optional('string'),
    category: optional('string'),
    reportedAt: NULLABLE_DATE,
  },
  listQuarantine: {
    code: optional('string'),
    decisionId: optional('string'),
    traceId: optional('string'),
    spanId: optional('string'),
    from: optional('date'),
    to: optional('date'),
    limit: optional('integer'),
  },
  recordErasure: {
    subjectId: required('string'),
    keyIds: optional('stringList'),
    requestedBy: optional('string'),
    reason: optional('string'),
    erasedAt: optional('date'),
  },
  listErasures: { subjectId: optional('string') },
  spansForVerification: {
    from: optional('date'),
    to: optional('date'),
    stream: optional('string'),
    seqs: optional('stringList'),
  },
  verificationSlices: { from: optional('date'), to: optional('date'), maxRows: optional('integer') },
  unsignedAuditRecords: { from: optional('date'), to: optional('date'), limit: optional('integer') },
  witnessEvidence: { stream: optional('string') },
  checkpointLinks: { stream: required('string'), fromSize: required('integer'), toSize: required('integer') },
  checkpointNote: { stream: required('string'), treeSize: required('integer') },
  reconcileAuditTables: {
    from: optional('date'),
    to: optional('date'),
    stream: optional('string'),
    limit: optional('integer'),
    tables: optional('stringList'),
    rowsPerStatement: optional('integer'),
  },
};

function invalid(path: string, message: string): ProcessorError {
  return new ProcessorError('QUERY_INVALID', `${path}: ${message}`);
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(path, 'must be a string');
  // ClickHouse stores UTF-8: a lone UTF-16 surrogate has no encoding and would fail the insert or the read.
  if (!isWellFormed(value))
    throw invalid(path, 'must be well-formed Unicode (it holds an unpaired surrogate)');
  return value;
}

function date(value: unknown, path: string): Date {
  // JSON has no dates: ISO text or epoch milliseconds.
  if (typeof value !== 'string' && typeof value !== 'number')
    throw invalid(path, 'must be a date (ISO 8601 text or epoch milliseconds)');
  const parsed = new Date(value);
  if (!Number.isFinite(parsed.getTime())) throw invalid(path, `is not a date: ${JSON.stringify(value)}`);
  return parsed;
}

function object(value: unknown, path: string, fields: Fields): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(path, 'must be a JSON object');
  const out: Record<string, unknown> = {};
  const prefix = path === '' ? '' : `${path}.`;
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(fields, key))
      throw invalid(`${prefix}${text(key, `${prefix}(a key)`)}`, 'unknown parameter');
  }
  for (const [key, rule] of Object.entries(fields)) {
    const given = (value as Record<string, unknown>)[key];
    const at = `${prefix}${key}`;
    if (given === undefined) {
      if (!rule.optional) throw invalid(at, 'is required');
      continue;
    }
    out[key] = parse(given, at, rule);
  }
  return out;
}

function parse(value: unknown, path: string, rule: Rule): unknown {
  switch (rule.kind) {
    case 'string':
      return text(value, path);
    case 'date':
      return date(value, path);
    case 'nullableDate':
      return value === null ? null : date(value, path);
    case 'integer':
      if (!Number.isSafeInteger(value)) throw invalid(path, 'must be an integer');
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(path, 'must be a number');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(path, 'must be true or false');
      return value;
    case 'stringList':
      if (!Array.isArray(value)) throw invalid(path, 'must be a list of strings');
      return value.map((item, i) => text(item, `${path}[${i}]`));
    case 'object':
      return object(value, path, rule.fields);
    case 'objectList':
      if (!Array.isArray(value)) throw invalid(path, 'must be a list of objects');
      return value.map((item, i) => object(item, `${path}[${i}]`, rule.fields));
  }
}

/**
 * Checks the JSON parameters of a store query against its table entry and returns them as the Store method
 * takes them (dates revived). Anything else — a missing or unknown member, a wrong type, text with an unpaired
 * surrogate — is a `QUERY_INVALID` error naming the parameter, raised before the store is touched.
 */
export function parseQueryParameters<K extends StoreQueryName>(name: K, params: unknown): QueryParams[K] {
  // The table entry has a rule for exactly each member of QueryParams[K] (FieldsOf), and object() returns
  // only members its rules parsed: the result is that type.
  return object(params, '', QUERY_PARAMETERS[name]) as QueryParams[K];
}
