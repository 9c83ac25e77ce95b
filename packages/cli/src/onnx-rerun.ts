import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SpanRecord } from '@decisiontrail/core';
import type * as Ort from 'onnxruntime-node';
import type { OnnxModelInfo } from '@decisiontrail/instrumentation/internal';
import { ATTR_AUDIT_DECISION_ID } from '@decisiontrail/semconv';
import { contentOf, type Decrypt } from './recorded-content.ts';

/** What a re-run of one ONNX decision found. */
export interface RerunResult {
  /**
   * `reproduced`: the recorded model file, run on the recorded input, gave the recorded outcome. `not reproduced`:
   * it gave another. `cannot re-run`: the input or the model is not at hand (each reason in `reasons`).
   */
  verdict: 'reproduced' | 'not reproduced' | 'cannot re-run';
  reasons: string[];
  model: {
    file: string;
    /** SHA-256 (hex) of the file given, `null` when it could not be read. */
    weightsHash: string | null;
    recordedWeightsHash: string | null;
    /** `null` when either hash is missing. */
    weightsMatch: boolean | null;
  };
  recorded: { outcome: string; confidence: number | null };
  /** The re-run's outcome and confidence; `null` when it did not run. */
  rerun: { outcome: string; classIndex: string; confidence: number | null } | null;
}

/** How the outcome is read from the model's outputs, as the instrumentation's model configuration says it. */
export interface OutcomeReading {
  /** Class labels; default: the model file's `labels` metadata (comma-separated), else class indexes. */
  labels?: string[];
  /** Output holding class probabilities; default: the first output whose name contains "prob". */
  probabilityOutput?: string;
}

/** A hash as recorded (`sha256:…` or bare hex) in the form of the file's: lowercase hex. */
function bareHash(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '');
}

/** Typed-array constructor per ONNX Runtime tensor type (`string` tensors take a plain array). */
const TYPED_ARRAYS: Record<string, (values: unknown[]) => unknown> = {
  float32: (v) => Float32Array.from(v as number[]),
  float64: (v) => Float64Array.from(v as number[]),
  int8: (v) => Int8Array.from(v as number[]),
  uint8: (v) => Uint8Array.from(v as number[]),
  int16: (v) => Int16Array.from(v as number[]),
  uint16: (v) => Uint16Array.from(v as number[]),
  int32: (v) => Int32Array.from(v as number[]),
  uint32: (v) => Uint32Array.from(v as number[]),
  int64: (v) => BigInt64Array.from(v.map((x) => BigInt(x as string | number))),
  uint64: (v) => BigUint64Array.from(v.map((x) => BigInt(x as string | number))),
  bool: (v) => Uint8Array.from(v.map((x) => (x === true || x === 1 ? 1 : 0))),
  string: (v) => v.map(String),
};

/** The recorded input (`{ name: { type, dims, data } }`, as the instrumentation records feeds) as tensor parts. */
function recordedFeeds(
  text: string,
): { name: string; type: string; dims: number[]; data: unknown }[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'the recorded input is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return 'the recorded input is not a set of named tensors';
  const feeds = [];
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    const tensor = value as { type?: unknown; dims?: unknown; data?: unknown };
    const make = typeof tensor?.type === 'string' ? TYPED_ARRAYS[tensor.type] : undefined;
    const dims = tensor?.dims;
    if (
      make === undefined ||
      !Array.isArray(dims) ||
      !dims.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      !Array.isArray(tensor.data) ||
      tensor.data.length !== dims.reduce((n: number, d: number) => n * d, 1)
    ) {
      return `the recorded input ${JSON.stringify(name)} is not an ONNX tensor (type, dims and data that fit them)`;
    }
    try {
      feeds.push({ name, type: tensor.type as string, dims: dims as number[], data: make(tensor.data) });
    } catch {
      return `the recorded input ${JSON.stringify(name)} holds values its type ${String(tensor.type)} cannot`;
    }
  }
  return feeds.length === 0 ? 'the recorded input holds no tensor' : feeds;
}

/**
 * Re-runs one recorded ONNX decision: checks the file given is the model that decided (its SHA-256 against the
 * recorded weights hash), reads the recorded input (plaintext, or decrypted with the subject's key), runs it with
 * onnxruntime-node and reads the outcome as the instrumentation does. Never throws for a decision that cannot be
 * re-run: the result says why.
 */
export async function rerunOnnxDecision(options: {
  record: SpanRecord;
  modelFile: string;
  recordedWeightsHash: string | null;
  framework: string;
  captureMode: string;
  recorded: { outcome: string; confidence: string };
  decrypt: Decrypt;
  reading: OutcomeReading;
}): Promise<RerunResult> {
  const confidence = options.recorded.confidence === '' ? null : Number(options.recorded.confidence);
  const result: RerunResult = {
    verdict: 'cannot re-run',
    reasons: [],
    model: {
      file: options.modelFile,
      weightsHash: null,
      recordedWeightsHash: options.recordedWeightsHash,
      weightsMatch: null,
    },
    recorded: { outcome: options.recorded.outcome, confidence },
    rerun: null,
  };
  const cannot = (reason: string): RerunResult => {
    result.reasons.push(reason);
    return result;
  };
  if (options.framework !== '' && !options.framework.startsWith('onnxruntime'))
    return cannot(`the decision was made with ${options.framework}, not an ONNX model`);
  // Loaded here, as the commands that decrypt load the keystore: only a re-run needs the instrumentation package.
  const { classifyRow, readOnnxModelInfo } = await import('@decisiontrail/instrumentation/internal');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(options.modelFile);
  } catch (error) {
    return cannot(`the model file cannot be read: ${(error as Error).message}`);
  }
  let info: OnnxModelInfo;
  try {
    info = readOnnxModelInfo(bytes);
  } catch (error) {
    return cannot(`${path.basename(options.modelFile)} is not an ONNX model: ${(error as Error).message}`);
  }
  result.model.weightsHash = info.weightsHash;
  if (options.recordedWeightsHash === null) {
    return cannot(
      'no weights hash was recorded for the decision or its deployment, so the file cannot be shown to be the model that decided',
    );
  }
  result.model.weightsMatch = bareHash(options.recordedWeightsHash) === info.weightsHash;
  if (!result.model.weightsMatch) {
    return cannot(
      `the file is not the model that decided: its SHA-256 is ${info.weightsHash}, the recorded weights hash ${options.recordedWeightsHash}`,
    );
  }
  if (options.captureMode !== 'full' && options.captureMode !== 'encrypt') {
    return cannot(
      `the input was captured as ${options.captureMode || 'nothing stated'}, not in full or encrypted: only its size or keyed hash was kept`,
    );
  }
  const decisionId = options.record.attributes[ATTR_AUDIT_DECISION_ID] ?? '';
  const input = contentOf(options.record, decisionId, options.decrypt).find((c) => c.field === 'input');
  if (input === undefined || input.text === null) {
    return cannot(`the recorded input is not readable: ${input?.unreadable ?? 'the span holds none'}`);
  }
  const feeds = recordedFeeds(input.text);
  if (typeof feeds === 'string') return cannot(feeds);
  let ort: typeof Ort;
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return cannot('onnxruntime-node is not installed here (npm install onnxruntime-node)');
  }
  let outputs: Record<
    string,
    { data: ArrayLike<number | bigint | string | boolean>; dims: readonly number[]; type: string }
  >;
  try {
    const session = await ort.InferenceSession.create(bytes);
    try {
      const tensors = Object.fromEntries(
        feeds.map((f) => [f.name, new ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims)]),
      );
      outputs = await session.run(tensors);
    } finally {
      await session.release();
    }
  } catch (error) {
    return cannot(`ONNX Runtime could not run the model on the recorded input: ${(error as Error).message}`);
  }
  const metadataLabels = info.metadata['labels']?.split(',').map((label) => label.trim());
  const labels = options.reading.labels ?? metadataLabels;
  const config = { probabilityOutput: options.reading.probabilityOutput };
  const labelled = classifyRow(outputs, labels === undefined ? config : { ...config, labels }, 0, 1);
  const indexed = classifyRow(outputs, config, 0, 1);
  if (labelled.outcome === undefined || indexed.outcome === undefined) {
    return cannot(
      `the model gives no float probability output to read an outcome from (outputs: ${Object.keys(outputs).join(', ')}; name one with --probability-output)`,
    );
  }
  result.rerun = {
    outcome: labelled.outcome,
    classIndex: indexed.outcome,
    confidence: labelled.confidence ?? null,
  };
  // The instrumentation recorded the class's label when its configuration named labels, else the class index.
  const same = options.recorded.outcome === labelled.outcome || options.recorded.outcome === indexed.outcome;
  result.verdict = same ? 'reproduced' : 'not reproduced';
  if (!same) {
    result.reasons.push(
      `the re-run decided ${labelled.outcome} (class ${indexed.outcome}), the record says ${options.recorded.outcome || 'nothing'}`,
    );
  }
  return result;
}
