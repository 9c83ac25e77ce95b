import { openStore } from '@decisiontrail/clickhouse';
import type { Store } from '@decisiontrail/clickhouse';
import type { DecisionTrailConfig, Scope } from './config.ts';
import { ProcessorError } from './errors.ts';
import { isStoreQueryName, storeQueryScope, type StoreQueryName } from '@decisiontrail/core';
import { parseQueryParameters, type QueryParams } from './query-parameters.ts';
import type { EncodedSpanSink, QuarantinedSpan, QuarantineSink } from './span-sink.ts';
import type { WitnessStore } from './witness-submitter.ts';

/** The processor's view of the ClickHouse store: a span sink, the quarantine table and the named queries. */
export interface AuditStore extends QuarantineSink {
  /** True for the in-process engine, which only this process can open. */
  readonly embedded: boolean;
  readonly sink: EncodedSpanSink;
  /** What the witness submitter reads and writes. */
  readonly witness: WitnessStore;
  /** The scope a caller needs for the whitelisted query `name` (`read` or `write`); undefined for any other name. */
  queryScope(name: string): Extract<Scope, 'read' | 'write'> | undefined;
  /** Runs a whitelisted query with JSON parameters (dates as ISO text or epoch milliseconds). */
  query(name: string, params: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

/** Each served query's call of its Store method, with the parameters parseQueryParameters checked for it. */
type QueryCalls = {
  readonly [K in StoreQueryName]: (store: Store, params: QueryParams[K]) => Promise<unknown>;
};

function incidentId(params: { incidentId: string }): string {
  const id = params.incidentId;
  if (id === '') throw new ProcessorError('QUERY_INVALID', 'incidentId: must not be empty');
  return id;
}

/**
 * Store reads (and the few incident/erasure writes the CLI makes) reachable through `POST /v1/query/<name>`,
 * by the name of the store method. Nothing else of the store is callable from outside. Each call gets its
 * parameters as `parseQueryParameters` checked them against the query's entry in its table.
 */
const QUERIES: QueryCalls = {
  decisionTimeline: (s, p) => s.decisionTimeline(p),
  timelineEvidence: (s, p) => s.timelineEvidence(p),
  timelineWithEvidence: (s, p) => s.timelineWithEvidence(p),
  subjectDecisions: (s, p) => s.subjectDecisions(p),
  decisions: (s, p) => s.decisions(p),
  findDecisions: (s, p) => s.findDecisions(p),
  processingActivities: (s, p) => s.processingActivities(p),
  fairnessMetrics: (s, p) => s.fairnessMetrics(p),
  oversightRates: (s, p) => s.oversightRates(p),
  accuracy: (s, p) => s.accuracy(p),
  confidenceDistribution: (s, p) => s.confidenceDistribution(p),
  fairnessDisparity: (s, p) => s.fairnessDisparity(p),
  periodReport: (s, p) => s.periodReport(p),
  integrityCoverage: (s, p) => s.integrityCoverage(p),
  driftSignal: (s, p) => s.driftSignal(p),
  degradationSignal: (s, p) => s.degradationSignal(p),
  adversarialSignals: (s, p) => s.adversarialSignals(p),
  createIncident: (s, p) => s.createIncident(p),
  getIncident: async (s, p) => {
    const found = await s.getIncident(incidentId(p));
    if (found === null) throw Object.assign(new Error(`no incident ${incidentId(p)}`), { code: 'NOT_FOUND' });
    return found;
  },
  listIncidents: (s, p) => s.listIncidents(p),
  updateIncident: (s, p) => {
    const { incidentId: _id, ...update } = p;
    return s.updateIncident(incidentId(p), update);
  },
  listQuarantine: (s, p) => s.listQuarantine(p),
  recordErasure: (s, p) => s.recordErasure(p),
  listErasures: (s, p) => s.listErasures(p),
  spansForVerification: (s, p) => s.spansForVerification(p),
  verificationSlices: (s, p) => s.verificationSlices(p),
  unsignedAuditRecords: (s, p) => s.unsignedAuditRecords(p),
  reconcileAuditTables: (s, p) => s.reconcileAuditTables(p),
  witnessEvidence: (s, p) => s.witnessEvidence(p),
  checkpointLinks: (s, p) => s.checkpointLinks(p),
  checkpointNote: (s, p) => s.checkpointNote(p),
};

/** Runs the query `name` with its JSON parameters checked against its table entry first. */
function runQuery<K extends StoreQueryName>(store: Store, name: K, params: unknown): Promise<unknown> {
  const call: (store: Store, params: QueryParams[K]) => Promise<unknown> = QUERIES[name];
  return call(store, parseQueryParameters(name, params));
}

/**
 * Wraps an open {@link Store}. The sink sends each drained batch at once (`batchSpans` rows per insert, no
 * waiting for more): the drainer awaits every write before committing, so a wait for fuller batches would only
 * add latency.
 */
export function auditStoreFrom(store: Store, options: { owned: boolean; batchSpans?: number }): AuditStore {
  const batch = options.batchSpans ?? 2000;
  const sink = store.createSink({
    maxBatchSize: batch,
    maxBufferedRows: Math.max(batch, 100_000),
    flushIntervalMs: 1,
  });
  return {
    embedded: store.options.kind !== 'server',
    sink: { name: 'clickhouse', writeEncoded: (spans) => sink.writeEncoded(spans) },
    writeQuarantine: (items: readonly QuarantinedSpan[]) => store.quarantine(items),
    witness: {
      witnessEvidence: (query) => store.witnessEvidence(query),
      checkpointLinks: (query) => store.checkpointLinks(query),
      recordCosignatures: (rows) => store.recordCosignatures(rows),
    },
    queryScope: storeQueryScope,
    query: async (name, params) => {
      if (!isStoreQueryName(name)) throw new ProcessorError('QUERY_UNKNOWN', `unknown query ${name}`);
      return runQuery(store, name, params);
    },
    close: async () => {
      await sink.close();
      if (options.owned) await store.close();
    },
  };
}

/** Opens the store `decisiontrail.yaml` names: the embedded engine in `storage.dataDir`, or a server by URL. */
export async function openAuditStore(config: DecisionTrailConfig): Promise<AuditStore> {
  const { storage, retention } = config;
  const retentionDays = {
    standard: retention.standard,
    high_risk: retention.highRisk,
    incident: retention.incident,
    permanent: retention.permanent,
  };
  const store =
    storage.clickhouse.url === undefined
      ? await openStore({ dataDir: storage.dataDir, retention: retentionDays })
      : await openStore({
          kind: 'server',
          url: storage.clickhouse.url,
          username: storage.clickhouse.username,
          password: storage.clickhouse.password,
          database: storage.clickhouse.database,
          retention: retentionDays,
        });
  return auditStoreFrom(store, { owned: true, batchSpans: config.processor.queue.drainBatchSpans });
}
