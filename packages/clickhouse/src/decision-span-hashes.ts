import type { QueryContext } from './query-context.ts';

/** A decision's input and output hashes as its decision span carries them ('' for one it does not carry). */
export interface DecisionHashes {
  inputHash: string;
  outputHash: string;
}

/**
 * The input and output hashes of these decisions, from their decision spans (sql/decision-span-hashes.sql): one
 * statement for all of them. A decision without a stored span is absent from the map.
 */
export async function decisionSpanHashes(
  ctx: QueryContext,
  decisionIds: readonly string[],
): Promise<Map<string, DecisionHashes>> {
  const ids = [...new Set(decisionIds)];
  if (ids.length === 0) return new Map();
  const rows = await ctx.rows<DecisionHashes & { decisionId: string }>(
    '{{include:decision-span-hashes.sql}}',
    {
      ids,
    },
  );
  return new Map(
    rows.map((row) => [row.decisionId, { inputHash: row.inputHash, outputHash: row.outputHash }]),
  );
}
