// Writes a tiny logistic-regression credit model as an ONNX file, encoded by hand (protobuf wire format), so
// tests, the demo and the examples run a real ONNX Runtime model that nothing had to download.
//
//   npm exec -- node test/support/onnx/credit-model.ts <out.onnx> [--version v1|v2]
//
// Inputs: `features` float32 [N, 4] = income (tens of thousands), debt-to-income ratio, years employed,
// late payments in the last two years. Outputs: `probabilities` float32 [N, 2] (reject, approve) and
// `label` int64 [N, 1] (argmax). v2 is a "retrained" model that behaves worse: it ignores late payments and
// rewards debt, so it approves risky applicants v1 rejects — the regression the demo's drift signals catch.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Which model to build. */
export type CreditModelVersion = 'v1' | 'v2';

/** Feature order of the `features` input. */
export const CREDIT_FEATURES = ['income_10k', 'debt_to_income', 'years_employed', 'late_payments'] as const;

/** Class labels, index-aligned with `probabilities`. */
export const CREDIT_LABELS = ['reject', 'approve'] as const;

/** Model id written into metadata_props (`model_id`). */
export const CREDIT_MODEL_ID = 'credit-risk-lr';

interface CreditModelParameters {
  weights: [number, number, number, number];
  bias: number;
}

const PARAMETERS: Record<CreditModelVersion, CreditModelParameters> = {
  v1: { weights: [0.35, -4.0, 0.25, -1.2], bias: -0.5 },
  v2: { weights: [0.3, 1.5, 0.2, 0.0], bias: -0.2 },
};

/** The logistic-regression approval probability the model computes, for checking ONNX Runtime's answer. */
export function creditApprovalProbability(
  features: readonly number[],
  version: CreditModelVersion = 'v1',
): number {
  const { weights, bias } = PARAMETERS[version];
  const z = weights.reduce((sum, weight, index) => sum + weight * (features[index] ?? 0), bias);
  return 1 / (1 + Math.exp(-z));
}

/** The model as ONNX bytes. */
export function buildCreditModel(version: CreditModelVersion = 'v1'): Uint8Array {
  const { weights, bias } = PARAMETERS[version];
  const graph = concat(
    field(1, node(['features', 'W'], ['logit_raw'], 'MatMul')),
    field(1, node(['logit_raw', 'B'], ['logit'], 'Add')),
    field(1, node(['logit'], ['p_approve'], 'Sigmoid')),
    field(1, node(['one', 'p_approve'], ['p_reject'], 'Sub')),
    field(1, node(['p_reject', 'p_approve'], ['probabilities'], 'Concat', [intAttribute('axis', 1)])),
    field(
      1,
      node(['probabilities'], ['label'], 'ArgMax', [intAttribute('axis', 1), intAttribute('keepdims', 1)]),
    ),
    stringField(2, `credit_lr_${version}`),
    field(5, floatTensor('W', [4, 1], weights)),
    field(5, floatTensor('B', [1], [bias])),
    field(5, floatTensor('one', [1], [1])),
    field(11, valueInfo('features', FLOAT, ['N', 4])),
    field(12, valueInfo('probabilities', FLOAT, ['N', 2])),
    field(12, valueInfo('label', INT64, ['N', 1])),
  );
  const metadata: Record<string, string> = {
    model_id: CREDIT_MODEL_ID,
    model_version: version === 'v1' ? '1.0.0' : '2.0.0',
    features: CREDIT_FEATURES.join(','),
    labels: CREDIT_LABELS.join(','),
    training_dataset: version === 'v1' ? 'loans-2024q4' : 'loans-2025q2',
  };
  return concat(
    varintField(1, 8), // ir_version 8
    stringField(2, 'decisiontrail-test-support'),
    stringField(3, '1'),
    varintField(5, version === 'v1' ? 1 : 2), // model_version
    field(7, graph),
    field(8, concat(stringField(1, ''), varintField(2, 13))), // opset_import: default domain, opset 13
    ...Object.entries(metadata).map(([key, value]) =>
      field(14, concat(stringField(1, key), stringField(2, value))),
    ),
  );
}

/** Writes the model to `path`; returns the path. */
export function writeCreditModel(path: string, version: CreditModelVersion = 'v1'): string {
  writeFileSync(path, buildCreditModel(version));
  return path;
}

// --- protobuf wire format ---------------------------------------------------------------------------------

const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE_TYPE_INT = 2;

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let remaining = value;
  while (remaining > 0x7f) {
    bytes.push((remaining & 0x7f) | 0x80);
    remaining = Math.floor(remaining / 128);
  }
  bytes.push(remaining);
  return Uint8Array.from(bytes);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function varintField(fieldNumber: number, value: number): Uint8Array {
  return concat(varint(fieldNumber << 3), varint(value));
}

function field(fieldNumber: number, payload: Uint8Array): Uint8Array {
  return concat(varint((fieldNumber << 3) | 2), varint(payload.length), payload);
}

function stringField(fieldNumber: number, value: string): Uint8Array {
  return field(fieldNumber, Buffer.from(value, 'utf8'));
}

function intAttribute(name: string, value: number): Uint8Array {
  return concat(stringField(1, name), varintField(3, value), varintField(20, ATTRIBUTE_TYPE_INT));
}

function node(
  inputs: string[],
  outputs: string[],
  opType: string,
  attributes: Uint8Array[] = [],
): Uint8Array {
  return concat(
    ...inputs.map((input) => stringField(1, input)),
    ...outputs.map((output) => stringField(2, output)),
    stringField(3, `${opType.toLowerCase()}_${outputs[0]}`),
    stringField(4, opType),
    ...attributes.map((attribute) => field(5, attribute)),
  );
}

function floatTensor(name: string, dims: number[], values: number[]): Uint8Array {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => raw.writeFloatLE(value, index * 4));
  return concat(
    ...dims.map((dim) => varintField(1, dim)),
    varintField(2, FLOAT),
    stringField(8, name),
    field(9, raw),
  );
}

function valueInfo(name: string, elementType: number, shape: (number | string)[]): Uint8Array {
  const dims = shape.map((dim) =>
    field(1, typeof dim === 'number' ? varintField(1, dim) : stringField(2, dim)),
  );
  const tensorType = concat(varintField(1, elementType), field(2, concat(...dims)));
  return concat(stringField(1, name), field(2, field(1, tensorType)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [out, flag, value] = process.argv.slice(2);
  if (!out) {
    console.error('usage: node test/support/onnx/credit-model.ts <out.onnx> [--version v1|v2]');
    process.exit(2);
  }
  const version = flag === '--version' && (value === 'v1' || value === 'v2') ? value : 'v1';
  console.log(writeCreditModel(out, version));
}
