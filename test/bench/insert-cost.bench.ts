// The embedded engine's CPU per span stored through the processor's insert path — otel_traces, its materialized
// views, the audit tables and rollups they fill, and the merges that follow — by insert size, and optionally with
// views left out, so the engine's share of `npm run bench:processor` can be taken apart without the processor's
// JavaScript or the load generator in the same process.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/insert-cost.bench.ts [--spans 200000]
//       [--inserts 10000,25000] [--rounds 2] [--without <view>,<view>] [--compare <view>,<view>]
//       [--set <setting>=<value>,…] [--compare-set <setting>=<value>,…]
//       [--table-set <setting>=<value>,…] [--compare-table-set <setting>=<value>,…] [--settle 8]
//
// The spans are real SDK decision spans signed by the SigningSpanExporter in 500-span batches (leaves and a
// checkpoint span each, as the processor bench sends them), encoded once for the sink (`encodeSpansForSink`, what
// the span worker hands the processor thread). Every round runs each insert size in a fresh child process with its
// own data directory (the embedded engine: one per process), the sizes alternating; the child writes the blocks
// one insert at a time through the store's sink (`writeEncoded`, as the processor's drain does), then waits
// `--settle` seconds for the merges the inserts started. CPU is `utime + stime` per thread of the child
// (/proc/<pid>/task), from before the first insert to the end of the wait, per span; the engine's threads are
// `ThreadPool` (the insert and the views) and `MergeMutate` (merges). `--without` drops the named materialized
// views before the inserts (to see what each costs); the stored rows are then not what the processor stores.
// `--compare` runs every size of every round twice, with the views of `--without` only and with the named views
// dropped as well, in alternating order (an A/B in one run), and prints the paired differences. `--set` applies
// query settings to the engine's session before the inserts (the sink's own settings still apply to each insert);
// `--compare-set` is an A/B of settings in the same way: each run once without them and once with them.
// `--table-set` and `--compare-table-set` do the same with MergeTree table settings, brought to every MergeTree
// table of the store (`ALTER TABLE … MODIFY SETTING`) after it opened, as the store's own embedded settings are.
// After the wait each run also prints what the merges did (merges finished and rows they wrote, from
// `system.events`) and the active parts left per table, so a setting that saves CPU by not merging shows as such.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore } from '@decisiontrail/clickhouse';
import { encodeSpansForSink } from '@decisiontrail/clickhouse/encoded-spans';
import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import {
  makeDecisionSpans,
  signBatches,
  testKey,
} from '../../packages/processor/test/support/signed-batches.ts';
import { threadCpu } from './thread-cpu.ts';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '200000' },
    inserts: { type: 'string', default: '10000,25000' },
    rounds: { type: 'string', default: '2' },
    without: { type: 'string', default: '' },
    compare: { type: 'string', default: '' },
    set: { type: 'string', default: '' },
    'compare-set': { type: 'string', default: '' },
    'table-set': { type: 'string', default: '' },
    'compare-table-set': { type: 'string', default: '' },
    settle: { type: 'string', default: '8' },
    child: { type: 'string' },
  },
});

/** CPU seconds per thread name of this process. */
function cpuByName(): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { name, seconds } of threadCpu(process.pid)) sums.set(name, (sums.get(name) ?? 0) + seconds);
  return sums;
}

interface ChildResult {
  rows: number;
  inserts: number;
  /** µs of CPU per span by thread name, and `total`. */
  perSpan: Record<string, number>;
  load: number;
  /** Merges finished and the rows they wrote, over the inserts and the wait. */
  merges: number;
  mergedRows: number;
  /** Active parts after the wait, in all tables and in the table with the most. */
  parts: number;
  mostParts: string;
}

/** A `system.events` counter of the engine (0 before it first counts). */
async function engineEvent(store: Awaited<ReturnType<typeof openStore>>, event: string): Promise<number> {
  const result = await store.client.query({
    query: 'SELECT sum(value) AS n FROM system.events WHERE event = {event:String}',
    query_params: { event },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

/** The child: one engine, the blocks of one insert size written in order. */
async function child(dir: string): Promise<void> {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.native'))
    .sort();
  const dataDir = mkdtempSync(join(tmpdir(), 'decisiontrail-insert-cost-'));
  try {
    const store = await openStore({ dataDir });
    for (const view of args.without.split(',').filter(Boolean)) {
      await store.client.command({ query: `DROP VIEW ${view}` });
    }
    if (args.set !== '') await store.client.command({ query: `SET ${args.set}` });
    if (args['table-set'] !== '') {
      const tables = await store.client.query({
        query:
          "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'",
        format: 'JSONEachRow',
      });
      for (const { name } of await tables.json<{ name: string }>()) {
        await store.client.command({ query: `ALTER TABLE \`${name}\` MODIFY SETTING ${args['table-set']}` });
      }
    }
    const blocks = files.map((name) => ({
      block: readFileSync(join(dir, name)),
      keys: JSON.parse(readFileSync(join(dir, name.replace('.native', '.keys')), 'utf8')) as string[],
    }));
    const sink = store.createSink({ maxBatchSize: 1, maxBufferedRows: 1, flushIntervalMs: 1 });
    const mergesBefore = await engineEvent(store, 'Merge');
    const mergedRowsBefore = await engineEvent(store, 'MergedRows');
    const before = cpuByName();
    let rows = 0;
    for (const block of blocks) {
      await sink.writeEncoded(block);
      rows += block.keys.length;
    }
    await new Promise((resolve) => setTimeout(resolve, Number(args.settle) * 1000));
    const after = cpuByName();
    const perSpan: Record<string, number> = {};
    let total = 0;
    for (const [name, seconds] of after) {
      const used = seconds - (before.get(name) ?? 0);
      total += used;
      perSpan[name] = (used / rows) * 1e6;
    }
    perSpan.total = (total / rows) * 1e6;
    const parts = await store.client.query({
      query:
        'SELECT table, count() AS n FROM system.parts WHERE database = currentDatabase() AND active ' +
        'GROUP BY table ORDER BY n DESC, table',
      format: 'JSONEachRow',
    });
    const byTable = await parts.json<{ table: string; n: string | number }>();
    const result: ChildResult = {
      rows,
      inserts: blocks.length,
      perSpan,
      load: loadavg()[0]!,
      merges: (await engineEvent(store, 'Merge')) - mergesBefore,
      mergedRows: (await engineEvent(store, 'MergedRows')) - mergedRowsBefore,
      parts: byTable.reduce((n, row) => n + Number(row.n), 0),
      mostParts: byTable[0] === undefined ? '' : `${byTable[0].table} ${byTable[0].n}`,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    await sink.close();
    await store.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const spans = Number(args.spans);
  const sizes = args.inserts.split(',').map(Number);
  const rounds = Number(args.rounds);
  if (!Number.isSafeInteger(spans) || spans < 1) throw new Error('--spans must be a positive integer');
  if (sizes.some((size) => !Number.isSafeInteger(size) || size < 1)) {
    throw new Error('--inserts must be positive integers, comma-separated');
  }
  const started = performance.now();
  const { key } = testKey();
  const records = [];
  // Signed in chunks of one stream so this process's memory stays modest.
  for (let done = 0; done < spans; done += 20_000) {
    const decided = await makeDecisionSpans(Math.min(20_000, spans - done));
    for (const batch of await signBatches(decided, key, 500)) {
      for (const span of batch) records.push(spanRecordFromReadableSpan(span));
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'decisiontrail-insert-cost-blocks-'));
  try {
    for (const size of sizes) {
      const dir = join(work, String(size));
      mkdirSync(dir);
      for (let i = 0, n = 0; i < records.length; i += size, n++) {
        const encoded = encodeSpansForSink(records.slice(i, i + size));
        const name = String(n).padStart(6, '0');
        writeFileSync(join(dir, `${name}.native`), encoded.block);
        writeFileSync(join(dir, `${name}.keys`), JSON.stringify(encoded.keys));
      }
    }
    console.log(
      `${records.length} signed spans (${spans} decisions and their checkpoints) encoded in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s` +
        (args.without === '' ? '' : `; views dropped: ${args.without}`),
    );
    if ([args.compare, args['compare-set'], args['compare-table-set']].filter((a) => a !== '').length > 1) {
      throw new Error('--compare, --compare-set and --compare-table-set: one A/B at a time');
    }
    // A variant is the views dropped and the settings set: `--without`'s and `--set`'s, and with `--compare` or
    // `--compare-set` also those.
    const join2 = (a: string, b: string) => [a, b].filter(Boolean).join(',');
    const base = { without: args.without, set: args.set, tableSet: args['table-set'] };
    const variants = [base];
    if (args.compare !== '') variants.push({ ...base, without: join2(args.without, args.compare) });
    if (args['compare-set'] !== '') variants.push({ ...base, set: join2(args.set, args['compare-set']) });
    if (args['compare-table-set'] !== '') {
      variants.push({ ...base, tableSet: join2(args['table-set'], args['compare-table-set']) });
    }
    const label = ({ without, set, tableSet }: { without: string; set: string; tableSet: string }) =>
      [
        without === '' ? 'all views' : `without ${without}`,
        set === '' ? '' : `set ${set}`,
        tableSet === '' ? '' : `tables ${tableSet}`,
      ]
        .filter(Boolean)
        .join(', ');
    const results = new Map<string, ChildResult[]>();
    for (const size of sizes) for (const variant of variants) results.set(`${size} ${label(variant)}`, []);
    for (let round = 0; round < rounds; round++) {
      // Alternating order, so a drift in the machine's load does not favour one size or variant.
      const order = round % 2 === 0 ? sizes : [...sizes].reverse();
      for (const size of order) {
        for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
          const out = execFileSync(
            process.execPath,
            [
              '--conditions=@decisiontrail/source',
              fileURLToPath(import.meta.url),
              '--child',
              join(work, String(size)),
              '--without',
              variant.without,
              '--set',
              variant.set,
              '--table-set',
              variant.tableSet,
              '--settle',
              args.settle,
            ],
            { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
          );
          const result = JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
          results.get(`${size} ${label(variant)}`)!.push(result);
          const p = result.perSpan;
          console.log(
            `round ${round + 1}, ${size}-span inserts (${result.inserts}), ${label(variant)}: ` +
              `${p.total!.toFixed(1)} µs per span — ` +
              `ThreadPool ${(p.ThreadPool ?? 0).toFixed(1)}, MergeMutate ${(p.MergeMutate ?? 0).toFixed(1)}, ` +
              `main ${(p.main ?? 0).toFixed(1)}; ${result.merges} merges wrote ${result.mergedRows} rows, ` +
              `${result.parts} active parts after (most: ${result.mostParts}); load ${result.load.toFixed(1)}`,
          );
        }
      }
    }
    for (const size of sizes) {
      for (const variant of variants) {
        const of = results.get(`${size} ${label(variant)}`)!;
        const pick = (name: string) => median(of.map((r) => r.perSpan[name] ?? 0)).toFixed(1);
        console.log(
          `${size}-span inserts, ${label(variant)}, median of ${of.length}: ${pick('total')} µs of CPU per span ` +
            `(ThreadPool ${pick('ThreadPool')}, MergeMutate ${pick('MergeMutate')})`,
        );
      }
      if (variants.length === 2) {
        const [a, b] = variants.map((variant) => results.get(`${size} ${label(variant)}`)!);
        const diffs = a!.map((r, i) => r.perSpan.total! - b![i]!.perSpan.total!);
        console.log(
          (args.compare !== ''
            ? `${size}-span inserts, what ${args.compare} cost per span, paired by round: `
            : `${size}-span inserts, what setting ${args['compare-set'] || args['compare-table-set']} saves per span, ` +
              'paired by round: ') +
            `${diffs.map((d) => d.toFixed(1)).join(', ')} µs (median ${median(diffs).toFixed(1)})`,
        );
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (args.child !== undefined) await child(args.child);
else await main();
