/** Formats a fraction as a percentage with one decimal, or an em dash when there is nothing to divide. */
export function formatPercent(value: number | null): string {
  return value === null ? '—' : `${(value * 100).toFixed(1)}%`;
}

/** Formats a count with thousands separators. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** Formats an ISO time as `2026-03-01 14:30:05Z` (UTC, seconds). */
export function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** Formats an ISO time as `2026-03-01 14:30:05.123Z` (UTC, milliseconds), for events close together. */
export function formatTimeMs(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}Z`;
}

/** Formats a rate with its 95% interval and sample size: `62.5% [48.1%–75.0%] n=40`, or `— (n=0)`. */
export function formatEstimate(e: {
  rate: number | null;
  n: number;
  low: number | null;
  high: number | null;
}): string {
  return e.rate === null
    ? '— (n=0)'
    : `${formatPercent(e.rate)} [${formatPercent(e.low)}–${formatPercent(e.high)}] n=${formatCount(e.n)}`;
}

/** Formats a model's confidence (0..1) with three decimals, or an em dash when the decision has none. */
export function formatConfidence(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : value.toFixed(3);
}
