import { describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  migrationStatements,
  populationStabilityIndex,
  renderContext,
  reportingDeadlineDays,
  resolveStoreOptions,
} from '@decisiontrail/clickhouse';

describe('migration rendering', () => {
  const context = renderContext({
    database: 'default',
    cluster: undefined,
    retention: resolveStoreOptions({ retention: { standard: 30, permanent: 36500 } }).retention,
  });
  const all = MIGRATIONS.flatMap((m) => migrationStatements(m, context)).join('\n');

  it('resolves every placeholder and every semconv name', () => {
    expect(all).not.toMatch(/\{\{/);
    expect(all).toContain("SpanAttributes['audit.record.type'] = 'decision'");
    expect(all).toContain("SpanAttributes['audit.decision.id'] AS decision_id");
  });

  it('gives the rollup view and its backfill the same aggregate columns', () => {
    const rollup = MIGRATIONS.find((m) => m.name === 'decision_stats_rollup')!;
    const [view, backfill] = migrationStatements(rollup, context).slice(-2);
    const columns = (statement: string | undefined) => /SELECT\n([\s\S]*?)\nFROM /.exec(statement ?? '')?.[1];
    expect(columns(view)).toContain('count() AS decisions');
    expect(columns(view)).toContain('AS confidence_quantiles');
    expect(columns(backfill)).toBe(columns(view));
  });

  it('turns configured retention days into TTL expressions, null into never', () => {
    expect(all).toContain("retention_class = 'permanent', toDateTime(time) + toIntervalDay(36500)");
    expect(all).toContain("retention_class = 'incident', toDateTime('2106-01-01 00:00:00', 'UTC')");
    expect(all).toContain('toDateTime(time) + toIntervalDay(30))');
    // The lookup table only expires when every class does.
    expect(all).not.toContain('TTL toDateTime(Start)');
    const finite = renderContext({
      ...context,
      retention: { standard: 10, high_risk: 20, incident: 30, permanent: 40 },
    });
    expect(migrationStatements(MIGRATIONS[0]!, finite).join('\n')).toContain(
      'TTL toDateTime(Start) + toIntervalDay(40)',
    );
  });
});

describe('populationStabilityIndex', () => {
  it('is zero for identical distributions and grows with the shift', () => {
    expect(populationStabilityIndex([0.5, 0.5], [0.5, 0.5])).toBe(0);
    const small = populationStabilityIndex([0.5, 0.5], [0.55, 0.45]);
    const large = populationStabilityIndex([0.5, 0.5], [0.9, 0.1]);
    expect(small).toBeCloseTo(0.05 * Math.log(0.55 / 0.5) - 0.05 * Math.log(0.45 / 0.5), 12);
    expect(large).toBeGreaterThan(0.25);
  });

  it('stays finite when a bin is empty on one side', () => {
    expect(Number.isFinite(populationStabilityIndex([1, 0], [0, 1]))).toBe(true);
  });
});

describe('reportingDeadlineDays (EU AI Act Art. 73)', () => {
  it.each([
    ['death', 10],
    ['critical_infrastructure', 2],
    ['widespread_infringement', 2],
    ['serious_harm', 15],
    ['malfunction', 15],
  ] as const)('%s → %i days', (category, days) => {
    expect(reportingDeadlineDays(category)).toBe(days);
  });
});
