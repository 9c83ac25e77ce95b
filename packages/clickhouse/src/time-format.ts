/**
 * Decimal nanoseconds → `seconds.nanoseconds`, the one numeric DateTime64 input form that ClickHouse
 * never misreads (a bare integer is taken as seconds or as ticks depending on its length).
 */
export function nanosToDateTime64(nanos: string): string {
  const value = BigInt(nanos);
  const seconds = value / 1_000_000_000n;
  const fraction = (value % 1_000_000_000n).toString().padStart(9, '0');
  return `${seconds}.${fraction}`;
}

/** A JS date as a DateTime64(3) input value. */
export function dateToDateTime64(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid date');
  return nanosToDateTime64((BigInt(ms) * 1_000_000n).toString());
}
