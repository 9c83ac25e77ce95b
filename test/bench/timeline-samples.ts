// What the two timeline benches share: which decisions they time, and the engine's counters around a statement.

/** Runs a statement on the bench's store and returns its rows. */
export type BenchRows = <T>(sql: string) => Promise<T[]>;

/**
 * The decisions a timeline bench times, spread over the whole store: the first `count` decisions whose id hashes
 * into one bucket of n / (2 × count), n the store's decision count (returned as `total`).
 */
export async function spreadDecisionIds(
  rows: BenchRows,
  count: number,
): Promise<{ total: number; ids: string[] }> {
  const [{ n }] = (await rows<{ n: string }>('SELECT count() AS n FROM audit_decisions')) as [{ n: string }];
  const ids = (
    await rows<{ id: string }>(
      `SELECT decision_id AS id FROM audit_decisions
       WHERE cityHash64(decision_id) % ${Math.max(1, Math.floor(Number(n) / (2 * count)))} = 7
       LIMIT ${count}`,
    )
  ).map((r) => r.id);
  return { total: Number(n), ids };
}

/** The engine's cumulative counters (`system.events`) of the names given; a counter not yet counted is absent. */
export async function engineEvents(rows: BenchRows, names: readonly string[]): Promise<Map<string, number>> {
  return new Map(
    (
      await rows<{ event: string; value: string }>(
        `SELECT event, value FROM system.events WHERE event IN (${names.map((e) => `'${e}'`).join(', ')})`,
      )
    ).map((r) => [r.event, Number(r.value)]),
  );
}
