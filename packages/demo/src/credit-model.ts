// The credit model of the demo and of the tests (test/support/onnx/credit-model.ts re-exports it): a logistic
// regression written straight into the ONNX protobuf wire format, so both run a real ONNX Runtime model that nothing
// had to download. It imports nothing but Node, so test fixtures load it by path without the source condition.

/** Model id written into the ONNX metadata (`model_id`), which the instrumentation records as `audit.model.id`. */
export const CREDIT_MODEL_ID = 'credit-risk';

/** Feature order of the `features` input, float32 [N, 4]. */
export const CREDIT_FEATURES = ['income_10k', 'debt_to_income', 'years_employed', 'late_payments'] as const;

/** Class labels, index-aligned with the `probabilities` output. */
export const CREDIT_LABELS = ['reject', 'approve'] as const;

/** The two versions the demo deploys: v1 is sound; v2 ignores late payments and rewards debt. */
export const CREDIT_MODEL_VERSIONS = ['1.0.0', '2.0.0'] as const;
export type CreditModelVersion = (typeof CREDIT_MODEL_VERSIONS)[number];

const PARAMETERS: Record<CreditModelVersion, { weights: number[]; bias: number; dataset: string }> = {
  '1.0.0': { weights: [0.35, -4.0, 0.25, -1.2], bias: -0.5, dataset: 'loans-2024q4' },
  '2.0.0': { weights: [0.3, 1.5, 0.2, 0.0], bias: -1.6, dataset: 'loans-2025q2' },
};

/** The logit v1 computes: the demo's ground truth is built around it, so v1 is right most of the time. */
export function creditLogit(features: readonly number[], version: CreditModelVersion): number {
  const { weights, bias } = PARAMETERS[version];
  return weights.reduce((sum, weight, index) => sum + weight * (features[index] ?? 0), bias);
}

/** The approval probability the model computes, for checking ONNX Runtime's answer. */
export function creditApprovalProbability(features: readonly number[], version: CreditModelVersion): number {
  return 1 / (1 + Math.exp(-creditLogit(features, version)));
}

/** The ONNX model bytes: features → probabilities [N, 2] (reject, approve) and label [N, 1]. */
export function buildCreditModel(version: CreditModelVersion): Uint8Array {
  const { weights, bias, dataset } = PARAMETERS[version];
  const graph = concat(
    message(1, node('MatMul', ['features', 'W'], 'logit_raw')),
    message(1, node('Add', ['logit_raw', 'B'], 'logit')),
    message(1, node('Sigmoid', ['logit'], 'p_approve')),
    message(1, node('Sub', ['one', 'p_approve'], 'p_reject')),
    message(1, node('Concat', ['p_reject', 'p_approve'], 'probabilities', [intAttribute('axis', 1)])),
    message(
      1,
      node('ArgMax', ['probabilities'], 'label', [intAttribute('axis', 1), intAttribute('keepdims', 1)]),
    ),
    text(2, 'credit_risk'),
    message(5, floatTensor('W', [4, 1], weights)),
    message(5, floatTensor('B', [1], [bias])),
    message(5, floatTensor('one', [1], [1])),
    message(11, valueInfo('features', FLOAT, ['N', 4])),
    message(12, valueInfo('probabilities', FLOAT, ['N', 2])),
    message(12, valueInfo('label', INT64, ['N', 1])),
  );
  const metadata: Record<string, string> = {
    model_id: CREDIT_MODEL_ID,
    model_version: version,
    features: CREDIT_FEATURES.join(','),
    labels: CREDIT_LABELS.join(','),
    training_dataset: dataset,
  };
  return concat(
    varintField(1, 8), // ir_version
    text(2, 'decisiontrail-demo'), // producer_name
    text(3, '1'), // producer_version
    varintField(5, CREDIT_MODEL_VERSIONS.indexOf(version) + 1), // model_version: 1, 2 (the semver is in metadata)
    message(7, graph),
    message(8, concat(text(1, ''), varintField(2, 13))), // opset_import: default domain, opset 13
    ...Object.entries(metadata).map(([key, value]) => message(14, concat(text(1, key), text(2, value)))),
  );
}

// --- protobuf wire format (just what an ONNX ModelProto needs) ------------------------------------------------

const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE_INT = 2;

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function concat(...parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

function varintField(field: number, value: number): Buffer {
  return concat(varint(field << 3), varint(value));
}

function message(field: number, payload: Uint8Array): Buffer {
  return concat(varint((field << 3) | 2), varint(payload.length), payload);
}

function text(field: number, value: string): Buffer {
  return message(field, Buffer.from(value, 'utf8'));
}

function intAttribute(name: string, value: number): Buffer {
  return concat(text(1, name), varintField(3, value), varintField(20, ATTRIBUTE_INT));
}

function node(opType: string, inputs: string[], output: string, attributes: Buffer[] = []): Buffer {
  return concat(
    ...inputs.map((input) => text(1, input)),
    text(2, output),
    text(3, `${opType.toLowerCase()}_${output}`),
    text(4, opType),
    ...attributes.map((attribute) => message(5, attribute)),
  );
}

function floatTensor(name: string, dims: number[], values: number[]): Buffer {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => raw.writeFloatLE(value, index * 4));
  return concat(
    ...dims.map((dim) => varintField(1, dim)),
    varintField(2, FLOAT),
    text(8, name),
    message(9, raw),
  );
}

function valueInfo(name: string, elementType: number, shape: (number | string)[]): Buffer {
  const dims = shape.map((dim) => message(1, typeof dim === 'number' ? varintField(1, dim) : text(2, dim)));
  const tensorType = concat(varintField(1, elementType), message(2, concat(...dims)));
  return concat(text(1, name), message(2, message(1, tensorType)));
}
