import { DECISION_FILTER, decisionFilterParams, type DecisionFilter } from './decision-queries.ts';
import type { QueryContext } from './query-context.ts';

/**
 * One integrity stream of the decisions in a period, with one key's largest stored checkpoint of it:
 * how many of the stream's decisions that checkpoint's size covers. A stream with checkpoints under
 * several key ids gives one row per key id; a stream with none, one row with `keyId` and `note` ''.
 */
export interface StreamCoverage {
  /** '' for decisions that carry no integrity stream. */
  stream: string;
  /** Distinct decisions of the period in this stream. */
  decisions: number;
  /** The key id the checkpoint's row names (only a hint: the note's signature decides). */
  keyId: string;
  /** The largest tree size stored for this stream and key id, and its signed note. */
  treeSize: number;
  note: string;
  /** Decisions of the stream whose leaf index is below `treeSize`. */
  covered: number;
}

/** Result of {@link integrityCoverage}. */
export interface IntegrityCoverage {
  /** Distinct decisions in the period (each decision id once, however often it was delivered). */
  decisions: number;
  streams: StreamCoverage[];
}

/**
 * For the decisions a report counts, what their integrity rests on, in one statement: per stream,
 * the number of distinct decisions and, for each key id's largest stored checkpoint, how many of
 * them its size covers. The caller checks each note's signature against its trusted keys, so the
 * store only ever proposes a checkpoint: a forged row can hide coverage, never add any. Leaves are not
 * recomputed here (that is `verify`'s whole-stream work); what this supports is "covered by a
 * checkpoint signed by a trusted key", not "verified".
 */
export async function integrityCoverage(
  ctx: QueryContext,
  filter: DecisionFilter,
): Promise<IntegrityCoverage> {
  const rows = await ctx.rows<{
    stream: string;
    decisions: string;
    keyId: string;
    treeSize: string;
    note: string;
    covered: string;
  }>(
    `WITH
       period_decisions AS (
         SELECT integrity_stream AS stream, integrity_seq AS seq
         FROM {{read:audit_decisions}} FINAL
         WHERE ${DECISION_FILTER}
       ),
       stream_checkpoints AS (
         SELECT stream, key_id, max(tree_size) AS max_size, argMax(note, tree_size) AS max_note
         FROM {{read:audit_checkpoints}}
         WHERE stream IN (SELECT DISTINCT stream FROM period_decisions WHERE stream != '')
         GROUP BY stream, key_id
       )
     SELECT d.stream AS stream, count() AS decisions, c.key_id AS keyId, c.max_size AS treeSize, c.max_note AS note,
       countIf(c.max_size > d.seq) AS covered
     FROM period_decisions AS d
     LEFT JOIN stream_checkpoints AS c ON d.stream = c.stream
     GROUP BY d.stream, c.key_id, c.max_size, c.max_note
     ORDER BY stream, keyId`,
    decisionFilterParams(filter),
  );
  const streams = rows.map((row) => ({
    stream: row.stream,
    decisions: Number(row.decisions),
    keyId: row.keyId,
    treeSize: Number(row.treeSize),
    note: row.note,
    covered: Number(row.covered),
  }));
  const perStream = new Map(streams.map((s) => [s.stream, s.decisions]));
  return { decisions: [...perStream.values()].reduce((a, b) => a + b, 0), streams };
}
