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

/** Formats a model's confidence (0..1) with three decimals, or an em dash when the decision has none. */
export function formatConfidence(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : value.toFixed(3);
}
