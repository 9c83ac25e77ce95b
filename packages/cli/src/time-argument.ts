import { usageError } from './cli-error.ts';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses a time given on the command line. Accepted forms:
 * - `2026-03-01` (midnight UTC), `2026-03-01T14:30:00Z`, `2026-03-01T14:30+01:00`, `2026-03-01 14:30` (UTC when no
 *   offset is given: audit times are UTC throughout);
 * - `now`, and a span back from now: `90m`, `36h`, `7d`, `2w` (also written `now-7d`).
 * Anything else, including calendar-impossible dates such as 2026-02-30, is a usage error naming the option.
 */
export function parseTimeArgument(option: string, text: string, now: Date = new Date()): Date {
  const trimmed = text.trim();
  if (trimmed === 'now') return new Date(now.getTime());
  const relative = /^(?:now-)?(\d+)([smhdw])$/.exec(trimmed);
  if (relative !== null) return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2]!]!);
  const match = ISO.exec(trimmed);
  if (match !== null) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = match;
    const offset = zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
    const millis = fraction === '' ? '' : fraction.slice(0, 4).padEnd(4, '0');
    const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${millis}${offset}`);
    // Date() rolls 2026-02-30 over to March; reject instead of guessing.
    const calendar = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
    const valid =
      !Number.isNaN(date.getTime()) &&
      calendar.getUTCMonth() === Number(mo) - 1 &&
      calendar.getUTCDate() === Number(d) &&
      Number(h) < 24 &&
      Number(mi) < 60 &&
      Number(s) < 60;
    if (valid) return date;
  }
  throw usageError(
    `${option}: malformed time ${JSON.stringify(text)}; use an ISO date or time such as 2026-03-01 or 2026-03-01T14:30:00Z, "now", or a span back from now such as 7d`,
  );
}

/** Parses `--from`/`--to` together and checks that the range is not reversed. */
export function parseTimeRange(
  from: string | undefined,
  to: string | undefined,
  defaults: { from: Date; to: Date },
  now: Date = new Date(),
): { from: Date; to: Date } {
  const range = {
    from: from === undefined ? defaults.from : parseTimeArgument('--from', from, now),
    to: to === undefined ? defaults.to : parseTimeArgument('--to', to, now),
  };
  if (range.from.getTime() >= range.to.getTime()) {
    throw usageError(`--from (${range.from.toISOString()}) must be before --to (${range.to.toISOString()})`);
  }
  return range;
}
