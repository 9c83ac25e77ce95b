import { defineConfig } from 'vitest/config';

// Every package's source runs untranspiled through the `@decisiontrail/source` export condition,
// so tests never depend on a prior build. Stores are opened only in forked workers: the embedded
// ClickHouse engine binds one data directory to one process.
const shared = {
  resolve: { conditions: ['@decisiontrail/source'] },
  ssr: { resolve: { conditions: ['@decisiontrail/source'] } },
};

export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: ['packages/*/test/unit/**/*.test.ts', 'test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          include: ['packages/*/test/integration/**/*.test.ts', 'test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
