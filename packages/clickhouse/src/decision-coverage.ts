import { SPAN_NAME_AUDIT_COUNT } from '@decisiontrail/semconv';
import { decisionFilterParams, type DecisionFilter } from './decision-queries.ts';
import type { QueryContext } from './query-context.ts';
import { readSqlFile } from './sql-template.ts';

/** The targets a deployment is held to: every decision recorded, and over 99 % of records complete. */
export const RECORD_KEEPING_TARGETS = { coverage: 1, completeness: 0.99 } as const;

/** Decision coverage and record completeness of one model version over a period (EU AI Act Art. 12). */
export interface ModelRecordKeeping {
  modelId: string;
  modelVersion: string;
  /** Distinct decisions of the model version stored in the period. */
  decisions: number;
  coverage: {
    /**
     * Decisions the producers counted in the measured ranges: the differences of the running totals of their
     * signed `audit.count` records (read from the store, not re-verified here; `decisiontrail verify` checks them).
     */
    counted: number;
    /** Of the counted ranges, the decisions stored (distinct leaves). */
    stored: number;
    /** `stored / counted`; null when nothing was counted — not measured, never 100 %. */
    ratio: number | null;
    /**
     * Decisions stored in the period that no count measures: unsigned, from a stream that wrote no count
     * records (an older producer, another signer), or after their stream's last count record in the period.
     */
    notMeasured: number;
    /** Integrity streams whose counts were compared. */
    streams: number;
    /** Stream and model pairs whose count records contradict each other (a total that went down): not compared. */
    inconsistentStreams: number;
    /** Decimal nanoseconds: the earliest start and latest end of what was compared ('' when nothing was). */
    fromUnixNano: string;
    toUnixNano: string;
  };
  completeness: {
    /** Decisions stored in the period (those the ratio is over). */
    decisions: number;
    /** Decisions serve's completeness check flagged at ingest (`audit.completeness.missing`). */
    incomplete: number;
    /** Share of the decisions not flagged; null when none is stored. */
    ratio: number | null;
    /** Per required attribute: how many decisions lacked it (a decision can lack several), most first. */
    missing: Record<string, number>;
  };
}

/** Coverage and completeness of every model version with decisions stored or counted in a period. */
export interface RecordKeeping {
  targets: { coverage: number; completeness: number };
  models: ModelRecordKeeping[];
}

interface CountRangeRow {
  stream: string;
  model_id: string;
  model_version: string;
  has_base: boolean | number;
  base_seq: string;
  base_count: string;
  end_seq: string;
  end_count: string;
  end_ns: string;
  first_start_ns: string;
}

interface StoredRow {
  range: number;
  stored: string;
  stored_in_period: string;
}

interface CompletenessRow {
  model_id: string;
  model_version: string;
  incomplete: string;
  missing: Record<string, string | number>;
}

const COUNT_RANGES_SQL = readSqlFile('report-count-ranges.sql');
const COVERAGE_STORED_SQL = readSqlFile('report-coverage-stored.sql');
const COMPLETENESS_SQL = readSqlFile('report-completeness.sql');

const keyOf = (modelId: string, modelVersion: string): string => `${modelId}\u0000${modelVersion}`;

/**
 * Decision coverage — the decisions stored against the decisions their producers counted (signed
 * `audit.count` records, compared range by range within each integrity stream) — and record completeness
 * (the decisions serve flagged at ingest as lacking a required attribute, attribute by attribute), per model
 * version. `stored` gives the period's stored decisions per model version as the report counted them.
 */
export async function recordKeeping(
  ctx: QueryContext,
  filter: DecisionFilter,
  stored: readonly { modelId: string; modelVersion: string; decisions: number }[],
): Promise<RecordKeeping> {
  const params = decisionFilterParams(filter);
  const models = new Map<string, ModelRecordKeeping>();
  const model = (modelId: string, modelVersion: string): ModelRecordKeeping => {
    const key = keyOf(modelId, modelVersion);
    let entry = models.get(key);
    if (entry === undefined) {
      entry = {
        modelId,
        modelVersion,
        decisions: 0,
        coverage: {
          counted: 0,
          stored: 0,
          ratio: null,
          notMeasured: 0,
          streams: 0,
          inconsistentStreams: 0,
          fromUnixNano: '',
          toUnixNano: '',
        },
        completeness: { decisions: 0, incomplete: 0, ratio: null, missing: {} },
      };
      models.set(key, entry);
    }
    return entry;
  };
  for (const s of stored) model(s.modelId, s.modelVersion).decisions += s.decisions;

  const rows = await ctx.rows<CountRangeRow>(COUNT_RANGES_SQL, {
    ...params,
    count_span: SPAN_NAME_AUDIT_COUNT,
  });
  const ranges: (CountRangeRow & { low: bigint; counted: number })[] = [];
  for (const row of rows) {
    const hasBase = Boolean(Number(row.has_base));
    const counted = Number(row.end_count) - (hasBase ? Number(row.base_count) : 0);
    const entry = model(row.model_id, row.model_version);
    if (counted < 0) {
      entry.coverage.inconsistentStreams += 1;
      continue;
    }
    ranges.push({ ...row, low: hasBase ? BigInt(row.base_seq) + 1n : 0n, counted });
  }
  const inPeriod = new Map<string, number>();
  if (ranges.length > 0) {
    const storedRows = await ctx.rows<StoredRow>(COVERAGE_STORED_SQL, {
      ...params,
      streams: ranges.map((r) => r.stream),
      models: ranges.map((r) => r.model_id),
      versions: ranges.map((r) => r.model_version),
      lows: ranges.map((r) => String(r.low)),
      highs: ranges.map((r) => r.end_seq),
      first_ns: ranges
        .map((r) => BigInt(r.first_start_ns))
        .reduce((a, b) => (b < a ? b : a))
        .toString(),
      last_ns: ranges
        .map((r) => BigInt(r.end_ns))
        .reduce((a, b) => (b > a ? b : a))
        .toString(),
    });
    const storedByRange = new Map(storedRows.map((row) => [Number(row.range), row]));
    ranges.forEach((range, i) => {
      const found = storedByRange.get(i + 1);
      const coverage = model(range.model_id, range.model_version).coverage;
      coverage.counted += range.counted;
      coverage.stored += Number(found?.stored ?? 0);
      coverage.streams += 1;
      coverage.fromUnixNano = minNs(coverage.fromUnixNano, range.first_start_ns);
      coverage.toUnixNano = maxNs(coverage.toUnixNano, range.end_ns);
      const key = keyOf(range.model_id, range.model_version);
      inPeriod.set(key, (inPeriod.get(key) ?? 0) + Number(found?.stored_in_period ?? 0));
    });
  }
  const flagged = await ctx.rows<CompletenessRow>(COMPLETENESS_SQL, params);
  const incomplete = new Map(flagged.map((row) => [keyOf(row.model_id, row.model_version), row]));

  for (const [key, entry] of models) {
    const { coverage, completeness } = entry;
    coverage.ratio = coverage.counted === 0 ? null : coverage.stored / coverage.counted;
    coverage.notMeasured = Math.max(0, entry.decisions - (inPeriod.get(key) ?? 0));
    const row = incomplete.get(key);
    completeness.decisions = entry.decisions;
    completeness.incomplete = Number(row?.incomplete ?? 0);
    completeness.ratio =
      entry.decisions === 0 ? null : (entry.decisions - completeness.incomplete) / entry.decisions;
    completeness.missing = Object.fromEntries(
      Object.entries(row?.missing ?? {})
        .map(([attribute, n]) => [attribute, Number(n)] as const)
        .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1)),
    );
  }
  return {
    targets: { ...RECORD_KEEPING_TARGETS },
    models: [...models.values()].sort((a, b) =>
      a.modelId === b.modelId ? (a.modelVersion < b.modelVersion ? -1 : 1) : a.modelId < b.modelId ? -1 : 1,
    ),
  };
}

function minNs(current: string, candidate: string): string {
  return current === '' || BigInt(candidate) < BigInt(current) ? candidate : current;
}

function maxNs(current: string, candidate: string): string {
  return current === '' || BigInt(candidate) > BigInt(current) ? candidate : current;
}
