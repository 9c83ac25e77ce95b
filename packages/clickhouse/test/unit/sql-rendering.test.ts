import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  migrationChecksum,
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

describe('released migrations', () => {
  it('give, from their files, exactly the checksum each was released with', () => {
    expect(MIGRATIONS.map((m) => `${m.version} ${migrationChecksum(m)}`)).toEqual(
      MIGRATIONS.map((m) => `${m.version} ${m.checksum}`),
    );
  });

  it('are numbered 1, 2, 3, … with distinct snake_case names', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
    expect(new Set(MIGRATIONS.map((m) => m.name)).size).toBe(MIGRATIONS.length);
    for (const m of MIGRATIONS) expect(m.name).toMatch(/^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/);
  });

  it("hold, verbatim, each materialized view's SELECT that the audit reconciliation renders from sql/", () => {
    // The reconciliation derives each audit table from otel_traces with the live *-select.sql; the view in the
    // store was created from a migration's frozen copy. A SELECT edited without a migration that replaces its
    // view would make the reconciliation compare stored rows with a different derivation.
    const sqlDir = join(import.meta.dirname, '../../sql');
    const expand = (file: string): string =>
      readFileSync(join(sqlDir, file), 'utf8').replace(
        /\{\{include:([^}]*)\}\}/g,
        (_match, included: string) => expand(included).trim(),
      );
    const frozen = readdirSync(join(sqlDir, 'migrations'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'));
    const selects = readdirSync(sqlDir).filter((file) => file.endsWith('-select.sql'));
    expect(selects.length).toBeGreaterThanOrEqual(10);
    const unmatched = selects.filter((file) => !frozen.some((text) => text.includes(expand(file).trim())));
    expect(unmatched).toEqual([]);
  });

  // SHA-256 of each migration's statements as rendered (single node, then cluster `prod`). The
  // checksums above pin the files; these pin what the renderer makes of them. Migrations 1–6 and 8
  // render byte for byte as before their files were frozen under sql/migrations/; 7 is its SQL as
  // released (the shared file it read had since been rewritten for 8 and 9).
  const shipped = {
    single: [
      '8414c24dd04f6a914abea71dd355f97a7aa8bb4791d3429cd3709429da49a31e',
      '7fc8e637687dab1ca041372a3bbf4f6bdc2497180a78f520a1a417a6b54b8c6d',
      '4129606c25c8f299e045c744a3e8ffd2402cd226ec7041a1e2df34b38839fe6f',
      'e9ccc8cd02c49fd89951888e7dd522b18e71a19710dd88bd34c376e429511178',
      'e574e10268f8a478ae0679e4c2a89024cd0aed65286f0b2bcbac9d16197dfe1f',
      '4584e485b746cd1ceeef89d959f6cd6cd0010ce4c35e962d3279af39a1151595',
      '51c8c6fd1378513ec4f5bc7bfe2ec5fd347ff0ed6a34331cc245edb487737428',
      '4fb6f2a3959b308f3adf508f26281d81a751842f3c28bb338d17781d20e4a880',
      '5e276c1ac83d460d605ea92aea5af42f7f41ccbb4599ea7a5f4ca66e086104c3',
      '88d6145b6bb6e0310edd718986e112f472cb0c9e971a747057aa49ec89580f5f',
    ],
    prod: [
      '78057fb6800ce16c12ca474655e11eb40b918138b7c0971699b94c3f73628514',
      '676a737526ea955e1e3e65de8e807c3b7f2404a0996f241e9226ce9c02f79871',
      '2afce4a83e1c68b323d323a8b2c477d4f3cdc6de389761e0a3039653aeb6d9b0',
      '5935c0b973021f89770d5c281798cbba5b5ffba71d977a174d22e366b14c2443',
      '68ce99d422ee77b054a6065e842a558d1cae11bb25db0b991818bc509e5940af',
      '32fcee66c2de5e9513d7ffb7a1ca3c6bbac0e9b6497260f1d4df4956db3648ff',
      '3b537d09a6cbe8f25f3e285cd90d86c3bed05e19cd2ecc9a9b787e70df061bd3',
      '0318fb75a9ee1173b18f5fa6b05c4f78ed69cb1b4404e61ea41d2c6b5d555525',
      '09be6ce88c62e93e03d8e627f54e03e81f768bfbaba0a63273fc45304a49ef8a',
      'dc81bf11b7daf941d28cebaf11b41098bc16421c5ff470394687225ef3852427',
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
