import { createHash } from 'node:crypto';
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

describe('shipped migrations', () => {
  // SHA-256 of each migration's statements as shipped (single node, then cluster `prod`). A
  // migration is append-only: an edit to a file it renders — including files it includes, such as
  // the views' SELECTs that the audit reconciliation renders too — must go into a new migration.
  const shipped = {
    single: [
      '8414c24dd04f6a914abea71dd355f97a7aa8bb4791d3429cd3709429da49a31e',
      '7fc8e637687dab1ca041372a3bbf4f6bdc2497180a78f520a1a417a6b54b8c6d',
      '4129606c25c8f299e045c744a3e8ffd2402cd226ec7041a1e2df34b38839fe6f',
      'e9ccc8cd02c49fd89951888e7dd522b18e71a19710dd88bd34c376e429511178',
      'e574e10268f8a478ae0679e4c2a89024cd0aed65286f0b2bcbac9d16197dfe1f',
      '4584e485b746cd1ceeef89d959f6cd6cd0010ce4c35e962d3279af39a1151595',
      '4fb6f2a3959b308f3adf508f26281d81a751842f3c28bb338d17781d20e4a880',
      '4fb6f2a3959b308f3adf508f26281d81a751842f3c28bb338d17781d20e4a880',
    ],
    prod: [
      '78057fb6800ce16c12ca474655e11eb40b918138b7c0971699b94c3f73628514',
      '676a737526ea955e1e3e65de8e807c3b7f2404a0996f241e9226ce9c02f79871',
      '2afce4a83e1c68b323d323a8b2c477d4f3cdc6de389761e0a3039653aeb6d9b0',
      '5935c0b973021f89770d5c281798cbba5b5ffba71d977a174d22e366b14c2443',
      '68ce99d422ee77b054a6065e842a558d1cae11bb25db0b991818bc509e5940af',
      '32fcee66c2de5e9513d7ffb7a1ca3c6bbac0e9b6497260f1d4df4956db3648ff',
      '0318fb75a9ee1173b18f5fa6b05c4f78ed69cb1b4404e61ea41d2c6b5d555525',
      '0318fb75a9ee1173b18f5fa6b05c4f78ed69cb1b4404e61ea41d2c6b5d555525',
    ],
  };

  it('render exactly as they were shipped', () => {
    const retention = { standard: 180, high_risk: 3650, incident: null, permanent: null };
    for (const [cluster, hashes] of Object.entries(shipped)) {
      const context = renderContext({
        database: 'decisiontrail',
        cluster: cluster === 'single' ? undefined : cluster,
        retention,
      });
      const rendered = MIGRATIONS.slice(0, hashes.length).map((m) =>
        createHash('sha256').update(migrationStatements(m, context).join('\n;\n')).digest('hex'),
      );
      expect(rendered, cluster).toEqual(hashes);
    }
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
