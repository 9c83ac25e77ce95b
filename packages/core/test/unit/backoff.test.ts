import { describe, expect, it } from 'vitest';
import { Backoff } from '@decisiontrail/core';

describe('Backoff', () => {
  it('doubles from the first wait up to the maximum, and starts over after reset', () => {
    const backoff = new Backoff({ initialMs: 200, maxMs: 1000 });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      200, 400, 800, 1000, 1000,
    ]);
    backoff.reset();
    expect(backoff.next()).toBe(200);
  });

  it('with jitter, draws each wait from the upper half of its step', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 400, jitter: true });
    for (const step of [100, 200, 400, 400, 400]) {
      expect(backoff.stepMs).toBe(step);
      const wait = backoff.next();
      expect(wait).toBeGreaterThanOrEqual(step / 2);
      expect(wait).toBeLessThanOrEqual(step);
    }
  });

  it('follows a first wait above the maximum with the maximum', () => {
    const backoff = new Backoff({ initialMs: 600_000, maxMs: 30_000 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([600_000, 30_000, 30_000]);
  });

  it('refuses a negative wait', () => {
    expect(() => new Backoff({ initialMs: -1, maxMs: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 1, maxMs: Number.NaN })).toThrow(RangeError);
  });
});
