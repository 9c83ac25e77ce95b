// Latency and cost of `decisiontrail timeline` with its read-time check, on a store that exists already.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/timeline.bench.ts --data DIR
//       [--key PUB] [--samples 100] [--warmup 10]
//
// --data is an embedded store's data directory (e.g. a copy of the store test/bench/verify.bench.ts builds, in its
// .decisiontrail/data), opened as it is (no migration runs, nothing is written); --key the public key its streams are
// signed with (default: ../keys/signing.pub beside the data directory, where verify.bench.ts keeps it). Random
// decisions of the store are each read three ways, in rotating order so all see the same store and load:
//   1. decisionTimeline alone (what `timeline --no-verify` reads);
//   2. the timeline with its check as `decisiontrail timeline` reads it now: timelineWithEvidence + verifyTimeline
//      (its trace read, then its checkpoints statement, on the store's one connection);
//   3. the same with its checkpoints statement on a second connection to the embedded engine (until 2026-12-07 17:20
//      UTC it ran there side by side with the trace read, which gained no wall time on a quiet machine; since then it
//      runs after it, so this way only shows a second connection's cost);
//   4. the same as before 2026-12-07: decisionTimeline, then timelineEvidence, then verifyTimeline.
// For each: wall time and the process's CPU time per call (the engine runs in this process, so its threads count),
// and, from the engine's own counters (system.events), the marks selected, rows selected and bytes decompressed per
// call — figures the machine's load does not change. Wall and CPU figures from a loaded machine are not valid
// figures; the load average is printed before and after.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore, type Store } from '@decisiontrail/clickhouse';
import {
  createStoreClient,
  QueryContext,
  renderContext,
  timelineWithEvidence,
} from '@decisiontrail/clickhouse/internal';
import { evidenceQueryFor, verifyTimeline } from '@decisiontrail/cli/internal';
import { parseVerifierKey } from '@decisiontrail/core';
import { engineEvents, spreadDecisionIds } from './timeline-samples.ts';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    key: { type: 'string' },
    samples: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '10' },
  },
});
if (args.data === undefined) throw new Error('--data DIR: the data directory of an existing store');
const SAMPLES = Number(args.samples);
const WARMUP = Number(args.warmup);
const key = parseVerifierKey(
  readFileSync(args.key ?? join(dirname(args.data), 'keys', 'signing.pub'), 'utf8').trim(),
);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

const store: Store = await openStore({ dataDir: args.data, migrate: false });
// The store's own connection and a second one to the same engine, for the second step side by side (way 3).
const render = renderContext({
  database: store.options.database,
  cluster: undefined,
  retention: store.options.retention,
});
const oneConnection = new QueryContext(store.client, render);
const secondConnection = new QueryContext(createStoreClient(store.options), render);
const rows = async <T>(query: string): Promise<T[]> =>
  (await store.client.query({ query, format: 'JSONEachRow' })).json<T>();
const COUNTERS = ['SelectedMarks', 'SelectedRows', 'CompressedReadBufferBytes'] as const;
const counters = async (): Promise<Record<string, number>> =>
  Object.fromEntries(await engineEvents(rows, COUNTERS));

// Decisions spread over the whole store (as timeline-statements.bench.ts picks them).
const { total: n, ids } = await spreadDecisionIds(rows, SAMPLES + WARMUP);
console.log(
  `decisiontrail timeline benchmark: ${n.toLocaleString('en-US')} decisions in ${args.data}; ` +
    `${cpus().length} cores, load average ${load()}; ${ids.length - WARMUP} samples after ${WARMUP}`,
);

interface Cost {
  wall: number[];
  cpu: number[];
  marks: number[];
  rows: number[];
  bytes: number[];
}
const newCost = (): Cost => ({ wall: [], cpu: [], marks: [], rows: [], bytes: [] });
const ways = { alone: newCost(), now: newCost(), side: newCost(), before: newCost() };
const statuses = new Map<string, number>();

async function measure<T>(cost: Cost | undefined, fn: () => Promise<T>): Promise<T> {
  const before = await counters();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const after = await counters();
  if (cost !== undefined) {
    cost.wall.push(wall);
    cost.cpu.push((used.user + used.system) / 1000);
    cost.marks.push((after.SelectedMarks ?? 0) - (before.SelectedMarks ?? 0));
    cost.rows.push((after.SelectedRows ?? 0) - (before.SelectedRows ?? 0));
    cost.bytes.push((after.CompressedReadBufferBytes ?? 0) - (before.CompressedReadBufferBytes ?? 0));
  }
  return value;
}

for (const [i, id] of ids.entries()) {
  const warm = i < WARMUP;
  const query = { id, kind: 'decision' as const };
  const runs = [
    () => measure(warm ? undefined : ways.alone, () => store.decisionTimeline({ decisionId: id })),
    () =>
      measure(warm ? undefined : ways.now, async () => {
        const { entries, evidence } = await store.timelineWithEvidence({ decisionId: id });
        return verifyTimeline(query, entries, evidence, [key]);
      }),
    () =>
      measure(warm ? undefined : ways.side, async () => {
        const { entries, evidence } = await timelineWithEvidence(
          oneConnection,
          { decisionId: id },
          secondConnection,
        );
        return verifyTimeline(query, entries, evidence, [key]);
      }),
    () =>
      measure(warm ? undefined : ways.before, async () => {
        const entries = await store.decisionTimeline({ decisionId: id });
        return verifyTimeline(query, entries, await store.timelineEvidence(evidenceQueryFor(entries)), [key]);
      }),
  ];
  // Rotated, so no way always runs first (or right after another's reads).
  for (let k = 0; k < runs.length; k++) {
    const result = await runs[(i + k) % runs.length]!();
    if (!warm && !Array.isArray(result) && (i + k) % runs.length === 1) {
      const status = result?.verification.status ?? 'none';
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }
}

const fmt = (v: number, digits = 1): string => v.toLocaleString('en-US', { maximumFractionDigits: digits });
const p = (values: number[], digits = 1): string =>
  `${fmt(percentile(values, 50), digits)} / ${fmt(percentile(values, 95), digits)}`;
console.log(
  `\n| per timeline, p50 / p95 (${ids.length - WARMUP} random decisions) | wall ms | CPU ms | marks | rows | bytes decompressed |`,
);
console.log('|---|---|---|---|---|---|');
const label = {
  alone: 'decisionTimeline alone (`--no-verify`)',
  now: 'timeline with its check: timelineWithEvidence + verifyTimeline',
  side: 'the same, its checkpoints statement on a second connection',
  before: 'the same before: decisionTimeline + timelineEvidence + verifyTimeline',
};
for (const [name, cost] of Object.entries(ways) as [keyof typeof ways, Cost][]) {
  console.log(
    `| ${label[name]} | ${p(cost.wall)} | ${p(cost.cpu)} | ${p(cost.marks, 0)} | ${p(cost.rows, 0)} | ${p(cost.bytes.map((b) => b / 1e6))} MB |`,
  );
}
const added = ways.now.cpu.map((cpu, i) => cpu - (ways.alone.cpu[i] as number));
console.log(`\nCPU the check adds (per decision: with the check less alone), p50 / p95: ${p(added)} ms`);
console.log(`statuses (timeline with its check): ${[...statuses].map(([s, k]) => `${s} ${k}`).join(', ')}`);
console.log(`load average after: ${load()}`);
await secondConnection.client.close();
await store.close();
