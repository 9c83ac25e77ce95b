import type { OnnxTensor } from '../internal-types.ts';
import type { ModelAuditConfig } from '../types.ts';

/**
 * How many rows an ONNX Runtime call decides on: the leading dimension every feed of rank 2 or more shares (an
 * `[N, features]` tensor is N rows). A call without such a feed, or whose feeds disagree, is one decision.
 */
export function batchRowCount(feeds: unknown): number {
  if (typeof feeds !== 'object' || feeds === null) return 1;
  let rows: number | undefined;
  for (const tensor of Object.values(feeds as Record<string, unknown>)) {
    if (!isTensor(tensor) || tensor.dims.length < 2) continue;
    const leading = tensor.dims[0]!;
    if (!Number.isSafeInteger(leading) || leading < 0) return 1;
    if (rows !== undefined && rows !== leading) return 1;
    rows = leading;
  }
  return rows ?? 1;
}

/** Tensors as JSON-able `{ name: { type, dims, data } }`, the form inputs and outputs are hashed in. */
export function tensorsToJson(tensors: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  if (typeof tensors !== 'object' || tensors === null) return result;
  for (const [name, tensor] of Object.entries(tensors as Record<string, unknown>)) {
    if (!isTensor(tensor)) continue;
    result[name] = {
      type: tensor.type,
      dims: tensor.dims,
      data: jsonData(tensor.data, 0, tensor.data.length),
    };
  }
  return result;
}

/**
 * Row `row` of a call over `rows` rows, in the form {@link tensorsToJson} gives a call of that row alone: tensors
 * whose leading dimension is `rows` are cut to the row (dims `[1, ...]`), the others belong to every row whole. So
 * a row's input hash equals the hash of running that row on its own.
 */
export function tensorsRowToJson(tensors: unknown, row: number, rows: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  if (typeof tensors !== 'object' || tensors === null) return result;
  for (const [name, tensor] of Object.entries(tensors as Record<string, unknown>)) {
    if (!isTensor(tensor)) continue;
    const stride = rowStride(tensor, rows);
    if (stride === undefined) {
      result[name] = {
        type: tensor.type,
        dims: tensor.dims,
        data: jsonData(tensor.data, 0, tensor.data.length),
      };
      continue;
    }
    result[name] = {
      type: tensor.type,
      dims: [1, ...tensor.dims.slice(1)],
      data: jsonData(tensor.data, row * stride, (row + 1) * stride),
    };
  }
  return result;
}

/**
 * Outcome and confidence of row `row` (of `rows`) from the probability output (`probabilityOutput`, else the first
 * output whose name contains "prob"): the top class and its probability, or for a single-probability output the
 * class `p >= 0.5` and `max(p, 1 - p)`. Nothing when there is no float probability output for the row.
 */
export function classifyRow(
  outputs: Record<string, OnnxTensor>,
  config: ModelAuditConfig,
  row: number,
  rows: number,
): { confidence?: number; outcome?: string } {
  const probabilityName =
    config.probabilityOutput ?? Object.keys(outputs).find((name) => name.toLowerCase().includes('prob'));
  const probabilities = probabilityName === undefined ? undefined : outputs[probabilityName];
  if (!probabilities || (probabilities.type !== 'float32' && probabilities.type !== 'float64')) return {};
  const stride = rowStride(probabilities, rows);
  // A one-row call may give its probabilities without a batch dimension; a batch needs one row of them per row.
  if (stride === undefined && rows !== 1) return {};
  const dims = probabilities.dims;
  const start = stride === undefined ? 0 : row * stride;
  const width = dims.length >= 2 ? dims[dims.length - 1]! : (stride ?? probabilities.data.length);
  if (width < 1 || start + width > probabilities.data.length) return {};
  const at = (index: number) => Number(probabilities.data[start + index]);
  if (width === 1) {
    const p = at(0);
    const index = p >= 0.5 ? 1 : 0;
    return { confidence: Math.max(p, 1 - p), outcome: config.labels?.[index] ?? String(index) };
  }
  let best = 0;
  for (let index = 1; index < width; index++) if (at(index) > at(best)) best = index;
  return { confidence: at(best), outcome: config.labels?.[best] ?? String(best) };
}

/** Elements per row when the tensor's leading dimension is the call's row count, else undefined. */
function rowStride(tensor: OnnxTensor, rows: number): number | undefined {
  if (tensor.dims.length < 1 || tensor.dims[0] !== rows || rows === 0) return undefined;
  return tensor.data.length / rows;
}

function isTensor(value: unknown): value is OnnxTensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    'data' in value &&
    'dims' in value &&
    Array.isArray((value as OnnxTensor).dims)
  );
}

function jsonData(data: OnnxTensor['data'], start: number, end: number): unknown[] {
  const values: unknown[] = [];
  for (let index = start; index < end; index++) {
    const value = data[index];
    values.push(typeof value === 'bigint' ? value.toString() : value);
  }
  return values;
}
