import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, parseConfig } from '@decisiontrail/core';

function issuesOf(source: string): { path: string; message: string }[] {
  try {
    parseConfig(source, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('driftFeatures in decisiontrail.yaml', () => {
  it('is empty unless a model opts in, and keeps each model’s list as written', () => {
    expect(defaultConfig({ baseDir: '/app', env: {} }).driftFeatures).toEqual({});
    const config = parseConfig(
      'driftFeatures:\n  credit-risk: [income_10k, debt_to_income, latePayments-12m]\n  fraud: [amountBand]\n',
      { env: {} },
    );
    expect(config.driftFeatures).toEqual({
      'credit-risk': ['income_10k', 'debt_to_income', 'latePayments-12m'],
      fraud: ['amountBand'],
    });
  });

  it('refuses names that read as identifiers or personal details, in any spelling of the word', () => {
    const issues = issuesOf(
      'driftFeatures:\n  m: [customer_id, emailDomain, Home.Address, ipCount, income, zip-code, valid_amount]\n',
    );
    expect(issues.map((i) => i.path)).toEqual([
      'driftFeatures.m[0]',
      'driftFeatures.m[1]',
      'driftFeatures.m[2]',
      'driftFeatures.m[3]',
      'driftFeatures.m[5]',
    ]);
    expect(issues[0]!.message).toBe(
      '"customer_id" reads as an identifier or personal detail ("id"): drift features are recorded whatever the ' +
        'capture mode, so list only non-identifying numbers',
    );
    expect(issues[1]!.message).toMatch(/\("email"\)/);
    expect(issues[4]!.message).toMatch(/\("zip"\)/);
  });

  it('names malformed lists and values by path', () => {
    expect(issuesOf('driftFeatures: [income]')).toEqual([
      { path: 'driftFeatures', message: 'expected a mapping of model id to feature names, got list' },
    ]);
    expect(issuesOf('driftFeatures: { m: income }')).toEqual([
      { path: 'driftFeatures.m', message: 'expected a list, got string' },
    ]);
    expect(issuesOf('driftFeatures: { m: [] }')).toEqual([
      { path: 'driftFeatures.m', message: 'must name at least one feature' },
    ]);
    expect(issuesOf('driftFeatures: { m: [income, income] }')).toEqual([
      { path: 'driftFeatures.m', message: 'lists "income" twice' },
    ]);
    expect(issuesOf('driftFeatures: { m: ["income band", 3] }')).toEqual([
      {
        path: 'driftFeatures.m[0]',
        message: 'expected a feature name (letters, digits, _ . -), got "income band"',
      },
      { path: 'driftFeatures.m[1]', message: 'expected a string, got number' },
    ]);
  });
});
