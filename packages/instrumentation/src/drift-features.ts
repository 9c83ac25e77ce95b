import type { Attributes } from '@opentelemetry/api';
import { ATTR_AUDIT_INPUT_FEATURES } from '@decisiontrail/semconv';
import type { ModelAuditConfig } from './types.ts';

/**
 * Records the allow-listed numeric features of a decision's input as `audit.input.features` (a JSON object, names
 * sorted), for input drift monitoring. Only names in the model's `driftFeatures` are taken, and only finite numbers:
 * from a plain object input by property name, or — for a tensor input (`{ name: { type, dims, data } }`, as the
 * ONNX instrumentation records feeds) with one row — by column, when `columns` names the columns of its single
 * `[1, n]` tensor (an ONNX model's `features` metadata). Anything else records nothing.
 */
export function recordDriftFeatures(
  target: Attributes,
  config: ModelAuditConfig,
  input: unknown,
  columns?: readonly string[],
): void {
  const allowed = config.driftFeatures;
  if (allowed === undefined || allowed.length === 0) return;
  const named = columns === undefined ? input : columnsOf(input, columns);
  if (typeof named !== 'object' || named === null || Array.isArray(named)) return;
  const values: Record<string, number> = {};
  for (const name of [...new Set(allowed)].sort()) {
    const value = (named as Record<string, unknown>)[name];
    if (typeof value === 'number' && Number.isFinite(value)) values[name] = value;
  }
  if (Object.keys(values).length > 0) target[ATTR_AUDIT_INPUT_FEATURES] = JSON.stringify(values);
}

/** The one `[1, n]` (or `[n]`) numeric tensor of a recorded feed set as `{ column: value }`, if there is exactly one. */
function columnsOf(input: unknown, columns: readonly string[]): Record<string, unknown> | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const rows = Object.values(input as Record<string, unknown>).filter((tensor) => {
    const t = tensor as { dims?: unknown; data?: unknown };
    if (!Array.isArray(t?.dims) || !Array.isArray(t.data) || t.data.length !== columns.length) return false;
    const dims = t.dims as unknown[];
    return (dims.length === 2 && dims[0] === 1) || dims.length === 1;
  }) as { data: unknown[] }[];
  if (rows.length !== 1) return undefined;
  return Object.fromEntries(columns.map((column, i) => [column, rows[0]!.data[i]]));
}
