import type { QueryContext, QueryParams } from './query-context.ts';
import { StoreError } from './errors.ts';

/** One witness cosignature line of one stored checkpoint. */
export interface StoredCosignature {
  stream: string;
  treeSize: number;
  origin: string;
  /** Base64 root of the checkpoint cosigned. */
  root: string;
  /** The witness the line names. */
  witness: string;
  keyId: string;
  /** The time the witness signed (seconds since the epoch), as the line says. */
  cosignedAt: number;
  /** The signature line as the witness returned it. */
  line: string;
}

/** A stream's newest stored checkpoint. */
export interface StreamHead {
  stream: string;
  origin: string;
  treeSize: number;
  note: string;
}

/** What the witness checks read: each stream's newest checkpoint and every stored cosignature. */
export interface WitnessEvidence {
  heads: StreamHead[];
  cosignatures: StoredCosignature[];
}

/** A stored checkpoint span with what proofs from it need: its leaves and the compact range where they begin. */
export interface CheckpointLink {
  treeSize: number;
  note: string;
  /** Base64 of the concatenated leaf hashes this checkpoint adds. */
  leaves: string;
  /** Base64 of the compact range at `treeSize - leaves`; '' when the span carries none. */
  range: string;
}

/** Records cosignatures (repeats of a line collapse in the table's ReplacingMergeTree). */
export async function recordCosignatures(
  ctx: QueryContext,
  rows: readonly StoredCosignature[],
): Promise<void> {
  if (rows.length === 0) return;
  await ctx.insert(
    'audit_cosignatures',
    rows.map((row) => ({
      stream: row.stream,
      tree_size: row.treeSize,
      origin: row.origin,
      root: row.root,
      witness: row.witness,
      key_id: row.keyId,
      cosigned_at: row.cosignedAt,
      line: row.line,
    })),
  );
}

/** Each stream's newest stored checkpoint and the stored cosignatures (optionally of one stream). */
export async function witnessEvidence(
  ctx: QueryContext,
  query: { stream?: string } = {},
): Promise<WitnessEvidence> {
  if (query.stream !== undefined && typeof query.stream !== 'string')
    throw new StoreError('INVALID_ARGUMENT', 'stream must be a string');
  const filter = query.stream === undefined ? '' : 'WHERE stream = {stream:String}';
  const params: QueryParams = query.stream === undefined ? {} : { stream: query.stream };
  const heads = await ctx.rows<{ stream: string; origin: string; treeSize: string; note: string }>(
    `SELECT stream, argMax(origin, tree_size) AS origin, max(tree_size) AS treeSize,
       argMax(note, tree_size) AS note
     FROM {{read:audit_checkpoints}} ${filter}
     GROUP BY stream ORDER BY stream`,
    params,
  );
  const cosignatures = await ctx.rows<{
    stream: string;
    treeSize: string;
    origin: string;
    root: string;
    witness: string;
    keyId: string;
    cosignedAt: string;
    line: string;
  }>(
    `SELECT DISTINCT stream, tree_size AS treeSize, origin, root, witness, key_id AS keyId,
       toUnixTimestamp(cosigned_at) AS cosignedAt, line
     FROM {{read:audit_cosignatures}} ${filter}
     ORDER BY stream, treeSize, witness`,
    params,
  );
  return {
    heads: heads.map((h) => ({ ...h, treeSize: Number(h.treeSize) })),
    cosignatures: cosignatures.map((c) => ({
      ...c,
      treeSize: Number(c.treeSize),
      cosignedAt: Number(c.cosignedAt),
    })),
  };
}

/**
 * The stored checkpoint spans of a stream with sizes in `(fromSize, toSize]`, smallest first, with the leaves and
 * compact range each carries: enough for a consistency proof from any stored checkpoint size to a later one.
 */
export async function checkpointLinks(
  ctx: QueryContext,
  query: { stream: string; fromSize: number; toSize: number },
): Promise<CheckpointLink[]> {
  const rows = await ctx.rows<{ treeSize: string; note: string; leaves: string; range: string }>(
    `SELECT toUInt64OrZero(SpanAttributes[{{attr:AUDIT_CHECKPOINT_SIZE}}]) AS treeSize,
       any(SpanAttributes[{{attr:AUDIT_CHECKPOINT_NOTE}}]) AS note,
       any(SpanAttributes[{{attr:AUDIT_CHECKPOINT_LEAVES}}]) AS leaves,
       any(SpanAttributes[{{attr:AUDIT_CHECKPOINT_RANGE}}]) AS range
     FROM {{read:otel_traces}}
     WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.CHECKPOINT}}
       AND SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] = {stream:String}
       AND treeSize > {from:UInt64} AND treeSize <= {to:UInt64}
     GROUP BY treeSize ORDER BY treeSize`,
    { stream: query.stream, from: query.fromSize, to: query.toSize },
  );
  return rows.map((row) => ({ ...row, treeSize: Number(row.treeSize) }));
}

/**
 * The signed note of a stream's stored checkpoint of one size, read from `audit_checkpoints` by its primary key
 * (what `verify` compares with what a witness cosigned); null when the store holds no checkpoint of that size.
 */
export async function checkpointNote(
  ctx: QueryContext,
  query: { stream: string; treeSize: number },
): Promise<string | null> {
  if (typeof query.stream !== 'string') throw new StoreError('INVALID_ARGUMENT', 'stream must be a string');
  if (!Number.isSafeInteger(query.treeSize) || query.treeSize < 0)
    throw new StoreError('INVALID_ARGUMENT', 'treeSize must be a whole number');
  const rows = await ctx.rows<{ note: string }>(
    `SELECT note FROM {{read:audit_checkpoints}}
     WHERE stream = {stream:String} AND tree_size = {size:UInt64}
     ORDER BY span_id LIMIT 1`,
    { stream: query.stream, size: query.treeSize },
  );
  return rows[0]?.note ?? null;
}
