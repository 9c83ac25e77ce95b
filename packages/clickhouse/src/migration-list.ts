/** A table this package owns; on a cluster it becomes Replicated `<name>_local` + Distributed `<name>`. */
export interface TableStep {
  kind: 'table';
  name: string;
  /** File of the migration's directory. */
  file: string;
  /** Distributed sharding key: rows that are read together land on one shard. */
  shardingKey: string;
}

/** A view, materialized view or one-off statement (run once per node, never distributed). */
export interface ObjectStep {
  kind: 'object';
  /** File of the migration's directory. */
  file: string;
  /** Run on a single node only, not on a cluster. */
  singleNodeOnly?: true;
}

/**
 * A table rebuilt under its own name with other table settings, by code (rebuildTable in migrations.ts): the file
 * creates `<name>_rebuilt` as the table will be; the two are exchanged, then every part of the old table is moved
 * into the new one and merged again under its settings, so rows written meanwhile are kept. Single node only (on a
 * cluster the table stays as it is).
 */
export interface RebuildStep {
  kind: 'rebuild';
  name: string;
  /** File of the migration's directory: the `CREATE TABLE` of `<name>_rebuilt`. */
  file: string;
}

/** One versioned migration. Every statement is idempotent (`IF NOT EXISTS`, `CREATE OR REPLACE`). */
export interface Migration {
  version: number;
  name: string;
  /** `sha256:` + hex of the migration's steps and SQL files as released ({@link migrationChecksum}). */
  checksum: string;
  steps: readonly (TableStep | ObjectStep | RebuildStep)[];
}

/**
 * Every migration, in order. Append only: a released migration's SQL never changes. Each one's files live in
 * `sql/migrations/<version, 3 digits>-<name with dashes>/`, hold no `{{include:}}` (so no live file can change
 * them) and are pinned by `checksum`, which is recorded in the store when the migration is applied and compared
 * at every open. To change the schema, append a migration with new files; `migrationChecksum` (and the unit
 * test that compares it with this list) gives its checksum.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'otel_traces',
    checksum: 'sha256:9ae4e26c34e7a6d7fdd3809cf748629344d33e9d46896b026076d82b2f1e9e0f',
    steps: [
      { kind: 'table', name: 'otel_traces', file: 'otel-traces.sql', shardingKey: 'cityHash64(TraceId)' },
      {
        kind: 'table',
        name: 'otel_traces_trace_id_ts',
        file: 'otel-traces-trace-id-ts.sql',
        shardingKey: 'cityHash64(TraceId)',
      },
      { kind: 'object', file: 'otel-traces-trace-id-ts-mv.sql' },
      // Insert deduplication tokens work on non-replicated tables only with a window (replicated tables keep one
      // by default). Settings are not part of the exporter's schema contract.
      { kind: 'object', file: 'otel-traces-deduplication-window.sql', singleNodeOnly: true },
    ],
  },
  {
    version: 2,
    name: 'audit_tables',
    checksum: 'sha256:a09bd3073f211d96a2006a40f18eb3349920f2b991ed629fc90f32be28bbce33',
    steps: [
      {
        kind: 'table',
        name: 'audit_decisions',
        file: 'audit-decisions.sql',
        shardingKey: 'cityHash64(trace_id)',
      },
      { kind: 'object', file: 'audit-decisions-mv.sql' },
      {
        kind: 'table',
        name: 'audit_oversight',
        file: 'audit-oversight.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-oversight-mv.sql' },
      {
        kind: 'table',
        name: 'audit_feedback',
        file: 'audit-feedback.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-feedback-mv.sql' },
      {
        kind: 'table',
        name: 'audit_deployments',
        file: 'audit-deployments.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-deployments-mv.sql' },
      {
        kind: 'table',
        name: 'audit_checkpoints',
        file: 'audit-checkpoints.sql',
        shardingKey: 'cityHash64(stream)',
      },
      { kind: 'object', file: 'audit-checkpoints-mv.sql' },
    ],
  },
  {
    version: 3,
    name: 'product_tables',
    checksum: 'sha256:8af46b9ab013f3c5d426012b5d669c775f2fc9f425d00b641a482d569ce6fd7d',
    steps: [
      {
        kind: 'table',
        name: 'audit_incidents',
        file: 'audit-incidents.sql',
        shardingKey: 'cityHash64(incident_id)',
      },
      {
        kind: 'table',
        name: 'audit_quarantine',
        file: 'audit-quarantine.sql',
        shardingKey: 'cityHash64(span_id)',
      },
      {
        kind: 'table',
        name: 'audit_erasures',
        file: 'audit-erasures.sql',
        shardingKey: 'cityHash64(subject_id)',
      },
    ],
  },
  {
    version: 4,
    name: 'investigation_views',
    checksum: 'sha256:bf23e6283869c407089b3668d511e5ba15c34f0b06e5f2a776843f21f83a40cf',
    steps: [{ kind: 'object', file: 'decision-timeline.sql' }],
  },
  {
    version: 5,
    name: 'decision_stats_rollup',
    checksum: 'sha256:f69b70977b4db5006e8f3b0a0f5b68a8e4f9963136b228298396bffa2d0e3465',
    steps: [
      {
        kind: 'table',
        name: 'audit_decision_stats',
        file: 'audit-decision-stats.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-decision-stats-mv.sql' },
      { kind: 'object', file: 'audit-decision-stats-backfill.sql' },
    ],
  },
  {
    version: 6,
    name: 'report_rollups',
    checksum: 'sha256:0566bc7d974cec1b8e36718a233380b3227ff8dd280b810d2589205c49c4cd77',
    steps: [
      { kind: 'object', file: 'audit-oversight-model-columns.sql' },
      { kind: 'object', file: 'audit-oversight-model-columns-read.sql' },
      { kind: 'object', file: 'audit-feedback-model-columns.sql' },
      { kind: 'object', file: 'audit-feedback-model-columns-read.sql' },
      {
        kind: 'table',
        name: 'audit_oversight_stats',
        file: 'audit-oversight-rollup.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-oversight-rollup-mv.sql' },
      {
        kind: 'table',
        name: 'audit_feedback_stats',
        file: 'audit-feedback-rollup.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-feedback-rollup-mv.sql' },
      {
        kind: 'table',
        name: 'audit_confidence_stats',
        file: 'audit-confidence-rollup.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-confidence-rollup-mv.sql' },
      { kind: 'object', file: 'audit-confidence-daily-rollup-mv.sql' },
      { kind: 'object', file: 'audit-confidence-rollup-backfill.sql' },
      // The span views fill the model only once the rollups listen, so no row misses its rollup.
      { kind: 'object', file: 'audit-oversight-model-mv.sql' },
      { kind: 'object', file: 'audit-feedback-model-mv.sql' },
      { kind: 'object', file: 'audit-oversight-rollup-backfill.sql' },
      { kind: 'object', file: 'audit-feedback-rollup-backfill.sql' },
    ],
  },
  {
    version: 7,
    name: 'decision_timeline_lookups',
    checksum: 'sha256:bc8e74988db28aa4f42dd89b3e6440369c43c676d6dd160415c934d1c6c05cfa',
    steps: [{ kind: 'object', file: 'decision-timeline-view.sql' }],
  },
  {
    // Trace spans bounded by the decisions' time instead of a trace-id-table scalar subquery.
    version: 8,
    name: 'decision_timeline_span_window',
    checksum: 'sha256:8d9ff140a38c6ccd5b3e629679de3966cdf9c283c16e649b58fec4d733534ee7',
    steps: [{ kind: 'object', file: 'decision-timeline-view.sql' }],
  },
  {
    // Oversight and feedback recorded in the decision's own trace shown once, not also as trace spans.
    version: 9,
    name: 'decision_timeline_follow_ups_once',
    checksum: 'sha256:5d8584508ab02555c3dceb04e7bb9976b6864c0e639de2dbba35d01649e88fac',
    steps: [{ kind: 'object', file: 'decision-timeline-view.sql' }],
  },
  {
    // Independent witnesses' cosignatures of stored checkpoints (written by serve's witness submitter).
    version: 10,
    name: 'audit_cosignatures',
    checksum: 'sha256:6f27f19aa283d968fc387d40957018ef2c6e8aa45f01665ee7e8205a736f8165',
    steps: [
      {
        kind: 'table',
        name: 'audit_cosignatures',
        file: 'audit-cosignatures.sql',
        shardingKey: 'cityHash64(stream)',
      },
    ],
  },
  {
    // What the timeline's read-time check reads by primary key instead of otel_traces granules: each checkpoint
    // span's attributes (note, leaves, compact range), and each review and feedback span by its decision.
    version: 11,
    name: 'timeline_evidence_lookups',
    checksum: 'sha256:f5b715ccad5445f50b3c248e956b3fd8dc1f7eeedae0beebcd286a53f8f7e038',
    steps: [
      {
        kind: 'table',
        name: 'audit_checkpoint_leaves',
        file: 'audit-checkpoint-leaves.sql',
        shardingKey: 'cityHash64(stream)',
      },
      { kind: 'object', file: 'audit-checkpoint-leaves-mv.sql' },
      { kind: 'object', file: 'audit-checkpoint-leaves-backfill.sql' },
      {
        kind: 'table',
        name: 'audit_decision_links',
        file: 'audit-decision-links.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-decision-links-mv.sql' },
      { kind: 'object', file: 'audit-decision-links-backfill.sql' },
    ],
  },
  {
    // A batch row's timeline shows the batch span, not every other row of the batch as a trace span.
    version: 12,
    name: 'decision_timeline_batch_rows_apart',
    checksum: 'sha256:284e598c893051ff15ba948546d6f587ecfb926d5c2176b4c79e5cc63b572658',
    steps: [{ kind: 'object', file: 'decision-timeline-view.sql' }],
  },
  {
    // Tool runs tied to a decision are linked by its id (audit_decision_links), so its timeline shows a run
    // recorded in any trace as an action row.
    version: 13,
    name: 'decision_links_actions',
    checksum: 'sha256:7b591a02a2a98f61e497061222efd22b0805b0ff425f611ddf69bad1776ec652',
    steps: [
      { kind: 'object', file: 'audit-decision-links-all-mv.sql' },
      { kind: 'object', file: 'audit-decision-links-mv-drop.sql' },
      { kind: 'object', file: 'audit-decision-links-actions-backfill.sql' },
      { kind: 'object', file: 'decision-timeline-view.sql' },
    ],
  },
  {
    // A batch the processor replays after a crash (stored, but not yet recorded as stored in its write-ahead log)
    // carries its first insert's deduplication token: otel_traces and the audit tables discard it, and with
    // deduplicate_blocks_in_dependent_materialized_views the views still push their blocks, so a rollup without a
    // window of its own counted the batch twice (verify then found the rollup different from the spans).
    version: 14,
    name: 'rollup_deduplication_window',
    checksum: 'sha256:c01603d6afc19207bcf29128ee21ec05b93222919996f86badd8b234ff02e648',
    steps: [
      { kind: 'object', file: 'audit-decision-stats-deduplication-window.sql', singleNodeOnly: true },
      { kind: 'object', file: 'audit-confidence-stats-deduplication-window.sql', singleNodeOnly: true },
      { kind: 'object', file: 'audit-oversight-stats-deduplication-window.sql', singleNodeOnly: true },
      { kind: 'object', file: 'audit-feedback-stats-deduplication-window.sql', singleNodeOnly: true },
      { kind: 'object', file: 'otel-traces-trace-id-ts-deduplication-window.sql', singleNodeOnly: true },
    ],
  },
  {
    // The read-time check reads each covering checkpoint's span from otel_traces by primary key (found through
    // audit_checkpoints), so migration 11's copy of the checkpoint spans' attributes is dropped.
    version: 15,
    name: 'checkpoint_leaves_from_spans',
    checksum: 'sha256:7129bdde538d77445b50cc7b02beeb28e27f3f6560c907c938ccf37367e6d4c2',
    steps: [
      { kind: 'object', file: 'audit-checkpoint-leaves-mv-drop.sql' },
      { kind: 'object', file: 'audit-checkpoint-leaves-drop-read.sql' },
      { kind: 'object', file: 'audit-checkpoint-leaves-drop.sql' },
    ],
  },
  {
    // A page of decisions sorted by confidence reads the first rows of a table in confidence order, not a sort of
    // the period (audit_decisions is in decision-id order): the decisions finder's p95 at 10 M.
    version: 16,
    name: 'decisions_by_confidence',
    checksum: 'sha256:5f696ae8518fc6fbc542fe97b1d951b32b08e9654834611efb5ac07c225fff17',
    steps: [
      {
        kind: 'table',
        name: 'audit_decisions_by_confidence',
        file: 'audit-decisions-by-confidence.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-decisions-by-confidence-mv.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-backfill.sql' },
    ],
  },
  {
    // A decision's timeline reads tool runs from a day before the decision to a day after the latest run its links
    // name, not to the end of the store: without the bound every later granule's trace-id filter was checked.
    version: 17,
    name: 'decision_timeline_actions_bounded',
    checksum: 'sha256:5ac43302f94d6d3a436c49554871783fe8718b35b692006dc73a488eb6ec1f7c',
    steps: [{ kind: 'object', file: 'decision-timeline-view.sql' }],
  },
  {
    // Codecs only, for #24's storage ratio: the decision rollup's counts, times and digests, and the trace-id
    // table's two times (columns, types and reads unchanged; parts take the codecs as they merge).
    version: 18,
    name: 'rollup_and_trace_range_codecs',
    checksum: 'sha256:07057354e42854e7f8724790c93869fcc936105009cbff74bc75e858a899cc92',
    steps: [
      { kind: 'object', file: 'audit-decision-stats-codecs.sql' },
      { kind: 'object', file: 'otel-traces-trace-id-ts-codecs.sql' },
    ],
  },
  {
    // otel_traces' ResourceAttributes at ZSTD(6), where ZSTD finds the spans' repeated resource (codec only).
    version: 19,
    name: 'resource_attributes_codec',
    checksum: 'sha256:f0613ac81e54fa490d9799faaefa218391fd8d978adbd2de97a158896f27ce8a',
    steps: [{ kind: 'object', file: 'otel-traces-resource-attributes-codec.sql' }],
  },
  {
    // Migration 16's table was ordered by an expression, which the engine reads in order ascending only: the
    // default page by confidence (highest first) sorted the whole period. Replaced by one ordered by a plain column.
    version: 20,
    name: 'decisions_by_confidence_key',
    checksum: 'sha256:1d3582beb3dd97824e22018da59698f3f2fbff2ad2bb6ae73e355354d5c5f587',
    steps: [
      { kind: 'object', file: 'audit-decisions-by-confidence-mv-drop.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-drop-read.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-drop.sql' },
      {
        kind: 'table',
        name: 'audit_decisions_by_confidence',
        file: 'audit-decisions-by-confidence.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-decisions-by-confidence-mv.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-backfill.sql' },
    ],
  },
  {
    // The timeline's read-time check reads the checkpoint that proves a leaf from a copy of the checkpoint spans
    // ordered by stream and tree size, not from a granule of otel_traces found through audit_checkpoints.
    version: 21,
    name: 'checkpoint_spans',
    checksum: 'sha256:6a8511b04c5dd90dfb8cff93c4ecf3e072c174bc53ec9f1e35eddaebe3747164',
    steps: [
      {
        kind: 'table',
        name: 'audit_checkpoint_spans',
        file: 'audit-checkpoint-spans.sql',
        shardingKey: 'cityHash64(stream)',
      },
      { kind: 'object', file: 'audit-checkpoint-spans-mv.sql' },
      { kind: 'object', file: 'audit-checkpoint-spans-backfill.sql' },
    ],
  },
  {
    // A page by confidence read every column of its ≈ 50 decisions from audit_decisions by id (a granule each):
    // the table now also holds what a page lists, and audit_decisions is read only to confirm each row.
    version: 22,
    name: 'decisions_by_confidence_listing',
    checksum: 'sha256:2bb7e5fc20edf1342328f6aebcc58b9eb6e83e837c983a95ba4a6a4798396962',
    steps: [
      { kind: 'object', file: 'audit-decisions-by-confidence-mv-drop.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-drop-read.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-drop.sql' },
      {
        kind: 'table',
        name: 'audit_decisions_by_confidence',
        file: 'audit-decisions-by-confidence.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-decisions-by-confidence-mv.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-backfill.sql' },
    ],
  },
  {
    // Migration 21's copy of the checkpoint spans in otel_traces' 17 columns cost ≈ 8 ms a point read (a block of each
    // column is decompressed): the span as one JSON column instead, and the first leaf it carries, so the checkpoint
    // that can prove a leaf is one primary-key read of one granule.
    version: 23,
    name: 'checkpoint_span_rows',
    checksum: 'sha256:dd3d3beb1dff956af3e936ed1760410edcddba65e8b94adbdd42f60e25630507',
    steps: [
      { kind: 'object', file: 'audit-checkpoint-spans-mv-drop.sql' },
      { kind: 'object', file: 'audit-checkpoint-spans-drop-read.sql' },
      { kind: 'object', file: 'audit-checkpoint-spans-drop.sql' },
      {
        kind: 'table',
        name: 'audit_checkpoint_spans',
        file: 'audit-checkpoint-spans.sql',
        shardingKey: 'cityHash64(stream)',
      },
      { kind: 'object', file: 'audit-checkpoint-spans-mv.sql' },
      { kind: 'object', file: 'audit-checkpoint-spans-backfill.sql' },
    ],
  },
  {
    // #24's storage ratio: a decision's input and output hashes (≈ 64.6 B of random hex per decision) leave
    // audit_decisions; it keeps whether each is there and the input hash's 64-bit fingerprint (≈ 8 B), and the
    // readers that show a hash read it from the decision span.
    version: 24,
    name: 'decision_hashes_in_spans',
    checksum: 'sha256:d36272c76e252227ce822e24df0ed1973fbe5920dcf3ad67d31d98d52c969a00',
    steps: [
      { kind: 'object', file: 'audit-decision-stats-mv-drop.sql' },
      { kind: 'object', file: 'audit-decisions-mv-drop.sql' },
      { kind: 'object', file: 'audit-decisions-hash-columns.sql' },
      { kind: 'object', file: 'audit-decisions-hash-columns-read.sql' },
      { kind: 'object', file: 'audit-decisions-hash-backfill.sql' },
      { kind: 'object', file: 'audit-decisions-hash-drop.sql' },
      { kind: 'object', file: 'audit-decisions-hash-drop-read.sql' },
      { kind: 'object', file: 'audit-decisions-mv.sql' },
      { kind: 'object', file: 'audit-decision-stats-mv.sql' },
      { kind: 'object', file: 'decision-timeline-view.sql' },
    ],
  },
  {
    // #23's overridden page by confidence read a set of every oversight record's id and tested the decisions in
    // confidence order against it: a narrow table of the overrides with their decisions' confidence key instead,
    // filled from either side (an override stored before its decision is pending until the decision arrives).
    version: 25,
    name: 'override_keys',
    checksum: 'sha256:179704d4eb879d9f4f7c9da28d01311caa53966d291b399cd58b67f2f458647d',
    steps: [
      {
        kind: 'table',
        name: 'audit_overrides',
        file: 'audit-overrides.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-overrides-oversight-mv.sql' },
      { kind: 'object', file: 'audit-overrides-decisions-mv.sql' },
      { kind: 'object', file: 'audit-overrides-backfill.sql' },
    ],
  },
  {
    // #24's processor throughput: the audit views other than audit_decisions' each read every inserted span's
    // attribute map for their filter; one view routes the spans they take in (not decisions) into a Null table
    // and they read that instead — the same spans, so the same rows (their SELECTs are sql/*-select.sql's).
    version: 26,
    name: 'routed_audit_spans',
    checksum: 'sha256:e15255e1662e446cada2b6f599f9fc39161e16bbe1e8d6adad06c2f5343691d4',
    steps: [
      { kind: 'object', file: 'audit-routed-spans.sql' },
      { kind: 'object', file: 'audit-routed-spans-mv.sql' },
      { kind: 'object', file: 'audit-checkpoints-mv-drop.sql' },
      { kind: 'object', file: 'audit-checkpoints-mv.sql' },
      { kind: 'object', file: 'audit-checkpoint-spans-mv-drop.sql' },
      { kind: 'object', file: 'audit-checkpoint-spans-mv.sql' },
      { kind: 'object', file: 'audit-deployments-mv-drop.sql' },
      { kind: 'object', file: 'audit-deployments-mv.sql' },
      { kind: 'object', file: 'audit-feedback-mv-drop.sql' },
      { kind: 'object', file: 'audit-feedback-mv.sql' },
      { kind: 'object', file: 'audit-oversight-mv-drop.sql' },
      { kind: 'object', file: 'audit-oversight-mv.sql' },
      { kind: 'object', file: 'audit-decision-links-all-mv-drop.sql' },
      { kind: 'object', file: 'audit-decision-links-all-mv.sql' },
    ],
  },
  {
    // #24's storage: audit_decisions rebuilt with granules of 256 rows and ≈ 8 KB compressed blocks (a read by
    // decision id decompresses an eighth of what it did), so the finder's pages by confidence can read their rows
    // here; single node only (a cluster keeps its table).
    version: 27,
    name: 'decisions_narrow_granules',
    checksum: 'sha256:cdebdf37cd2817002a3a0e7fcd429f351f4a6172d728670298f1a843a118e26b',
    steps: [
      { kind: 'object', file: 'audit-decisions-rebuilt-drop.sql', singleNodeOnly: true },
      { kind: 'object', file: 'audit-decisions-rebuilt.sql', singleNodeOnly: true },
      { kind: 'object', file: 'audit-decisions-rebuilt-fill.sql', singleNodeOnly: true },
      { kind: 'object', file: 'audit-decisions-exchange.sql', singleNodeOnly: true },
      { kind: 'object', file: 'audit-decisions-before-drop.sql', singleNodeOnly: true },
    ],
  },
  {
    // #24's storage: audit_decisions_by_confidence back to the finder's key and filter columns (migration 20's);
    // a page by confidence reads its rows from audit_decisions (granules of 256 rows since 27), ≈ −39 B per decision.
    version: 28,
    name: 'decisions_by_confidence_keys',
    checksum: 'sha256:bb444058977e1b03af44dab1acf32c04483372afb096b3b122b15b89a506c835',
    steps: [
      { kind: 'object', file: 'audit-decisions-by-confidence-mv-drop.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-drop-read.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-drop.sql' },
      {
        kind: 'table',
        name: 'audit_decisions_by_confidence',
        file: 'audit-decisions-by-confidence.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-decisions-by-confidence-mv.sql' },
      { kind: 'object', file: 'audit-decisions-by-confidence-backfill.sql' },
    ],
  },
  {
    // #24's storage: audit_decisions' bloom filters back to one per 2048 rows and the model's set to one per 8192
    // (migration 27 made its granules 256 rows); single node only, as 27.
    version: 29,
    name: 'decisions_index_granules',
    checksum: 'sha256:046db95619d8dc9dc479f5e987324f67e50ee9ebac29f5ae019f236ac8449a1f',
    steps: [
      { kind: 'object', file: 'audit-decisions-indexes-drop.sql', singleNodeOnly: true },
      { kind: 'object', file: 'audit-decisions-indexes-add.sql', singleNodeOnly: true },
      { kind: 'object', file: 'audit-decisions-indexes-build.sql', singleNodeOnly: true },
    ],
  },
  {
    // #23's finder: a minmax index of audit_decisions' integrity stream, so a search for the unsigned decisions
    // skips the blocks of signed ones.
    version: 30,
    name: 'decisions_stream_index',
    checksum: 'sha256:d6c4070356490dd3e0c04f2abbf173082e201164bb4717dcb41cc21a90272c92',
    steps: [
      { kind: 'object', file: 'audit-decisions-stream-index-add.sql' },
      { kind: 'object', file: 'audit-decisions-stream-index-build.sql' },
    ],
  },
  {
    // #24's timeline: otel_traces rebuilt with granules of 256 rows (the exporter's columns, codecs and indexes), so a
    // trace's read decompresses ≈ 256 rows of each column; moved part by part, nothing written meanwhile is lost.
    version: 31,
    name: 'traces_narrow_granules',
    checksum: 'sha256:f40d15f610d5cc7082cc50ab8740aa16f0396d31f1f12097e9b5cd40618137c9',
    steps: [{ kind: 'rebuild', name: 'otel_traces', file: 'otel-traces-rebuilt.sql' }],
  },
  {
    // #24's storage: otel_traces' attribute and span-name filters back to one per 8192 / 65536 rows, as the exporter's
    // (migration 31 made its granules 256 rows: the value filter 9.0 → 12.7 B per decision); single node only, as 31.
    version: 32,
    name: 'traces_filter_granules',
    checksum: 'sha256:b8ae94f567c80ea76cf189b93bdf0e3ebe091222be86f8c3ddfbb22ee906b76f',
    steps: [
      { kind: 'object', file: 'otel-traces-filters-drop.sql', singleNodeOnly: true },
      { kind: 'object', file: 'otel-traces-filters-add.sql', singleNodeOnly: true },
      { kind: 'object', file: 'otel-traces-filters-build.sql', singleNodeOnly: true },
    ],
  },
  {
    // #24: otel_traces' compressed blocks back to 64 KB at least (31 cut them at 8 KB): the sink's insert ≈ 3.5 µs of
    // engine CPU per span less, the timeline's trace read about the same; single node only, as 31.
    version: 33,
    name: 'traces_compress_blocks',
    checksum: 'sha256:6b327f7669e2de3ce2522db1520df97cf618ec814c43a512c79c7d68850c41e9',
    steps: [{ kind: 'object', file: 'otel-traces-compress-blocks.sql', singleNodeOnly: true }],
  },
  {
    // #23's finder: audit_overrides' finder columns again in each part, ordered by model, version and confidence
    // key (a projection), so an overridden page of one model version reads that range, not every override's row.
    version: 34,
    name: 'override_keys_by_model',
    checksum: 'sha256:2e7d44794ccd87dcf7ed927b5dc23052d356c48535fecd6a56609c093d1ef5db',
    steps: [
      { kind: 'object', file: 'audit-overrides-projection-mode.sql' },
      { kind: 'object', file: 'audit-overrides-projection-add.sql' },
      { kind: 'object', file: 'audit-overrides-projection-build.sql' },
    ],
  },
];
