// CPU per call measured in interleaved bare/instrumented batch pairs: the method the instrumentation benches share.
//
// On a loaded shared machine wall time says more about the neighbours than about the code, so every figure here is
// CPU time of the measuring process (process.cpuUsage(), user + system, all threads: the GC and the span
// processor's timers included) and, beside it, of its main thread alone (process.threadCpuUsage()). A batch of
// sequential calls runs bare and then instrumented (or the other way round, alternating), so both halves of a pair
// see the same load; several instrumentations ("arms") take turns inside one block in a rotating order, so the
// arms compared with each other are measured seconds apart, in the same process, against the same server. The
// figures reported are medians and quartiles of the per-pair differences and of the per-block ratios between arms.
// Every batch ends with the span processor flushed and a minor GC (when the process runs with --expose-gc), inside
// the timing: each batch pays for its own spans and its own young garbage instead of leaving them to the next one.
// Every batch is checked: a bare batch must leave no span of the instrumentation's scope, an instrumented one at
// least one per call (and, where asked, each carrying the audit attributes) — an arm that records nothing cannot
// come out free. Spans of other scopes are counted apart and printed: an SDK that traces itself (the Anthropic SDK
// does) leaves them in both states.
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { loadavg } from 'node:os';

/** The attribute every audit record (decision or action) carries: its presence shows the audit attributes were recorded. */
const AUDIT_MARKER = 'audit.record.type';

/** An exporter that drops spans after counting them by instrumentation scope, so no export I/O is measured. */
export class DiscardingExporter implements SpanExporter {
  exported = 0;
  /** Spans per instrumentation scope name. */
  readonly byScope = new Map<string, number>();
  /** Spans per instrumentation scope name that carry the audit attributes. */
  readonly auditedByScope = new Map<string, number>();

  export(spans: ReadableSpan[], resultCallback: (result: { code: 0 }) => void): void {
    for (const span of spans) {
      const scope = span.instrumentationScope.name;
      this.byScope.set(scope, (this.byScope.get(scope) ?? 0) + 1);
      if (span.attributes[AUDIT_MARKER] !== undefined) {
        this.auditedByScope.set(scope, (this.auditedByScope.get(scope) ?? 0) + 1);
      }
    }
    this.exported += spans.length;
    resultCallback({ code: 0 });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile by linear interpolation between the closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const fraction = position - below;
  // Exact ranks and equal neighbours need no interpolation (which would turn an infinite value into NaN).
  if (fraction === 0 || sorted[below] === sorted[below + 1]) return sorted[below]!;
  return sorted[below]! + (sorted[below + 1]! - sorted[below]!) * fraction;
}

/** The 1, 5 and 15 minute load averages, as printed beside the figures. */
export function loadAverage(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

/** CPU microseconds per call over one batch: the whole process and its main thread. */
export interface CpuSample {
  process: number;
  thread: number;
}

type Gc = (options?: { type: 'minor' | 'major'; execution: 'sync' }) => void;
const gc = (globalThis as { gc?: Gc }).gc;

/** Runs `calls` sequential calls, then `settle` (a span flush), then a minor GC; returns the CPU per call. */
export async function measureBatch(
  fn: () => Promise<unknown> | unknown,
  calls: number,
  settle: () => Promise<unknown> = () => Promise.resolve(),
): Promise<CpuSample> {
  const startProcess = process.cpuUsage();
  const startThread = process.threadCpuUsage();
  for (let i = 0; i < calls; i++) await fn();
  await settle();
  gc?.({ type: 'minor', execution: 'sync' });
  const usedProcess = process.cpuUsage(startProcess);
  const usedThread = process.threadCpuUsage(startThread);
  return {
    process: (usedProcess.user + usedProcess.system) / calls,
    thread: (usedThread.user + usedThread.system) / calls,
  };
}

/** What a paired comparison of one state against another measured (process CPU, µs per call). */
export interface PairedResult {
  bare: number;
  instrumented: number;
  overhead: number;
  spans: number;
}

/**
 * Alternates bare and instrumented batches of the same `fn` (after a warm-up of both) and pairs them up: the median
 * bare and instrumented batch and the median of the paired differences. For in-process benches that switch state.
 */
export async function paired(
  fn: () => Promise<unknown> | unknown,
  patch: () => void,
  unpatch: () => void,
  calls: number,
  pairs: number,
): Promise<Omit<PairedResult, 'spans'>> {
  patch();
  await measureBatch(fn, calls);
  unpatch();
  await measureBatch(fn, calls);
  const bare: number[] = [];
  const instrumented: number[] = [];
  const differences: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    // Alternate which state goes first, so a trend within the pair does not favour either.
    const bareFirst = pair % 2 === 0;
    let plain: number;
    let patched: number;
    if (bareFirst) {
      plain = (await measureBatch(fn, calls)).process;
      patch();
      patched = (await measureBatch(fn, calls)).process;
      unpatch();
    } else {
      patch();
      patched = (await measureBatch(fn, calls)).process;
      unpatch();
      plain = (await measureBatch(fn, calls)).process;
    }
    bare.push(plain);
    instrumented.push(patched);
    differences.push(patched - plain);
  }
  return { bare: median(bare), instrumented: median(instrumented), overhead: median(differences) };
}

/** One instrumentation measured against the same call bare. */
export interface Arm {
  name: string;
  bare: () => Promise<unknown>;
  /** The call while patched; the bare call when omitted. */
  instrumented?: () => Promise<unknown>;
  patch: () => void;
  unpatch: () => void;
  /** The instrumentation scope name its spans carry. */
  scope: string;
  /** Whether every span must carry the audit attributes. */
  audited?: boolean;
}

/** One arm's batches: index i of `bare` and `instrumented` is pair i, and pair i was measured in block i. */
export interface ArmPairs {
  name: string;
  bare: CpuSample[];
  instrumented: CpuSample[];
  /** Spans of the arm's scope its instrumented batches left, warm-up included. */
  spans: number;
  /** Spans of other scopes they left (an SDK's own spans: the Anthropic SDK traces itself). */
  otherSpans: number;
  /** Spans the bare batches left: none of the arm's scope, and this many of others. */
  bareOtherSpans: number;
}

/**
 * Measures every arm in `blocks` blocks after one warm-up block: in each, every arm (in an order that rotates from
 * block to block) runs one bare and one instrumented batch of `calls` calls, bare first in every other pair. Throws
 * when a bare batch left a span of the arm's scope, or an instrumented one fewer spans of its scope than calls (or
 * fewer with the audit attributes, where they are required).
 */
export async function runArms(
  arms: readonly Arm[],
  options: { blocks: number; calls: number; exporter: DiscardingExporter; flush: () => Promise<unknown> },
): Promise<ArmPairs[]> {
  const { blocks, calls, exporter, flush } = options;
  const results = arms.map(
    (arm) =>
      ({
        name: arm.name,
        bare: [],
        instrumented: [],
        spans: 0,
        otherSpans: 0,
        bareOtherSpans: 0,
      }) as ArmPairs,
  );
  for (const arm of arms) arm.unpatch();
  await flush();

  const checked = async (arm: Arm, result: ArmPairs, instrumented: boolean): Promise<CpuSample> => {
    const total = exporter.exported;
    const inScope = exporter.byScope.get(arm.scope) ?? 0;
    const audited = exporter.auditedByScope.get(arm.scope) ?? 0;
    const sample = await measureBatch(instrumented ? (arm.instrumented ?? arm.bare) : arm.bare, calls, flush);
    const left = exporter.exported - total;
    const fromScope = (exporter.byScope.get(arm.scope) ?? 0) - inScope;
    if (!instrumented) {
      if (fromScope !== 0)
        throw new Error(`${arm.name}: a bare batch of ${calls} calls left ${fromScope} spans`);
      result.bareOtherSpans += left;
      return sample;
    }
    if (fromScope < calls) {
      const scopes = JSON.stringify(Object.fromEntries(exporter.byScope));
      throw new Error(
        `${arm.name}: an instrumented batch of ${calls} calls left ${fromScope} spans of scope ${arm.scope} (spans by scope so far: ${scopes})`,
      );
    }
    const withAudit = (exporter.auditedByScope.get(arm.scope) ?? 0) - audited;
    if (arm.audited && withAudit < calls) {
      throw new Error(`${arm.name}: ${withAudit} of ${calls} calls recorded the audit attributes`);
    }
    result.spans += fromScope;
    result.otherSpans += left - fromScope;
    return sample;
  };

  for (let block = -1; block < blocks; block++) {
    for (let turn = 0; turn < arms.length; turn++) {
      const index = (turn + Math.max(block, 0)) % arms.length;
      const arm = arms[index]!;
      const result = results[index]!;
      const bareFirst = (block + turn) % 2 === 0;
      let plain: CpuSample;
      let patched: CpuSample;
      if (bareFirst) plain = await checked(arm, result, false);
      arm.patch();
      try {
        patched = await checked(arm, result, true);
      } finally {
        arm.unpatch();
      }
      if (!bareFirst) plain = await checked(arm, result, false);
      if (block < 0) continue; // the warm-up block
      result.bare.push(plain!);
      result.instrumented.push(patched);
    }
  }
  return results;
}

/** Median and quartiles. */
export interface Spread {
  median: number;
  p25: number;
  p75: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  return {
    median: median(values),
    p25: quantile(values, 0.25),
    p75: quantile(values, 0.75),
    n: values.length,
  };
}

/** Per-pair overheads (instrumented − bare) of one CPU measure, over the pairs of several children. */
export function overheads(children: readonly ArmPairs[], measure: keyof CpuSample): number[] {
  return children.flatMap((child) =>
    child.instrumented.map((sample, pair) => sample[measure] - child.bare[pair]![measure]),
  );
}

/**
 * Ours against a peer block by block: the ratio of the two overheads measured in the same block, over the blocks of
 * several children (`ours[i]` and `peer[i]` from the same child). A block where the peer's overhead came out zero
 * or below gives no ratio and is counted apart; `oursNotAbove` counts the blocks where ours cost at most the peer's.
 */
export function blockRatios(
  ours: readonly ArmPairs[],
  peer: readonly ArmPairs[],
  measure: keyof CpuSample,
): { ratios: number[]; undefinedBlocks: number; oursNotAbove: number; blocks: number } {
  const ratios: number[] = [];
  let undefinedBlocks = 0;
  let oursNotAbove = 0;
  let blocks = 0;
  ours.forEach((child, index) => {
    const theirs = peer[index]!;
    child.instrumented.forEach((sample, block) => {
      const ourOverhead = sample[measure] - child.bare[block]![measure];
      const theirOverhead = theirs.instrumented[block]![measure] - theirs.bare[block]![measure];
      blocks += 1;
      if (ourOverhead <= theirOverhead) oursNotAbove += 1;
      if (theirOverhead > 0) ratios.push(ourOverhead / theirOverhead);
      else undefinedBlocks += 1;
    });
  });
  return { ratios, undefinedBlocks, oursNotAbove, blocks };
}

/**
 * The ratio of the median overheads of ours and a peer with a 90 % bootstrap interval: blocks are drawn with
 * replacement (ours and the peer of one block together, so the load they shared stays paired), `resamples` times,
 * from a fixed seed so the same measurements always give the same interval.
 */
export function ratioOfMedians(
  ours: readonly ArmPairs[],
  peer: readonly ArmPairs[],
  measure: keyof CpuSample,
  resamples = 2000,
): { ratio: number; low: number; high: number } {
  const ourOverheads = overheads(ours, measure);
  const theirOverheads = overheads(peer, measure);
  const ratio = median(ourOverheads) / median(theirOverheads);
  let seed = 0x2545f491;
  const random = () => {
    // xorshift32: a reproducible stream, good enough for drawing indices.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const count = ourOverheads.length;
  const ratios: number[] = [];
  const a = new Array<number>(count);
  const b = new Array<number>(count);
  for (let resample = 0; resample < resamples; resample++) {
    for (let i = 0; i < count; i++) {
      const drawn = Math.floor(random() * count);
      a[i] = ourOverheads[drawn]!;
      b[i] = theirOverheads[drawn]!;
    }
    const theirs = median(b);
    // A resample whose peer median is zero or below has no ratio: it counts as ours above the peer.
    ratios.push(theirs > 0 ? median(a) / theirs : Number.POSITIVE_INFINITY);
  }
  return { ratio, low: quantile(ratios, 0.05), high: quantile(ratios, 0.95) };
}

/** "1.23 [1.01–1.40]" of a spread, with the given digits. */
export function formatSpread(value: Spread, digits: number, unit = ''): string {
  return `${value.median.toFixed(digits)}${unit} [${value.p25.toFixed(digits)}–${value.p75.toFixed(digits)}]`;
}
