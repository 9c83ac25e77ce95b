import { describe, expect, it } from 'vitest';
import { ProcessorError } from '@decisiontrail/processor';
import { parseQueryParameters, type StoreQueryName } from '@decisiontrail/processor/internal';

const FROM = '2026-01-01T00:00:00.000Z';
const TO = '2026-02-01T00:00:00.000Z';
const FILTER = { from: FROM, to: TO, modelId: 'credit', modelVersion: '3', service: 'loan-api' };

/** One valid parameter object per served query, with every parameter it takes. */
const VALID: Record<StoreQueryName, Record<string, unknown>> = {
  decisionTimeline: { decisionId: 'd1', traceId: 't1' },
  timelineWithEvidence: { decisionId: 'd1', traceId: 't1' },
  timelineEvidence: {
    decisionIds: ['d'],
    spans: [{ traceId: 't', spanId: 's', timeUnixNano: '1', stream: 'st', seq: '0' }],
  },
  subjectDecisions: { subjectId: 'subject-1', from: FROM, to: TO, limit: 10 },
  decisions: { ...FILTER, limit: 5 },
  findDecisions: {
    ...FILTER,
    outcome: 'deny',
    overridden: true,
    minConfidence: 0.2,
    maxConfidence: 0.9,
    subjectId: 'subject-1',
    fairnessGroup: 'a',
    incident: { decisionIds: ['d1'], modelId: 'credit', modelVersion: '3', from: FROM, to: TO },
    sealed: [{ stream: 'st', size: 10 }],
    integrity: 'verified',
    sort: 'time',
    order: 'desc',
    limit: 20,
    cursor: 'c',
  },
  processingActivities: { from: FROM, to: TO },
  fairnessMetrics: { ...FILTER, positiveOutcome: 'approve', minDecisions: 30 },
  oversightRates: FILTER,
  accuracy: FILTER,
  confidenceDistribution: { ...FILTER, buckets: 10 },
  fairnessDisparity: FILTER,
  periodReport: { ...FILTER, exact: true },
  integrityCoverage: FILTER,
  driftSignal: {
    modelId: 'credit',
    modelVersion: '3',
    service: 'loan-api',
    baseline: { from: FROM, to: TO },
    current: { from: FROM, to: TO },
    buckets: 10,
  },
  degradationSignal: { deploymentId: 'dep', modelId: 'credit', at: FROM, windowMs: 1000, threshold: 0.05 },
  adversarialSignals: {
    ...FILTER,
    threshold: 0.5,
    band: 0.02,
    burstWindowSeconds: 60,
    minBurst: 3,
    minRepeats: 2,
  },
  createIncident: {
    title: 'wrong denials',
    description: 'd',
    severity: 'high',
    category: 'malfunction',
    status: 'open',
    modelId: 'credit',
    modelVersion: '3',
    decisionIds: ['d1', 'd2'],
    occurredAt: FROM,
    windowFrom: FROM,
    windowTo: null,
    updatedBy: 'ana',
  },
  getIncident: { incidentId: 'i1' },
  listIncidents: { status: 'open', modelId: 'credit', decisionId: 'd1' },
  updateIncident: { incidentId: 'i1', status: 'closed', reportedAt: TO, decisionIds: ['d3'] },
  listQuarantine: { code: 'UNSIGNED', limit: 5 },
  recordErasure: {
    subjectId: 'subject-1',
    keyIds: ['k1'],
    requestedBy: 'dpo',
    reason: 'art 17',
    erasedAt: TO,
  },
  listErasures: { subjectId: 'subject-1' },
  spansForVerification: { from: FROM, to: TO, stream: 'st', seqs: ['96', '97'] },
  verificationSlices: { from: FROM, to: TO, maxRows: 1000 },
  unsignedAuditRecords: { from: FROM, to: TO, limit: 20 },
  reconcileAuditTables: { from: FROM, to: TO, stream: 'st', limit: 100, tables: ['audit_decisions'] },
  witnessEvidence: { stream: 'st' },
  checkpointLinks: { stream: 'st', fromSize: 10, toSize: 30 },
  checkpointNote: { stream: 'st', treeSize: 30 },
};

/** Every path (`a.b[0].c`) to a string inside `value`. */
function stringPaths(value: unknown, at = ''): string[] {
  if (typeof value === 'string') return [at];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringPaths(item, `${at}[${i}]`));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => stringPaths(v, at === '' ? k : `${at}.${k}`));
  return [];
}

/** A deep copy of `value` with the string at `path` replaced. */
function withStringAt(value: unknown, path: string, replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const steps = path.match(/[^.[\]]+/g)!;
  let node: Record<string, unknown> = copy;
  for (const step of steps.slice(0, -1)) node = node[step] as Record<string, unknown>;
  node[steps.at(-1)!] = replacement;
  return copy;
}

function failure(name: StoreQueryName, params: unknown): ProcessorError {
  try {
    parseQueryParameters(name, params);
  } catch (error) {
    return error as ProcessorError;
  }
  throw new Error(`${name} accepted ${JSON.stringify(params)}`);
}

describe('store query parameters', () => {
  const names = Object.keys(VALID) as StoreQueryName[];

  it.each(names)('%s: takes its valid parameters, dates as Date', (name) => {
    const parsed = parseQueryParameters(name, VALID[name]) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(Object.keys(VALID[name]).sort());
    for (const key of ['from', 'to', 'at', 'occurredAt', 'erasedAt', 'reportedAt']) {
      if (key in parsed) expect(parsed[key]).toBeInstanceOf(Date);
    }
  });

  const textPaths = (name: StoreQueryName): string[] =>
    stringPaths(VALID[name]).filter((p) => !/(^|\.)(from|to|at|[a-z]+At|windowFrom)$/.test(p));

  it('names the queries that take no text at all (dates and numbers only)', () => {
    expect(names.filter((name) => textPaths(name).length === 0)).toEqual([
      'processingActivities',
      'verificationSlices',
      'unsignedAuditRecords',
    ]);
  });

  it.each(names.filter((name) => textPaths(name).length > 0))(
    '%s: an unpaired surrogate in any text is refused, naming the parameter',
    (name) => {
      const paths = textPaths(name);
      for (const path of paths) {
        const error = failure(name, withStringAt(VALID[name], path, 'ok\ud800'));
        expect(error).toBeInstanceOf(ProcessorError);
        expect(error.code).toBe('QUERY_INVALID');
        expect(error.message).toBe(`${path}: must be well-formed Unicode (it holds an unpaired surrogate)`);
      }
    },
  );

  it.each(names)('%s: an ill-typed parameter is refused, naming it', (name) => {
    for (const key of Object.keys(VALID[name])) {
      const wrong = typeof VALID[name][key] === 'boolean' ? 'yes' : true;
      const error = failure(name, { ...VALID[name], [key]: wrong });
      expect(error.code).toBe('QUERY_INVALID');
      expect(error.message.startsWith(`${key}: must be`)).toBe(true);
    }
  });

  it.each(names)('%s: an unknown parameter or a body that is no object is refused', (name) => {
    expect(failure(name, { ...VALID[name], limits: 5 }).message).toBe('limits: unknown parameter');
    expect(failure(name, { ...VALID[name], 'x\udc00': 5 }).message).toMatch(/unpaired surrogate/);
    for (const body of [null, [], 'x', 3]) expect(failure(name, body).code).toBe('QUERY_INVALID');
  });

  it('names each missing required parameter', () => {
    expect(failure('decisions', {}).message).toBe('from: is required');
    expect(failure('decisions', { from: FROM }).message).toBe('to: is required');
    expect(failure('createIncident', {}).message).toBe('title: is required');
    expect(failure('recordErasure', {}).message).toBe('subjectId: is required');
    expect(failure('driftSignal', { ...VALID.driftSignal, baseline: { from: FROM } }).message).toBe(
      'baseline.to: is required',
    );
    expect(failure('timelineEvidence', { decisionIds: [], spans: [{}] }).message).toBe(
      'spans[0].traceId: is required',
    );
    expect(failure('getIncident', {}).message).toBe('incidentId: is required');
    expect(failure('subjectDecisions', { subjectId: 's', from: 'not a date' }).message).toBe(
      'from: is not a date: "not a date"',
    );
    // Every other query's parameters are all optional.
    for (const name of ['decisionTimeline', 'listIncidents', 'listQuarantine', 'listErasures'] as const)
      expect(parseQueryParameters(name, {})).toEqual({});
  });
});
