// Throughput, size and latency of the ClickHouse store on the embedded engine.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/clickhouse.bench.ts [--decisions 10000000]
//       [--chunk 50000] [--samples 100] [--warmup 20] [--gap-ms 777] [--redeliver 1000] [--streams 0] [--keep]
//       [--storage-only]
//
// One run, in a fresh data directory under the OS temp dir:
//   1. ingest: synthetic decision spans (+5% oversight, +20% feedback spans) through ClickHouseSink
//      (Native blocks into otel_traces — on the embedded engine staged as files the engine reads —,
//      materialized views into the audit tables), three writes in flight; the rate is spans over the
//      ingest's wall time less the generator's own time (span generation and OTLP sizing);
//   2. ceiling: the engine's own INSERT … SELECT of the same rows into a second database with the same
//      schema and views, then that database is dropped;
//   3. size (right after the ingest, once the engine's merges have settled — at most 10 minutes): bytes on disk of
//      every table / decisions, against the OTLP/JSON bytes of the same spans and against the Collector's
//      clickhouseexporter alone: the same otel_traces rows copied into a database holding only the exporter's
//      schema (otel_traces and its trace-id table with their default codecs, as migration 1 pinned them), the
//      ratio of #24 item 2, and what that ratio leaves the audit tables; with the largest columns of both and
//      of the audit tables alone (wide parts only). --storage-only stops here;
//   4. latency: SELECT 1, decision_timeline over random decisions (the first calls after the load
//      apart, then p50/p95 of the samples) and, timed apart, the timeline's read-time check of each
//      (with --streams N the spans are signed in N streams, so the check proves them) beside the check as
//      it was before migration 11 (previous-timeline-evidence.ts), and the two read together as the CLI reads them
//      now (timelineWithEvidence), with the process CPU of each call, the full
//      period report;
//   5. reconciliation (what `verify` runs over the audit tables and rollups): each table against
//      otel_traces, timed apart, and the rate over every span stored;
//   6. redelivery: --redeliver decision spans copied again into otel_traces (exact duplicates in a
//      batch of their own, as a retry after a lost acknowledgement writes them), then the report
//      again (same counts, its duplicated hours read with FINAL) and the reconciliation of
//      audit_decisions and audit_decision_stats (no finding).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  EMBEDDED_SKIP_INDEXES_BUILT_AT_MERGE,
  MIGRATIONS,
  RECONCILED_TABLES,
  migrationStatements,
  openStore,
  renderContext,
  type ReconciledTable,
  type Store,
  type TimelineEvidence,
} from '@decisiontrail/clickhouse';
import { evidenceQueryFor, verifyTimeline } from '@decisiontrail/cli/internal';
import { generateSigningKey } from '@decisiontrail/core';
import { SyntheticAuditSpans, otlpJsonBytes } from './clickhouse-synthetic.ts';
import { previousEvidence } from './previous-timeline-evidence.ts';

const { values: args } = parseArgs({
  options: {
    decisions: { type: 'string', default: '1000000' },
    chunk: { type: 'string', default: '50000' },
    samples: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    'gap-ms': { type: 'string', default: '777' },
    redeliver: { type: 'string', default: '1000' },
    streams: { type: 'string', default: '0' },
    'storage-only': { type: 'boolean', default: false },
  },
});
const DECISIONS = Number(args.decisions);
const CHUNK = Number(args.chunk);
const SAMPLES = Number(args.samples);
const WARMUP = Number(args.warmup);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function scalar(store: Store, query: string): Promise<number> {
  const result = await store.client.query({ query, format: 'JSONEachRow' });
  const [row] = await result.json<Record<string, string | number>>();
  return Number(Object.values(row ?? {})[0] ?? 0);
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

const dataDir = mkdtempSync(join(tmpdir(), 'decisiontrail-ch-bench-'));
const store = await openStore({ dataDir });
const startMs = Date.UTC(2026, 0, 1);
// Decisions arrive at a steady rate (10 million over 90 days: one every 777 ms), so a small run
// has the same time locality per batch as a large one, as a live service would.
const gapMs = Number(args['gap-ms']);
// --streams N: the spans are signed for real in N streams (checkpoint every 512 spans), so the
// timeline's read-time check proves each shown span; 0 keeps the unsigned spans of earlier runs.
const STREAMS = Number(args.streams);
const signingKey = generateSigningKey('bench');
const generator = new SyntheticAuditSpans({
  startMs,
  gapMs,
  ...(STREAMS > 0 && { signing: { key: signingKey, streams: STREAMS } }),
});
const sink = store.createSink({ maxBatchSize: CHUNK * 2, maxBufferedRows: CHUNK * 4, flushIntervalMs: 5 });

console.log(
  `decisiontrail ClickHouse benchmark: ${DECISIONS} decisions, chunks of ${CHUNK}, data in ${dataDir}`,
);
let spansWritten = 0;
let generationMs = 0;
let otlpBytes = 0;
let otlpSampledDecisions = 0;
let chunks = 0;
// Up to three writes in flight, as a pipeline stage would keep them: the next chunks are generated
// and encoded while the engine writes the previous one.
const inFlight = new Set<Promise<void>>();
const wallStart = performance.now();
while (generator.stats.decisions < DECISIONS) {
  const generationStart = performance.now();
  const decisionsBefore = generator.stats.decisions;
  const spans = generator.next(Math.min(CHUNK, DECISIONS - generator.stats.decisions));
  // OTLP/JSON size from every 10th chunk (the spans are statistically alike), scaled below.
  if (chunks++ % 10 === 0) {
    otlpBytes += otlpJsonBytes(spans);
    otlpSampledDecisions += Math.min(CHUNK, generator.stats.decisions - decisionsBefore);
  }
  generationMs += performance.now() - generationStart;
  const writing: Promise<void> = sink.write(spans).finally(() => inFlight.delete(writing));
  inFlight.add(writing);
  spansWritten += spans.length;
  if (inFlight.size >= 3) await Promise.race(inFlight);
  if (generator.stats.decisions % (CHUNK * 20) === 0) {
    const elapsed = performance.now() - wallStart - generationMs;
    console.log(
      `  ${generator.stats.decisions} decisions, ${spansWritten} spans, ${Math.round((spansWritten / elapsed) * 1000)} spans/s so far`,
    );
  }
}
// Signing: the follow-ups still pending and each stream's last checkpoint, as a shutdown seals them.
if (STREAMS > 0) {
  const tail = generator.finish();
  spansWritten += tail.length;
  await sink.write(tail);
}
await Promise.all(inFlight);
await sink.flush();
const wallMs = performance.now() - wallStart;
// The sink's time: the ingest's wall time less the generator's own (synthetic spans and OTLP
// sizing stand in for the spans a pipeline receives; they are not the sink's work).
const sinkMs = wallMs - generationMs;
const sinkRate = (spansWritten / sinkMs) * 1000;
const stats = generator.stats;

// Size, once the merges the ingest started have finished (parts merged later compress alike; waiting makes runs
// comparable), at most 10 minutes.
for (
  let waited = 0;
  waited < 600 && (await scalar(store, "SELECT count() FROM system.merges WHERE database = 'default'")) > 0;
  waited++
)
  await new Promise((resolve) => setTimeout(resolve, 1000));
// The embedded sink leaves some of otel_traces' skip indexes to the first merge (EMBEDDED_SKIP_INDEXES_BUILT_AT_MERGE);
// a part no merge has taken yet lacks them. Sizes are compared with every index built, on both sides, as the
// Collector's exporter writes them at insert: a store whose last parts are unmerged is smaller than that only for
// a while.
for (const index of EMBEDDED_SKIP_INDEXES_BUILT_AT_MERGE)
  await store.client.command({
    query: `ALTER TABLE default.otel_traces MATERIALIZE INDEX ${index}`,
    clickhouse_settings: { mutations_sync: '2' },
  });
interface TableSize {
  table: string;
  rows: string;
  disk: string;
  raw: string;
  parts: string;
}
const tableSizes = async (database: string): Promise<TableSize[]> =>
  (
    await store.client.query({
      query: `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS disk, sum(data_uncompressed_bytes) AS raw, count() AS parts
              FROM system.parts WHERE database = {database: String} AND active GROUP BY table ORDER BY disk DESC`,
      query_params: { database },
      format: 'JSONEachRow',
    })
  ).json<TableSize>();
const tables = await tableSizes('default');
const totalDisk = tables.reduce((a, t) => a + Number(t.disk), 0);
const merging = await scalar(store, "SELECT count() FROM system.merges WHERE database = 'default'");
// The exporter alone: its two tables (migration 1 is the exporter's DDL, column for column, codecs included, and
// released migrations never change) in a database of their own, filled from this store's otel_traces.
const exporterMigration = MIGRATIONS.find((m) => m.version === 1);
if (exporterMigration === undefined) throw new Error('migration 1 (the exporter schema) is missing');
await store.client.command({ query: 'CREATE DATABASE IF NOT EXISTS exporter' });
for (const statement of migrationStatements(
  exporterMigration,
  renderContext({ database: 'exporter', cluster: undefined, retention: store.options.retention }),
))
  await store.client.command({ query: statement });
await store.client.command({
  query: 'INSERT INTO exporter.otel_traces SELECT * FROM default.otel_traces',
  // Every index at insert, as the exporter writes (the store's session defers some, see above).
  clickhouse_settings: { insert_deduplication_token: '', exclude_materialize_skip_indexes_on_insert: '' },
});
for (
  let waited = 0;
  waited < 600 && (await scalar(store, "SELECT count() FROM system.merges WHERE database = 'exporter'")) > 0;
  waited++
)
  await new Promise((resolve) => setTimeout(resolve, 1000));
const exporterTables = await tableSizes('exporter');
const exporterDisk = exporterTables.reduce((a, t) => a + Number(t.disk), 0);
// Where the bytes are: the largest columns of both (a compact part, under 10 MB, reports no column sizes).
const columns = await (
  await store.client.query({
    query: `SELECT database, table, column, sum(column_data_compressed_bytes) AS bytes
            FROM system.parts_columns WHERE database IN ('default', 'exporter') AND active AND part_type = 'Wide'
            GROUP BY database, table, column ORDER BY bytes DESC LIMIT 16`,
    format: 'JSONEachRow',
  })
).json<{ database: string; table: string; column: string; bytes: string }>();
// The audit tables' own largest columns: the list above is mostly both otel_traces.
const auditColumns = await (
  await store.client.query({
    query: `SELECT table, column, sum(column_data_compressed_bytes) AS bytes
            FROM system.parts_columns WHERE database = 'default' AND active AND part_type = 'Wide'
              AND table NOT IN ('otel_traces', 'otel_traces_trace_id_ts')
            GROUP BY table, column ORDER BY bytes DESC LIMIT 16`,
    format: 'JSONEachRow',
  })
).json<{ table: string; column: string; bytes: string }>();
const skipIndexes = await scalar(
  store,
  "SELECT sum(data_compressed_bytes) FROM system.data_skipping_indices WHERE database = 'default'",
);
if (!args.keep) await store.client.command({ query: 'DROP DATABASE exporter SYNC' });
const perDecision = (bytes: number) => `${(bytes / stats.decisions).toFixed(1)} B`;
console.log('\n| storage (all tables, bytes on disk) | per decision |\n|---|---|');
console.log(`| this store, all tables | ${perDecision(totalDisk)} (${tables.length} tables) |`);
console.log(
  `| the exporter alone (otel_traces + otel_traces_trace_id_ts, the same spans) | ${perDecision(exporterDisk)} (${exporterTables.map((t) => `${t.table} ${perDecision(Number(t.disk))} in ${t.parts} parts`).join(', ')}) |`,
);
console.log(`| **ratio (target ≤ 1.25×)** | **${(totalDisk / exporterDisk).toFixed(3)}×** |`);
console.log(`| of which skip indexes in this store | ${perDecision(skipIndexes)} |`);
// What the target leaves the audit tables: 1.25× the exporter alone, less what this store's own copies of the
// exporter's two tables take (their codecs may differ from the exporter's).
const exporterOwn = tables
  .filter((t) => t.table === 'otel_traces' || t.table === 'otel_traces_trace_id_ts')
  .reduce((a, t) => a + Number(t.disk), 0);
console.log(
  `| the audit tables (all but otel_traces and its trace-id table) | ${perDecision(totalDisk - exporterOwn)}; within 1.25×: at most ${perDecision(1.25 * exporterDisk - exporterOwn)} |`,
);
console.log(`| merges still running at measurement | ${merging} |`);
console.log(
  '\n| table | rows | bytes on disk | per decision | uncompressed | parts |\n|---|---|---|---|---|---|',
);
for (const t of tables)
  console.log(
    `| ${t.table} | ${t.rows} | ${t.disk} | ${perDecision(Number(t.disk))} | ${t.raw} | ${t.parts} |`,
  );
console.log('\n| largest columns (wide parts) | per decision |\n|---|---|');
for (const c of columns)
  console.log(`| ${c.database}.${c.table}.${c.column} | ${perDecision(Number(c.bytes))} |`);
console.log('\n| largest columns of the audit tables (wide parts) | per decision |\n|---|---|');
for (const c of auditColumns) console.log(`| ${c.table}.${c.column} | ${perDecision(Number(c.bytes))} |`);
if (args['storage-only']) {
  await store.close();
  if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}

// Engine-internal ceiling: same schema and views in a second database, INSERT … SELECT.
const ceilingContext = renderContext({
  database: 'ceiling',
  cluster: undefined,
  retention: store.options.retention,
});
await store.client.command({ query: 'CREATE DATABASE IF NOT EXISTS ceiling' });
for (const migration of MIGRATIONS) {
  for (const statement of migrationStatements(migration, ceilingContext))
    await store.client.command({ query: statement });
}
const [, ceilingMs] = await timed(() =>
  store.client.command({
    query: 'INSERT INTO ceiling.otel_traces SELECT * FROM default.otel_traces',
    clickhouse_settings: { insert_deduplication_token: '' },
  }),
);
const ceilingRows = await scalar(store, 'SELECT count() FROM ceiling.otel_traces');
const ceilingRate = (ceilingRows / ceilingMs) * 1000;
await store.client.command({ query: 'DROP DATABASE ceiling SYNC' });

// Latency.
const select1: number[] = [];
for (let i = 0; i < 50; i++) select1.push((await timed(() => scalar(store, 'SELECT 1')))[1]);
const randomDecision = () =>
  stats.decisionIds[Math.floor(Math.random() * stats.decisionIds.length)] as string;
// The first timelines after the load pay one-off costs a running service has long paid (primary
// indexes and marks of the parts the load and its merges created are loaded on first use, code
// is compiled): they are reported apart, then the samples are other random decisions.
const firstCalls: number[] = [];
for (let i = 0; i < WARMUP; i++) {
  const id = randomDecision();
  firstCalls.push((await timed(() => store.decisionTimeline({ decisionId: id })))[1]);
}
// Each sample also runs what `decisiontrail timeline` adds at read time: one timelineEvidence
// statement (every stored copy of the shown spans, the decision's reviews and feedback by decision id,
// the checkpoint spans that can prove them) and verifyTimeline (leaves recomputed, inclusion proofs
// from each checkpoint's compact range, signatures, displayed fields compared), timed apart.
// The engine runs in this process, so the process's CPU time over a call (every thread: the engine's and
// JavaScript's) is what the call cost, a figure other processes' load inflates far less than wall time.
// Each sample also runs, in alternating order, the check as it was before 2026-12-07 (previousEvidence):
// both in one run on one store under the same load.
const cpuMs = async <T>(fn: () => Promise<T>): Promise<[T, number, number]> => {
  const cpu = process.cpuUsage();
  const [value, ms] = await timed(fn);
  const used = process.cpuUsage(cpu);
  return [value, ms, (used.user + used.system) / 1000];
};
const timeline: number[] = [];
const timelineCpu: number[] = [];
const readTimeCheck: number[] = [];
const readTimeCheckCpu: number[] = [];
const previousCheck: number[] = [];
const previousCheckCpu: number[] = [];
const timelineStatuses = new Map<string, number>();
const previousStatuses = new Map<string, number>();
const timelineTogether: number[] = [];
const timelineTogetherCpu: number[] = [];
const togetherStatuses = new Map<string, number>();
let timelineRows = 0;
for (let i = 0; i < SAMPLES; i++) {
  const id = randomDecision();
  const [entries, ms, cpu] = await cpuMs(() => store.decisionTimeline({ decisionId: id }));
  timeline.push(ms);
  timelineCpu.push(cpu);
  timelineRows += entries.length;
  const check = (evidence: (q: ReturnType<typeof evidenceQueryFor>) => Promise<TimelineEvidence>) =>
    cpuMs(async () =>
      verifyTimeline({ id, kind: 'decision' }, entries, await evidence(evidenceQueryFor(entries)), [
        signingKey.verifierKey,
      ]),
    );
  const current = () => check((q) => store.timelineEvidence(q));
  const previous = () => check((q) => previousEvidence(store, q));
  const first = i % 2 === 0 ? await current() : await previous();
  const second = i % 2 === 0 ? await previous() : await current();
  const [[doc, checkMs, checkCpu], [before, beforeMs, beforeCpu]] =
    i % 2 === 0 ? [first, second] : [second, first];
  readTimeCheck.push(checkMs);
  readTimeCheckCpu.push(checkCpu);
  previousCheck.push(beforeMs);
  previousCheckCpu.push(beforeCpu);
  const status = doc?.verification.status ?? 'none';
  timelineStatuses.set(status, (timelineStatuses.get(status) ?? 0) + 1);
  const beforeStatus = before?.verification.status ?? 'none';
  previousStatuses.set(beforeStatus, (previousStatuses.get(beforeStatus) ?? 0) + 1);
  // What `decisiontrail timeline` reads now: the timeline and its evidence together (two statements, not four).
  const [together, togetherMs, togetherCpu] = await cpuMs(async () => {
    const read = await store.timelineWithEvidence({ decisionId: id });
    return verifyTimeline({ id, kind: 'decision' }, read.entries, read.evidence, [signingKey.verifierKey]);
  });
  timelineTogether.push(togetherMs);
  timelineTogetherCpu.push(togetherCpu);
  const togetherStatus = together?.verification.status ?? 'none';
  togetherStatuses.set(togetherStatus, (togetherStatuses.get(togetherStatus) ?? 0) + 1);
}
const timelineWithCheck = timeline.map((ms, i) => ms + (readTimeCheck[i] as number));
const period = { from: new Date(startMs), to: new Date(startMs + DECISIONS * gapMs + 86_400_000) };
const reportMs: number[] = [];
let reportDecisions = 0;
for (let i = 0; i < 5; i++) {
  const [report, ms] = await timed(() => store.periodReport({ ...period, modelId: 'credit-scorer' }));
  reportMs.push(ms);
  reportDecisions = report.totals.decisions;
}
const allModelsReportMs: number[] = [];
for (let i = 0; i < 3; i++) allModelsReportMs.push((await timed(() => store.periodReport(period)))[1]);
const [, subjectMs] = await timed(() => store.subjectDecisions({ subjectId: 'subj-000000000000' }));

// Reconciliation: every table in one call, as `verify` makes it; then each table alone for where the
// time goes (alone, a rollup of audit_decisions derives its rows from otel_traces again).
const [reconciliation, reconcileMs] = await timed(() => store.reconcileAuditTables());
const reconciled: (ReconciledTable & { ms: number })[] = [];
for (const table of RECONCILED_TABLES) {
  const [result, ms] = await timed(() => store.reconcileAuditTables({ tables: [table] }));
  for (const t of result.tables) reconciled.push({ ...t, ms });
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
console.log('\n| metric | value |\n|---|---|');
console.log(
  `| decisions / spans written | ${stats.decisions} / ${spansWritten} (oversight ${stats.oversight}, feedback ${stats.feedback}) |`,
);
console.log(
  `| sink ingest (ClickHouseSink, Native blocks) | ${Math.round(sinkRate)} spans/s (${fmt(sinkMs / 1000)} s: wall ${fmt(wallMs / 1000)} s less generation ${fmt(generationMs / 1000)} s; ${Math.round((spansWritten / wallMs) * 1000)} spans/s with generation) |`,
);
console.log(
  `| engine INSERT … SELECT ceiling (same views) | ${Math.round(ceilingRate)} rows/s (${fmt(ceilingMs / 1000)} s) |`,
);
console.log(`| sink / ceiling | ${fmt((sinkRate / ceilingRate) * 100)} % |`);
console.log(
  `| bytes on disk per decision (all tables) | ${fmt(totalDisk / stats.decisions)} B (${fmt(totalDisk / exporterDisk, 3)}× the exporter alone) |`,
);
const otlpPerDecision = otlpBytes / otlpSampledDecisions;
console.log(
  `| OTLP/JSON bytes per decision (same spans, every 10th chunk) | ${fmt(otlpPerDecision)} B (${fmt((otlpPerDecision * stats.decisions) / totalDisk)}× the bytes on disk) |`,
);
console.log(`| SELECT 1 round trip p50 | ${fmt(percentile(select1, 50), 2)} ms |`);
if (WARMUP > 0) {
  console.log(
    `| decision_timeline, first ${WARMUP} calls after the load, p50 / max | ${fmt(percentile(firstCalls, 50))} / ${fmt(Math.max(...firstCalls))} ms |`,
  );
}
console.log(
  `| decision_timeline p50 / p95 (${SAMPLES} random decisions${WARMUP > 0 ? ' after those' : ''}, ${fmt(timelineRows / SAMPLES)} rows each) | ${fmt(percentile(timeline, 50))} / ${fmt(percentile(timeline, 95))} ms |`,
);
console.log(
  `| timeline read-time check (timelineEvidence + verifyTimeline) p50 / p95; statuses | ${fmt(percentile(readTimeCheck, 50))} / ${fmt(percentile(readTimeCheck, 95))} ms; ${[...timelineStatuses].map(([s, n]) => `${s} ${n}`).join(', ')} |`,
);
console.log(
  `| process CPU per call, p50 / p95: decision_timeline; the check; the check as it was | ${fmt(percentile(timelineCpu, 50))} / ${fmt(percentile(timelineCpu, 95))} ms; ${fmt(percentile(readTimeCheckCpu, 50))} / ${fmt(percentile(readTimeCheckCpu, 95))} ms; ${fmt(percentile(previousCheckCpu, 50))} / ${fmt(percentile(previousCheckCpu, 95))} ms |`,
);
console.log(
  `| the check as it was (one statement over otel_traces), p50 / p95; statuses | ${fmt(percentile(previousCheck, 50))} / ${fmt(percentile(previousCheck, 95))} ms; ${[...previousStatuses].map(([s, n]) => `${s} ${n}`).join(', ')} |`,
);
console.log(
  `| decision_timeline with the check, p50 / p95 | ${fmt(percentile(timelineWithCheck, 50))} / ${fmt(percentile(timelineWithCheck, 95))} ms |`,
);
console.log(
  `| timeline with its check as \`decisiontrail timeline\` reads it (timelineWithEvidence + verifyTimeline), p50 / p95; CPU; statuses | ${fmt(percentile(timelineTogether, 50))} / ${fmt(percentile(timelineTogether, 95))} ms; ${fmt(percentile(timelineTogetherCpu, 50))} / ${fmt(percentile(timelineTogetherCpu, 95))} ms; ${[...togetherStatuses].map(([s, n]) => `${s} ${n}`).join(', ')} |`,
);
console.log(
  `| period report, one model (${reportDecisions} decisions), median of 5 | ${fmt(percentile(reportMs, 50))} ms |`,
);
console.log(`| period report, all models, median of 3 | ${fmt(percentile(allModelsReportMs, 50))} ms |`);
console.log(`| subject access request (bloom-filter lookup) | ${fmt(subjectMs)} ms |`);
console.log(`| merges still running at the size measurement (above) | ${merging} |`);

console.log(
  `\n| reconciled table | rows | derived from otel_traces | findings | time alone |\n|---|---|---|---|---|`,
);
for (const t of reconciled) {
  console.log(`| ${t.table} | ${t.rows} | ${t.derived} | ${t.findings} | ${fmt(t.ms / 1000, 2)} s |`);
}
console.log(
  `| **all, one call** (${spansWritten} spans stored) | | | ${reconciliation.findings.length} | **${fmt(reconcileMs / 1000, 1)} s = ${Math.round((spansWritten / reconcileMs) * 1000)} spans/s** |`,
);

// Redelivery: exact copies of decision spans in an insert of their own (after the size figures).
const redeliver = Number(args.redeliver);
if (redeliver > 0) {
  const [, copyMs] = await timed(() =>
    store.client.command({
      query: `INSERT INTO otel_traces SELECT * FROM otel_traces
              WHERE SpanAttributes['audit.record.type'] = 'decision' LIMIT ${redeliver}`,
      clickhouse_settings: { insert_deduplication_token: '' },
    }),
  );
  const afterMs: number[] = [];
  let afterDecisions = 0;
  for (let i = 0; i < 5; i++) {
    const [report, ms] = await timed(() => store.periodReport({ ...period, modelId: 'credit-scorer' }));
    afterMs.push(ms);
    afterDecisions = report.totals.decisions;
  }
  const [check, checkMs] = await timed(() =>
    store.reconcileAuditTables({ tables: ['audit_decisions', 'audit_decision_stats'] }),
  );
  console.log(
    `\n| after redelivering ${redeliver} decision spans (copied in ${fmt(copyMs)} ms) | value |\n|---|---|`,
  );
  console.log(
    `| period report, one model, median of 5 | ${fmt(percentile(afterMs, 50))} ms (decisions ${afterDecisions}, before ${reportDecisions}) |`,
  );
  console.log(
    `| reconciliation of audit_decisions and audit_decision_stats | ${check.findings.length} findings (${fmt(checkMs / 1000, 1)} s) |`,
  );
}

await store.close();
if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
