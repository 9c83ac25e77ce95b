import { openStore } from '@decisiontrail/clickhouse';
import type { Store } from '@decisiontrail/clickhouse';
import type { DecisionTrailConfig, Scope } from './config.ts';
import { ProcessorError } from './errors.ts';
import { isStoreQueryName, parseQueryParameters, type StoreQueryName } from './query-parameters.ts';
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

type QueryCall = (store: Store, params: Record<string, unknown>) => Promise<unknown>;

function incidentId(params: Record<string, unknown>): string {
  const id = params.incidentId as string;
  if (id === '') throw new ProcessorError('QUERY_INVALID', 'incidentId: must not be empty');
  return id;
}

/**
 * Store reads (and the few incident/erasure writes the CLI makes) reachable through `POST /v1/query/<name>`,
 * by the name of the store method. Nothing else of the store is callable from outside. Each call gets its
 * parameters as `parseQueryParameters` checked them against the query's entry in its table.
 */
const QUERIES: Readonly<Record<StoreQueryName, QueryCall>> = {
  decisionTimeline: (s, p) => s.decisionTimeline(p as never),
  timelineEvidence: (s, p) => s.timelineEvidence(p as never),
  subjectDecisions: (s, p) => s.subjectDecisions(p as never),
  decisions: (s, p) => s.decisions(p as never),
  findDecisions: (s, p) => s.findDecisions(p as never),
  oversightRates: (s, p) => s.oversightRates(p as never),
  accuracy: (s, p) => s.accuracy(p as never),
  confidenceDistribution: (s, p) => s.confidenceDistribution(p as never),
  fairnessDisparity: (s, p) => s.fairnessDisparity(p as never),
  periodReport: (s, p) => s.periodReport(p as never),
  integrityCoverage: (s, p) => s.integrityCoverage(p as never),
  driftSignal: (s, p) => s.driftSignal(p as never),
  degradationSignal: (s, p) => s.degradationSignal(p as never),
  adversarialSignals: (s, p) => s.adversarialSignals(p as never),
  createIncident: (s, p) => s.createIncident(p as never),
  getIncident: async (s, p) => {
    const found = await s.getIncident(incidentId(p));
    if (found === null) throw Object.assign(new Error(`no incident ${incidentId(p)}`), { code: 'NOT_FOUND' });
    return found;
  },
  listIncidents: (s, p) => s.listIncidents(p as never),
  updateIncident: (s, p) => {
    const { incidentId: _id, ...update } = p;
    return s.updateIncident(incidentId(p), update as never);
  },
  listQuarantine: (s, p) => s.listQuarantine(p as never),
  recordErasure: (s, p) => s.recordErasure(p as never),
  listErasures: (s, p) => s.listErasures(p as never),
  spansForVerification: (s, p) => s.spansForVerification(p as never),
  verificationSlices: (s, p) => s.verificationSlices(p as never),
  unsignedAuditRecords: (s, p) => s.unsignedAuditRecords(p as never),
  reconcileAuditTables: (s, p) => s.reconcileAuditTables(p as never),
  witnessEvidence: (s, p) => s.witnessEvidence(p as never),
  checkpointLinks: (s, p) => s.checkpointLinks(p as never),
};

/** The queries that change what is stored: callers need the `write` scope; every other query needs `read`. */
const WRITE_QUERIES: ReadonlySet<string> = new Set(['createIncident', 'updateIncident', 'recordErasure']);

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
    queryScope: (name) => (!isStoreQueryName(name) ? undefined : WRITE_QUERIES.has(name) ? 'write' : 'read'),
    query: async (name, params) => {
      if (!isStoreQueryName(name)) throw new ProcessorError('QUERY_UNKNOWN', `unknown query ${name}`);
      return QUERIES[name](store, parseQueryParameters(name, params));
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
