// The span worker's share of the processor's CPU, on one thread with nothing else in the process: drained batches
// of signed decision spans decoded from OTLP protobuf, deduplicated, verified (every leaf recomputed, the Merkle
// tree, each checkpoint's signature) and encoded as the store's Native block — `BatchPreparer.prepare`, what the
// `dt-span-worker` thread runs for each drained batch of `decisiontrail serve`.
//
//   npm exec -- node --conditions=@decisiontrail/source test/bench/span-worker.bench.ts [--spans 100000]
//       [--drain-batch 20000] [--rounds 6] [--baseline <dir>]
//
// The spans are real SDK decision spans signed by the SigningSpanExporter in 500-span requests (leaves and a
// checkpoint span each, ≈ 780 bytes of protobuf per span, as `bench:processor` sends them). Each round prepares
// the whole stream in drained batches of `--drain-batch` spans with a fresh verifier, and reports the process's CPU
// (`process.cpuUsage`: this thread and V8's helper threads, garbage collection included) per stored span, and
// a digest of the blocks (equal digests: the same rows were built).
//
// `--baseline <dir>`: a source tree of an earlier commit (`git archive <commit> packages | tar -x -C <dir>`, then
// `ln -s $PWD/node_modules <dir>/`); its processor package's `BatchPreparer`, pipeline, integrity checker and
// decoder are measured in alternate rounds beside the current ones, in the same process (both over the current
// core and clickhouse packages, which the symlinked node_modules resolve to). To compare core and clickhouse too,
// give the tree a `node_modules` of its own whose `@decisiontrail` links (copied with `cp -P`) point into it and
// whose other entries link to this checkout's.
//
// `--current <dir>`: the "now" arm from such a tree too, instead of this checkout. The checkout's core also signed
// the spans before the clock started (other record shapes through the same functions), which left its code
// ≈ 2–3 µs per span slower than an identical copy's (A/A, 2026-12-07): for a change to core, compare two copies.
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultConfig, parseVerifierKey } from '@decisiontrail/core';
import { BODY_ENCODING } from '@decisiontrail/processor/internal';
import {
  makeDecisionSpans,
  signBatches,
  testKey,
} from '../../packages/processor/test/support/signed-batches.ts';
import { toProtobuf } from '../../packages/processor/test/support/sdk-spans.ts';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '100000' },
    'drain-batch': { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '6' },
    baseline: { type: 'string' },
    current: { type: 'string' },
  },
});
const SPANS = Number(args.spans);
const DRAIN_BATCH = Number(args['drain-batch']);
const ROUNDS = Number(args.rounds);
const REQUEST_SPANS = 500;

interface Preparer {
  prepare(
    entries: { body: Uint8Array; encoding: number }[],
    replayDrops: undefined,
  ): Promise<{ store?: { block: Uint8Array; keys: string[] } | undefined; quarantine: unknown[] }>;
}
type PreparerFactory = () => Preparer;

/** A `BatchPreparer` as the span worker thread builds it (span-worker-thread.ts), from a tree's processor source. */
async function factory(root: string, vkey: string): Promise<PreparerFactory> {
  const src = (file: string) => import(pathToFileURL(resolve(root, 'packages/processor/src', file)).href);
  const [
    { AuditPipeline },
    { BatchPreparer },
    { ProcessorMetrics },
    { PolicyStage },
    { StreamIntegrityChecker },
  ] = await Promise.all([
    src('audit-pipeline.ts'),
    src('batch-preparer.ts'),
    src('metrics.ts'),
    src('policy-stage.ts'),
    src('integrity-checker.ts'),
  ]);
  const { stages } = defaultConfig().processor;
  return () => {
    const metrics = new ProcessorMetrics();
    const integrity = new StreamIntegrityChecker([parseVerifierKey(vkey)], undefined, () => undefined);
    const policy = new PolicyStage({ ...stages.policy, hmacKey: undefined });
    const pipeline = new AuditPipeline({ stages, integrity, policy, metrics });
    return new BatchPreparer({ pipeline, policy, metrics, store: true }) as Preparer;
  };
}

const { key, vkey } = testKey();
const started = performance.now();
const spans = [];
for (let done = 0; done < SPANS; done += 20_000)
  spans.push(...(await makeDecisionSpans(Math.min(20_000, SPANS - done))));
const bodies = (await signBatches(spans, key, REQUEST_SPANS)).map((batch) => toProtobuf(batch));
spans.length = 0;
const bodyBytes = bodies.reduce((sum, body) => sum + body.byteLength, 0);
console.log(
  `signed ${bodies.length} requests of ${REQUEST_SPANS} spans and a checkpoint in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
    `(${(bodyBytes / (bodies.length * (REQUEST_SPANS + 1))).toFixed(0)} B per span); drained batches of ${DRAIN_BATCH} spans`,
);

const arms: [string, PreparerFactory][] = [
  ['now', await factory(args.current ?? resolve(import.meta.dirname, '../..'), vkey)],
];
if (args.baseline !== undefined) arms.push([`baseline ${args.baseline}`, await factory(args.baseline, vkey)]);
const perRequest = Math.max(1, Math.floor(DRAIN_BATCH / (REQUEST_SPANS + 1)));
const figures = new Map<string, number[]>(arms.map(([name]) => [name, []]));
const digests = new Map<string, string>();
for (let round = 0; round < ROUNDS; round++) {
  // Alternating which arm goes first.
  for (const [name, make] of round % 2 === 0 ? arms : [...arms].reverse()) {
    const preparer = make();
    const digest = createHash('sha256');
    let stored = 0;
    const before = process.cpuUsage();
    for (let i = 0; i < bodies.length; i += perRequest) {
      const batch = await preparer.prepare(
        bodies.slice(i, i + perRequest).map((body) => ({ body, encoding: BODY_ENCODING.PROTOBUF })),
        undefined,
      );
      if (batch.quarantine.length > 0)
        throw new Error(`${name}: ${batch.quarantine.length} spans quarantined`);
      stored += batch.store?.keys.length ?? 0;
      if (batch.store !== undefined) digest.update(batch.store.block);
    }
    const cpu = process.cpuUsage(before);
    const perSpan = (cpu.user + cpu.system) / stored;
    // The first round of each arm warms up (compiles the code) and is not counted.
    if (round > 0 || ROUNDS === 1) figures.get(name)!.push(perSpan);
    digests.set(name, digest.digest('hex').slice(0, 16));
    console.log(
      `round ${round + 1} ${name}: ${stored} spans stored and verified, ${perSpan.toFixed(2)} µs of CPU per span`,
    );
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [name, values] of figures) {
  console.log(
    `${name}: median ${median(values).toFixed(2)} µs of CPU per span (min ${Math.min(...values).toFixed(2)}, ` +
      `max ${Math.max(...values).toFixed(2)}; rounds after the first), blocks ${digests.get(name)}`,
  );
}
console.log(
  `load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (2 cores)`,
);
