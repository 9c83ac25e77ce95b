import { CliError, parseTimeArgument, parseTimeRange } from '@decisiontrail/cli/internal';
import { describe, expect, it } from 'vitest';

const NOW = new Date('2026-03-15T12:00:00.000Z');

describe('parseTimeArgument', () => {
  it.each([
    ['2026-03-01', '2026-03-01T00:00:00.000Z'],
    ['2026-03-01T14:30:00Z', '2026-03-01T14:30:00.000Z'],
    ['2026-03-01T14:30', '2026-03-01T14:30:00.000Z'],
    ['2026-03-01 14:30:05.25', '2026-03-01T14:30:05.250Z'],
    ['2026-03-01T14:30+01:00', '2026-03-01T13:30:00.000Z'],
    ['2026-03-01T14:30:00-0230', '2026-03-01T17:00:00.000Z'],
    ['now', '2026-03-15T12:00:00.000Z'],
    ['7d', '2026-03-08T12:00:00.000Z'],
    ['now-36h', '2026-03-14T00:00:00.000Z'],
    ['90m', '2026-03-15T10:30:00.000Z'],
    ['2w', '2026-03-01T12:00:00.000Z'],
  ])('%s -> %s', (text, iso) => {
    expect(parseTimeArgument('--from', text, NOW).toISOString()).toBe(iso);
  });

  it.each(['2026-02-30', '2026-13-01', 'yesterday', '2026-03-01T25:00', '7 days', '', '2026-3-1', '1e9'])(
    'rejects %j with a usage error naming the option',
    (text) => {
      let error: unknown;
      try {
        parseTimeArgument('--to', text, NOW);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(2);
      expect((error as CliError).message).toMatch(/^--to: malformed time/);
    },
  );

  it('rejects a reversed range', () => {
    expect(() => parseTimeRange('2026-03-10', '2026-03-01', { from: NOW, to: NOW }, NOW)).toThrow(
      /must be before --to/,
    );
    expect(
      parseTimeRange(
        undefined,
        '2026-03-10',
        { from: new Date('2026-03-01'), to: NOW },
        NOW,
      ).to.toISOString(),
    ).toBe('2026-03-10T00:00:00.000Z');
  });
});
