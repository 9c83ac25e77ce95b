/**
 * The store queries other processes may run through `serve` (`POST /v1/query/<name>`), by the name of the
 * `Store` method each one calls: whether it reads or writes (the scope a caller needs), and where its result holds
 * dates, which JSON carries as ISO text and a client turns back into `Date`s. `serve`'s endpoint, its parameter
 * checks and the CLI's client all derive from this table, so a query is added here once.
 */

/**
 * Paths of the `Date` members of a result: `createdAt`, `items[].createdAt` (each element of a list); a path ending
 * in `?` is a nullable date that an older serve may leave out (read as `null`).
 */
type DatePaths = readonly string[];

/** The dates of an incident, wherever one appears in a result. */
const INCIDENT_DATES = [
  'createdAt',
  'updatedAt',
  'occurredAt',
  'reportDeadline',
  'reportedAt?',
  // Incidents gained a window later: a serve from before sends none, which means no window.
  'windowFrom?',
  'windowTo?',
] as const;

const each = (paths: readonly string[], prefix: string): string[] => paths.map((p) => `${prefix}${p}`);

/** One entry of {@link STORE_QUERIES}. */
export interface StoreQuerySpec {
  /** `write` for queries that change what is stored; everything else needs `read`. */
  readonly scope: 'read' | 'write';
  /** Where the result holds dates (a nullable one may be `null`). */
  readonly dates: DatePaths;
}

/** Every store query served to other processes. */
export const STORE_QUERIES = {
  decisionTimeline: { scope: 'read', dates: [] },
  timelineEvidence: { scope: 'read', dates: [] },
  timelineWithEvidence: { scope: 'read', dates: [] },
  decisions: { scope: 'read', dates: [] },
  findDecisions: { scope: 'read', dates: [] },
  processingActivities: { scope: 'read', dates: ['[].first', '[].last'] },
  fairnessMetrics: { scope: 'read', dates: [] },
  subjectDecisions: { scope: 'read', dates: [] },
  periodReport: { scope: 'read', dates: each(INCIDENT_DATES, 'incidents.items[].') },
  integrityCoverage: { scope: 'read', dates: [] },
  oversightRates: { scope: 'read', dates: [] },
  accuracy: { scope: 'read', dates: [] },
  confidenceDistribution: { scope: 'read', dates: [] },
  fairnessDisparity: { scope: 'read', dates: [] },
  driftSignal: { scope: 'read', dates: [] },
  degradationSignal: { scope: 'read', dates: [] },
  adversarialSignals: { scope: 'read', dates: [] },
  createIncident: { scope: 'write', dates: INCIDENT_DATES },
  getIncident: { scope: 'read', dates: INCIDENT_DATES },
  listIncidents: { scope: 'read', dates: each(INCIDENT_DATES, '[].') },
  updateIncident: { scope: 'write', dates: INCIDENT_DATES },
  recordErasure: { scope: 'write', dates: ['erasedAt'] },
  listErasures: { scope: 'read', dates: ['[].erasedAt'] },
  listQuarantine: { scope: 'read', dates: ['[].receivedAt'] },
  spansForVerification: { scope: 'read', dates: [] },
  verificationSlices: { scope: 'read', dates: [] },
  unsignedAuditRecords: { scope: 'read', dates: [] },
  reconcileAuditTables: { scope: 'read', dates: [] },
  witnessEvidence: { scope: 'read', dates: [] },
  checkpointLinks: { scope: 'read', dates: [] },
  checkpointNote: { scope: 'read', dates: [] },
} as const satisfies Readonly<Record<string, StoreQuerySpec>>;

/** The name of a served store query (the `Store` method it calls). */
export type StoreQueryName = keyof typeof STORE_QUERIES;

/** Every {@link StoreQueryName}. */
export const STORE_QUERY_NAMES = Object.keys(STORE_QUERIES) as StoreQueryName[];

/** Whether `name` is a served store query. */
export function isStoreQueryName(name: string): name is StoreQueryName {
  return Object.hasOwn(STORE_QUERIES, name);
}

/** The scope a caller needs for the query `name`; undefined for a name that is not served. */
export function storeQueryScope(name: string): 'read' | 'write' | undefined {
  return isStoreQueryName(name) ? STORE_QUERIES[name].scope : undefined;
}

function reviveAt(value: unknown, segments: readonly string[], nullable: boolean): unknown {
  if (segments.length === 0) {
    if (value === undefined && nullable) return null;
    return typeof value === 'string' || typeof value === 'number' ? new Date(value) : value;
  }
  if (value === null || value === undefined) return value;
  const [head, ...rest] = segments as [string, ...string[]];
  if (head === '[]') {
    return Array.isArray(value) ? value.map((item) => reviveAt(item, rest, nullable)) : value;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (!Object.hasOwn(record, head) && !(nullable && rest.length === 0)) return record;
  return { ...record, [head]: reviveAt(record[head], rest, nullable) };
}

/**
 * A query's result as JSON delivered it, with its dates (per {@link STORE_QUERIES}) turned back into `Date`s — so a
 * client of `serve` gets the same types the `Store` method returns. A `null` date stays `null`; a missing nullable one
 * becomes `null`.
 */
export function reviveStoreQueryResult(name: StoreQueryName, result: unknown): unknown {
  let out = result;
  for (const path of STORE_QUERIES[name].dates) {
    const nullable = path.endsWith('?');
    const segments = (nullable ? path.slice(0, -1) : path)
      .replaceAll('[]', '.[].')
      .split('.')
      .filter((segment) => segment !== '');
    out = reviveAt(out, segments, nullable);
  }
  return out;
}
