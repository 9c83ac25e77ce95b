// Where a checked timeline's time goes, statement by statement, on a store that exists already.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/timeline-statements.bench.ts --data DIR
//       [--samples 60] [--warmup 10]
//
// --data is an embedded store's data directory (as for test/bench/timeline.bench.ts), opened as it is. For random
// decisions of the store, timelineWithEvidence runs as `decisiontrail timeline` runs it, and each statement it sends
// is timed on its own (wall, and the process's CPU: the engine runs in this process) with the engine's counters
// (system.events) read before and after it: the time spent parsing, analysing, planning, optimising the plan and
// building the pipeline, filtering marks by the primary key and by skip indexes, and the marks and bytes read. A
// trivial statement (`SELECT {x:String}`) after each timeline gives the floor every statement pays. The counter
// reads run between the statements, so the timeline's own total is not measured here (timeline.bench.ts does).
// Wall and CPU figures from a loaded machine are not valid figures; the load average is printed before and after.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { openStore } from '@decisiontrail/clickhouse';
import { engineEvents, spreadDecisionIds } from './timeline-samples.ts';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    samples: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
  },
});
if (args.data === undefined) throw new Error('--data DIR: the data directory of an existing store');
const SAMPLES = Number(args.samples);
const WARMUP = Number(args.warmup);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

const store = await openStore({ dataDir: args.data, migrate: false });
const client = store.client;
const query = client.query.bind(client);
const rows = async <T>(sql: string, params: Record<string, string> = {}): Promise<T[]> =>
  (await query({ query: sql, query_params: params, format: 'JSONEachRow' })).json<T>();

/** Engine counters read around each statement; the times are microseconds. */
const COUNTERS = {
  parse: 'QueryParseMicroseconds',
  analysis: 'QueryAnalysisMicroseconds',
  'plan build': 'QueryPlanBuildMicroseconds',
  'plan optimize': 'QueryPlanOptimizeMicroseconds',
  'pipeline build': 'QueryPipelineBuildMicroseconds',
  'marks by key': 'FilteringMarksWithPrimaryKeyMicroseconds',
  'marks by skip index': 'FilteringMarksWithSecondaryKeysMicroseconds',
  marks: 'SelectedMarks',
  'bytes decompressed': 'CompressedReadBufferBytes',
} as const;
const EVENTS = Object.values(COUNTERS);
const counters = (): Promise<Map<string, number>> => engineEvents(rows, EVENTS);

interface StatementCost {
  wall: number;
  cpu: number;
  events: Map<string, number>;
}
/** The statements of the timeline being read, in the order it sent them. */
let sent: StatementCost[] | undefined;
client.query = (async (params: Parameters<typeof query>[0]) => {
  if (sent === undefined) return query(params);
  const before = await counters();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await query(params);
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const after = await counters();
  sent.push({
    wall,
    cpu: (used.user + used.system) / 1000,
    events: new Map(EVENTS.map((e) => [e, (after.get(e) ?? 0) - (before.get(e) ?? 0)])),
  });
  return result;
}) as typeof client.query;

// Decisions spread over the whole store, as timeline.bench.ts picks them.
const { total: n, ids } = await spreadDecisionIds(rows, SAMPLES + WARMUP);
console.log(
  `decisiontrail timeline statements: ${n.toLocaleString('en-US')} decisions in ${args.data}; ` +
    `load average ${load()}; ${ids.length - WARMUP} samples after ${WARMUP}`,
);

/** By the statement's place in the timeline's order (the fourth is only sent for a leaf no checkpoint read holds). */
const NAMES = [
  '1 locate (audit_decisions, audit_decision_links)',
  '2 trace read (otel_traces)',
  '3 checkpoints, deployments, incidents',
  '4 first checkpoints above uncovered leaves',
];
const FLOOR = 'floor: SELECT {x:String}';
const costs = new Map<string, StatementCost[]>();
const add = (name: string, cost: StatementCost): void => {
  costs.set(name, [...(costs.get(name) ?? []), cost]);
};
for (const [i, id] of ids.entries()) {
  sent = [];
  await store.timelineWithEvidence({ decisionId: id });
  await (
    await client.query({ query: 'SELECT {x:String} AS x', query_params: { x: id }, format: 'JSONEachRow' })
  ).json();
  const floor = sent.pop() as StatementCost;
  if (i >= WARMUP) {
    for (const [k, cost] of sent.entries()) add(NAMES[k] ?? `${k + 1} (unexpected)`, cost);
    add(FLOOR, floor);
  }
  sent = undefined;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
const p = (values: number[], digits: number): string =>
  `${percentile(values, 50).toFixed(digits)} / ${percentile(values, 95).toFixed(digits)}`;
const names = Object.keys(COUNTERS) as (keyof typeof COUNTERS)[];
console.log(
  `\n| per statement, p50 / p95 | timelines | wall ms | CPU ms | ${names.map((c) => (COUNTERS[c].endsWith('Microseconds') ? `${c} ms` : c)).join(' | ')} |`,
);
console.log(`|---|---|---|---|${names.map(() => '---|').join('')}`);
for (const name of [...NAMES, FLOOR]) {
  const all = costs.get(name);
  if (all === undefined) continue;
  const cells = names.map((c) => {
    const event = COUNTERS[c];
    const values = all.map((cost) => cost.events.get(event) ?? 0);
    if (event.endsWith('Microseconds'))
      return p(
        values.map((v) => v / 1000),
        2,
      );
    if (event === 'CompressedReadBufferBytes')
      return `${p(
        values.map((v) => v / 1e6),
        2,
      )} MB`;
    return p(values, 0);
  });
  console.log(
    `| ${name} | ${all.length} | ${p(
      all.map((c) => c.wall),
      1,
    )} | ${p(
      all.map((c) => c.cpu),
      1,
    )} | ${cells.join(' | ')} |`,
  );
}
console.log(`\nload average after: ${load()}`);
await store.close();
