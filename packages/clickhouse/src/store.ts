import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { SpanRecord } from '@decisiontrail/core';
import {
  reconcileAuditTables,
  type AuditReconciliation,
  type ReconciliationQuery,
} from './audit-reconciliation.ts';
import { createStoreClient } from './client-factory.ts';
import { ClickHouseSink, type SinkOptions } from './clickhouse-sink.ts';
import {
  accuracy,
  confidenceDistribution,
  decisionsByModel,
  fairnessDisparity,
  oversightRates,
  subjectDecisions,
  type AccuracyStats,
  type ConfidenceDistribution,
  type DecisionFilter,
  type DecisionRow,
  type FairnessDisparity,
  type OversightRates,
} from './decision-queries.ts';
import { findDecisions, type DecisionPage, type DecisionSearch } from './decision-finder.ts';
import { processingActivities, type ProcessingActivity } from './processing-activities.ts';
import { fairnessMetrics, type FairnessMetrics } from './fairness-metrics.ts';
import { decisionTimeline, type TimelineEntry } from './decision-timeline.ts';
import { StoreError } from './errors.ts';
import {
  createIncident,
  deleteIncident,
  getIncident,
  listIncidents,
  updateIncident,
  type Incident,
  type IncidentStatus,
  type IncidentUpdate,
  type NewIncident,
} from './incidents.ts';
import {
  adversarialSignals,
  degradationSignal,
  driftSignal,
  type AdversarialQuery,
  type AdversarialSignals,
  type DegradationQuery,
  type DegradationSignal,
  type DriftQuery,
  type DriftSignal,
} from './investigation-signals.ts';
import { checkMigrationsApplied, renderContext, runMigrations, type MigrationResult } from './migrations.ts';
import { periodReport, type PeriodReport, type PeriodReportQuery } from './period-report.ts';
import {
  listErasures,
  listQuarantine,
  quarantineSpans,
  recordErasure,
  type ErasureRecord,
  type QuarantinedSpan,
  type QuarantineEntry,
  type QuarantineQuery,
} from './quarantine-and-erasure.ts';
import { QueryContext } from './query-context.ts';
import { quoteIdentifier } from './sql-template.ts';
import { resolveStoreOptions, type ResolvedStoreOptions, type StoreOptions } from './store-options.ts';
import { integrityCoverage, type IntegrityCoverage } from './integrity-coverage.ts';
import { timelineEvidence, type TimelineEvidence, type TimelineEvidenceQuery } from './timeline-evidence.ts';
import { timelineWithEvidence, type TimelineWithEvidence } from './timeline-with-evidence.ts';
import { spansForVerification, traceSpans, type VerificationQuery } from './verification-spans.ts';
import { VerificationDecoders } from './verification-decoder.ts';
import { verificationRecords, type VerificationRecord } from './verification-records.ts';
import {
  checkpointLinks,
  checkpointNote,
  recordCosignatures,
  witnessEvidence,
  type CheckpointLink,
  type StoredCosignature,
  type WitnessEvidence,
} from './witness-cosignatures.ts';
import {
  unsignedAuditRecords,
  verificationSlices,
  type UnsignedAuditRecords,
  type VerificationSlice,
} from './verification-plan.ts';

/** Where the embedded engine's sink stages its batches: inside the data directory it owns. */
function stagingDirOf(dataDir: string): string {
  return join(dataDir, 'decisiontrail-staging');
}

/**
 * An empty staging directory: a batch staged there lives only for its one insert, so anything
 * found at open is left over from a crash (its spans are still in the caller's durable queue).
 */
function prepareStagingDir(dataDir: string): void {
  const dir = stagingDirOf(dataDir);
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new StoreError('CONNECTION_FAILED', `cannot prepare the staging directory ${dir}`, { cause });
  }
}

/**
 * Compression-block ceiling for the embedded engine's MergeTree tables. Every column stream a merge
 * writes holds a buffer this large; at ClickHouse's 1 MiB default one merge of `otel_traces` (its
 * map subcolumns and skip indexes are many streams) took 150–340 MiB in the processor bench, a
 * third of the process's 1 GiB budget. A granule larger than this is only cut into smaller
 * compressed blocks, which costs a little ratio on the attribute maps. Server deployments keep
 * their own settings.
 */
export const EMBEDDED_MAX_COMPRESS_BLOCK_SIZE = 256 * 1024;

/**
 * The exporter's skip indexes of `otel_traces` that the embedded engine builds when it merges parts instead of
 * when a batch is inserted: the bloom filters over every attribute key and value (resource and span) and the
 * span name's token filter. A freshly inserted part is merged again within seconds, and a merge builds every
 * index anew from the merged rows, so the insert's copy was built only to be thrown away — hashing each
 * attribute of each span into four filters. Inserting 100 k signed decision spans in 10 k-span batches, the
 * engine's CPU per span fell from a median 33.8 to 30.6 µs (three runs each, alternating, under load 7–14).
 * Until its first merge a part has no such index and is read whole, which changes what a query reads, never
 * what it finds. The trace-id bloom filter and the duration's minmax are still built at insert. A server keeps its own behaviour (the setting is
 * recent, and a server has cores to spare).
 */
export const EMBEDDED_SKIP_INDEXES_BUILT_AT_MERGE = [
  'idx_res_attr_key',
  'idx_res_attr_value',
  'idx_span_attr_key',
  'idx_span_attr_value',
  'idx_lower_span_name',
] as const;

/**
 * Every merge into a wide part is vertical on the embedded engine, not only from ClickHouse's default of
 * 131,072 rows. A horizontal merge reads and writes all of a table's column streams at once, each with its
 * buffers (see {@link EMBEDDED_MAX_COMPRESS_BLOCK_SIZE}); a vertical one merges the sorting key's columns first,
 * then gathers the other columns one at a time. In the processor's soak (under load) one merge of `otel_traces`
 * took up to 158 MiB horizontally and up to 100 MiB vertically; the engine's tracked memory peaked at 277
 * against 209 MiB (with the merges in progress bounded too: `EMBEDDED_ENGINE_ARGS`, client-factory.ts). Merged
 * parts, their size and every query over them are the same; a merge reads its parts' sorting key once more.
 * Tables of fewer than 11 columns and the summing / aggregating engines still merge horizontally (ClickHouse's
 * own rule).
 */
export const EMBEDDED_VERTICAL_MERGE_MIN_ROWS = 1;

/** The MergeTree settings the embedded engine's tables are brought to at every open (a server keeps its own). */
const EMBEDDED_TABLE_SETTINGS: readonly (readonly [name: string, value: number])[] = [
  ['max_compress_block_size', EMBEDDED_MAX_COMPRESS_BLOCK_SIZE],
  ['vertical_merge_algorithm_min_rows_to_activate', EMBEDDED_VERTICAL_MERGE_MIN_ROWS],
];

async function tuneEmbeddedTables(client: ClickHouseClient): Promise<void> {
  const tables = await client.query({
    query:
      'SELECT name, create_table_query FROM system.tables ' +
      "WHERE database = currentDatabase() AND engine LIKE '%MergeTree'",
    format: 'JSONEachRow',
  });
  for (const { name, create_table_query } of await tables.json<{
    name: string;
    create_table_query: string;
  }>()) {
    const missing = EMBEDDED_TABLE_SETTINGS.filter(
      ([setting, value]) => !new RegExp(`\\b${setting} = ${value}(,|\\s|$)`).test(create_table_query),
    );
    if (missing.length === 0) continue;
    await client.command({
      query: `ALTER TABLE ${quoteIdentifier(name)} MODIFY SETTING ${missing.map(([setting, value]) => `${setting} = ${value}`).join(', ')}`,
    });
  }
}

/**
 * The audit store: schema, sink and every investigation query over one ClickHouse (embedded or
 * server). Every query binds its inputs as parameters. Obtain one with {@link openStore}.
 */
export class Store {
  /** The underlying official client (for advanced use; prefer the methods). */
  readonly client: ClickHouseClient;
  readonly options: ResolvedStoreOptions;
  readonly #ctx: QueryContext;
  readonly #sinks = new Set<ClickHouseSink>();
  /** The verifier's decoder threads, started by the first large binary read. */
  #decoders: VerificationDecoders | undefined;
  /** The embedded engine's second connection (see {@link Store.#sideCtx}), opened by its first use. */
  #side: QueryContext | undefined;

  private constructor(client: ClickHouseClient, options: ResolvedStoreOptions) {
    this.client = client;
    this.options = options;
    this.#ctx = new QueryContext(
      client,
      renderContext({
        database: options.database,
        cluster: options.kind === 'server' ? options.cluster : undefined,
        retention: options.retention,
      }),
    );
  }

  /** Connects, and (unless `migrate: false`) applies pending migrations. */
  static async open(options: StoreOptions = {}): Promise<Store> {
    const resolved = resolveStoreOptions(options);
    const client = createStoreClient(resolved);
    const store = new Store(client, resolved);
    try {
      const ping = await client.ping();
      if (!ping.success) {
        throw new StoreError('CONNECTION_FAILED', `ClickHouse is not reachable: ${ping.error.message}`, {
          cause: ping.error,
        });
      }
      if (resolved.kind === 'embedded') prepareStagingDir(resolved.dataDir);
      if (resolved.migrate === true) await store.migrate();
      else if (resolved.migrate === 'check') await checkMigrationsApplied(client, store.#ctx.render);
      if (resolved.kind === 'embedded') await tuneEmbeddedTables(client);
    } catch (error) {
      await client.close();
      throw error;
    }
    return store;
  }

  /** Applies pending migrations (idempotent; also run at open). */
  async migrate(): Promise<MigrationResult> {
    return runMigrations(this.client, this.#ctx.render);
  }

  /** A batching, idempotent, backpressured writer into `otel_traces`. Closed with the store. */
  createSink(options?: SinkOptions): ClickHouseSink {
    const settings: ClickHouseSettings =
      this.options.kind === 'embedded'
        ? { exclude_materialize_skip_indexes_on_insert: EMBEDDED_SKIP_INDEXES_BUILT_AT_MERGE.join(',') }
        : this.options.asyncInsert
          ? { async_insert: 1, wait_for_async_insert: 1, async_insert_deduplicate: 1 }
          : {};
    const sink = new ClickHouseSink(
      this.client,
      `${this.options.database}.otel_traces`,
      settings,
      options,
      this.options.kind === 'embedded' ? stagingDirOf(this.options.dataDir) : undefined,
    );
    this.#sinks.add(sink);
    return sink;
  }

  /** Writes spans in one batch (no buffering); prefer a sink for streams of spans. */
  async insertSpans(records: readonly SpanRecord[]): Promise<void> {
    const sink = this.createSink({
      maxBatchSize: Math.max(1, records.length),
      maxBufferedRows: Math.max(1, records.length),
    });
    try {
      await sink.write(records);
    } finally {
      await sink.close();
      this.#sinks.delete(sink);
    }
  }

  /** See {@link decisionTimeline}. */
  decisionTimeline(query: { decisionId?: string; traceId?: string }): Promise<TimelineEntry[]> {
    return decisionTimeline(this.#ctx, query);
  }

  /** See {@link timelineEvidence}: the signed rows behind the spans a timeline shows. */
  timelineEvidence(query: TimelineEvidenceQuery): Promise<TimelineEvidence> {
    return timelineEvidence(this.#ctx, query);
  }

  /**
   * See {@link timelineWithEvidence}: a timeline and the signed rows behind it, on the store's one connection (the
   * second step's two statements in a row: on the embedded engine a second connection to run them side by side
   * gained no wall time on a quiet machine and cost CPU under load, docs/BENCHMARKS.md).
   */
  timelineWithEvidence(query: { decisionId?: string; traceId?: string }): Promise<TimelineWithEvidence> {
    return timelineWithEvidence(this.#ctx, query);
  }

  /** Decisions about one data subject (GDPR access request). */
  subjectDecisions(query: {
    subjectId: string;
    from?: Date;
    to?: Date;
    limit?: number;
  }): Promise<DecisionRow[]> {
    return subjectDecisions(this.#ctx, query);
  }

  /** Decisions by model, version and period. */
  decisions(query: DecisionFilter & { limit?: number }): Promise<DecisionRow[]> {
    return decisionsByModel(this.#ctx, query);
  }

  /** See {@link findDecisions}: a filtered, sorted page of decisions and the cursor to the next one. */
  findDecisions(search: DecisionSearch): Promise<DecisionPage> {
    return findDecisions(this.#ctx, search);
  }

  /** See {@link fairnessMetrics}: per fairness group, selection rate, accuracy, error rate, TPR, FPR with intervals. */
  fairnessMetrics(
    query: DecisionFilter & { positiveOutcome: string; minDecisions?: number },
  ): Promise<FairnessMetrics> {
    return fairnessMetrics(this.#ctx, query);
  }

  /** See {@link processingActivities}: per model, what the store shows about its processing (GDPR Art. 30). */
  processingActivities(query?: { from?: Date; to?: Date }): Promise<ProcessingActivity[]> {
    return processingActivities(this.#ctx, query);
  }

  /** Review and override rates. */
  oversightRates(filter: DecisionFilter): Promise<OversightRates> {
    return oversightRates(this.#ctx, filter);
  }

  /** Accuracy and error rate from feedback. */
  accuracy(filter: DecisionFilter): Promise<AccuracyStats> {
    return accuracy(this.#ctx, filter);
  }

  /** Confidence histogram and summary. */
  confidenceDistribution(filter: DecisionFilter & { buckets?: number }): Promise<ConfidenceDistribution> {
    return confidenceDistribution(this.#ctx, filter);
  }

  /** Outcome-rate disparity across fairness groups. */
  fairnessDisparity(filter: DecisionFilter): Promise<FairnessDisparity> {
    return fairnessDisparity(this.#ctx, filter);
  }

  /**
   * The EU AI Act period report for a model (or every model) over `[from, to)`: from the hourly
   * rollup (plus the partial hours at the edges), or with `exact: true` from every decision.
   */
  periodReport(query: PeriodReportQuery): Promise<PeriodReport> {
    return periodReport(this.#ctx, query);
  }

  /** See {@link integrityCoverage}: what the integrity of a period's decisions rests on, per stream. */
  integrityCoverage(filter: DecisionFilter): Promise<IntegrityCoverage> {
    return integrityCoverage(this.#ctx, filter);
  }

  /** Drift of confidence and outcome distributions against a baseline window (PSI). */
  driftSignal(query: DriftQuery): Promise<DriftSignal> {
    return driftSignal(this.#ctx, query);
  }

  /** Change of override and error rates around a deployment. */
  degradationSignal(query: DegradationQuery): Promise<DegradationSignal> {
    return degradationSignal(this.#ctx, query);
  }

  /** Near-threshold confidence bursts and actors repeating the same input. */
  adversarialSignals(query: AdversarialQuery): Promise<AdversarialSignals> {
    return adversarialSignals(this.#ctx, query);
  }

  /** Opens an incident. */
  createIncident(input: NewIncident): Promise<Incident> {
    return createIncident(this.#ctx, input);
  }

  /** The current version of an incident or `null`. */
  getIncident(incidentId: string): Promise<Incident | null> {
    return getIncident(this.#ctx, incidentId);
  }

  /** Incidents, newest first. */
  listIncidents(query?: {
    status?: IncidentStatus;
    modelId?: string;
    decisionId?: string;
  }): Promise<Incident[]> {
    return listIncidents(this.#ctx, query);
  }

  /** Changes an incident (new version). */
  updateIncident(incidentId: string, update: IncidentUpdate): Promise<Incident> {
    return updateIncident(this.#ctx, incidentId, update);
  }

  /** Deletes an incident (tombstone version). */
  deleteIncident(incidentId: string): Promise<void> {
    return deleteIncident(this.#ctx, incidentId);
  }

  /** Stores refused spans in `audit_quarantine`. */
  quarantine(entries: readonly QuarantineEntry[]): Promise<void> {
    return quarantineSpans(this.#ctx, entries);
  }

  /** Quarantined spans, newest first. */
  listQuarantine(query?: QuarantineQuery): Promise<QuarantinedSpan[]> {
    return listQuarantine(this.#ctx, query);
  }

  /** Records an erasure tombstone (the CLI's `erase`). */
  recordErasure(input: {
    subjectId: string;
    keyIds?: string[];
    requestedBy?: string;
    reason?: string;
    erasedAt?: Date;
  }): Promise<ErasureRecord> {
    return recordErasure(this.#ctx, input);
  }

  /** Erasure tombstones. */
  listErasures(query?: { subjectId?: string }): Promise<ErasureRecord[]> {
    return listErasures(this.#ctx, query);
  }

  /** Stored spans of integrity streams as SpanRecords, for the verifier. */
  spansForVerification(query?: VerificationQuery): Promise<SpanRecord[]> {
    return spansForVerification(this.#ctx, query);
  }

  /**
   * The spans {@link spansForVerification} reads, for the verifier, decoded from the engine's binary rows: plain
   * leaf records arrive with their leaf already computed from the stored bytes, every other row as a SpanRecord.
   */
  verificationRecords(query?: VerificationQuery): Promise<VerificationRecord[]> {
    this.#decoders ??= new VerificationDecoders();
    return verificationRecords(this.#ctx, query, this.#decoders);
  }

  /** Time slices of at most about `maxRows` rows that together cover `[from, to)`, to verify one at a time. */
  verificationSlices(query?: { from?: Date; to?: Date; maxRows?: number }): Promise<VerificationSlice[]> {
    return verificationSlices(this.#ctx, query);
  }

  /** Audit records with no integrity stream in `[from, to)`: how many, and the first `limit` of them. */
  unsignedAuditRecords(query?: { from?: Date; to?: Date; limit?: number }): Promise<UnsignedAuditRecords> {
    return unsignedAuditRecords(this.#sideCtx(), query);
  }

  /**
   * Checks inside the engine that every row of the audit tables and rollups is what the views
   * derive from the spans in `otel_traces`; see {@link reconcileAuditTables}. On the embedded engine it runs on
   * a connection of its own, beside whatever this store's connection is running (verify's slice reads).
   */
  reconcileAuditTables(query?: ReconciliationQuery): Promise<AuditReconciliation> {
    return reconcileAuditTables(this.#sideCtx(), query);
  }

  /** Stores witness cosignatures of stored checkpoints (serve's witness submitter). */
  recordCosignatures(rows: readonly StoredCosignature[]): Promise<void> {
    return recordCosignatures(this.#ctx, rows);
  }

  /** Each stream's newest stored checkpoint and the stored witness cosignatures, for `verify`. */
  witnessEvidence(query?: { stream?: string }): Promise<WitnessEvidence> {
    return witnessEvidence(this.#ctx, query);
  }

  /** The signed note of a stream's stored checkpoint of one size; null when none is stored. */
  checkpointNote(query: { stream: string; treeSize: number }): Promise<string | null> {
    return checkpointNote(this.#ctx, query);
  }

  /** A stream's stored checkpoints in `(fromSize, toSize]` with their leaves and ranges (consistency proofs). */
  checkpointLinks(query: { stream: string; fromSize: number; toSize: number }): Promise<CheckpointLink[]> {
    return checkpointLinks(this.#ctx, query);
  }

  /** Every stored span of a trace, as SpanRecords (e.g. for `export`). */
  traceSpans(traceId: string): Promise<SpanRecord[]> {
    return traceSpans(this.#ctx, traceId);
  }

  /**
   * Where the whole-store checks that run beside verify's slice reads (reconciliation, unsigned records) query: on
   * the embedded engine a second connection to the same data directory, since one connection runs one statement
   * at a time (a statement sent while another runs starts when it ends) and two connections run side by side; a
   * server's client already sends statements side by side.
   */
  #sideCtx(): QueryContext {
    if (this.options.kind !== 'embedded') return this.#ctx;
    this.#side ??= new QueryContext(createStoreClient(this.options), this.#ctx.render);
    return this.#side;
  }

  /** Flushes every sink and closes the connection (on the embedded engine, frees the data directory). */
  async close(): Promise<void> {
    try {
      await Promise.all([...this.#sinks].map((sink) => sink.close()));
    } finally {
      this.#sinks.clear();
      await this.#decoders?.close();
      await this.#side?.client.close();
      await this.client.close();
    }
  }
}

/** Opens the store: embedded by default (`./.decisiontrail/data`), or a server with `{ kind: 'server', url }`. */
export function openStore(options: StoreOptions = {}): Promise<Store> {
  return Store.open(options);
}
