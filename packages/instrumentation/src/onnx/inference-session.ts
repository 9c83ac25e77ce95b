import {
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_MODEL_FRAMEWORK,
  ATTR_AUDIT_MODEL_FRAMEWORK_VERSION,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_HASH,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_ID,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_VERSION,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_MODEL_WEIGHTS_HASH,
  AUDIT_DECISION_TYPE_VALUES,
  AUDIT_MODEL_TYPE_VALUES,
  SPAN_NAME_AUDIT_DECISION,
} from '@decisiontrail/semconv';
import { type Attributes, type Context, context, diag, type Span, SpanKind, trace } from '@opentelemetry/api';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import {
  addDecisionStartAttributes,
  attributeString,
  type DecisionModel,
  modelConfigFor,
  recordField,
  referenceOf,
  type ReferenceModel,
} from '../audit-attributes.ts';
import { BatchDecision } from '../batch-decision.ts';
import { recordDriftFeatures } from '../drift-features.ts';
import { getAuditContext } from '../context.ts';
import { refusalFor } from '../record-admission.ts';
import { endSpan, recordSpanError } from '../span-errors.ts';
import type { OnnxTensor } from '../internal-types.ts';
import type { PatchHost } from '../patched-create.ts';
import { type OnnxModelInfo, readOnnxModelInfo } from './model-metadata.ts';
import { batchRowCount, classifyRow, tensorsRowToJson, tensorsToJson } from './tensor-rows.ts';

/** Model facts per loaded session, filled by the patched `InferenceSession.create`. */
interface LoadedModel {
  info: OnnxModelInfo | undefined;
  /** File name without extension: the model id of last resort. */
  fileStem: string | undefined;
}

const loadedModels = new WeakMap<object, LoadedModel>();

/**
 * Metadata keys an ONNX model can carry its id, version and training data under (`metadata_props`). The training
 * data set's id may also be written as plain `training_dataset`.
 */
export const ONNX_METADATA_KEYS = {
  modelId: 'model_id',
  modelVersion: 'model_version',
  trainingDatasetId: 'training_dataset_id',
  trainingDatasetVersion: 'training_dataset_version',
  trainingDatasetHash: 'training_dataset_hash',
  /** Names of the input row's columns, comma-separated: what `driftFeatures` of the model configuration picks from. */
  features: 'features',
} as const;

/** `training_dataset`: the id of the training data set, as models written before the `_id` key name it. */
const TRAINING_DATASET_ALIAS = 'training_dataset';

/**
 * Wraps `InferenceSession.create` so each loaded model is read once: metadata_props and the SHA-256 of its
 * bytes (`audit.model.weights_hash`). The session itself is returned whatever happens to that reading.
 */
export function patchSessionCreate() {
  return (original: (...args: unknown[]) => Promise<object>) =>
    async function patchedCreate(this: unknown, ...args: unknown[]): Promise<object> {
      const session = await original.apply(this, args);
      try {
        loadedModels.set(session, await loadModel(args[0]));
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not read the ONNX model metadata', error);
      }
      return session;
    };
}

async function loadModel(source: unknown): Promise<LoadedModel> {
  if (typeof source === 'string') {
    return { info: readOnnxModelInfo(await readFile(source)), fileStem: basename(source, extname(source)) };
  }
  if (source instanceof Uint8Array) return { info: readOnnxModelInfo(source), fileStem: undefined };
  if (source instanceof ArrayBuffer)
    return { info: readOnnxModelInfo(new Uint8Array(source)), fileStem: undefined };
  return { info: undefined, fileStem: undefined };
}

/**
 * Wraps `InferenceSession.prototype.run` so each inference is recorded as decisions (kind INTERNAL: the model runs
 * in-process). A run on one row is one `audit.decision {modelId}` span; a run on N rows (feeds of shape `[N, ...]`,
 * see {@link batchRowCount}) is an `audit.batch {modelId}` span with one `audit.decision` child per row. A decision's
 * confidence is its row's top class probability, its outcome that class's label.
 */
export function patchSessionRun(host: PatchHost, frameworkVersion: string | undefined) {
  return (original: (this: object, ...args: unknown[]) => Promise<Record<string, OnnxTensor>>) =>
    function patchedRun(this: object, ...args: unknown[]): Promise<Record<string, OnnxTensor>> {
      if (!host.isEnabled()) return original.apply(this, args);
      let recording: RunRecording;
      try {
        // Refused before the session runs: nothing was decided, so there is nothing to record. A batch run
        // needs room for a record per row and one for the call.
        const rows = batchRowCount(args[0]);
        const refusal = refusalFor(host.settings(), onnxModelId(this), rows === 1 ? 1 : rows + 1);
        if (refusal) return Promise.reject(refusal);
        recording =
          rows === 1
            ? startRun(host, this, args[0], frameworkVersion)
            : startBatchRun(host, this, args[0], rows, frameworkVersion);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not start an ONNX decision span', error);
        return original.apply(this, args);
      }
      let promise: Promise<Record<string, OnnxTensor>>;
      try {
        promise = context.with(recording.context, () => original.apply(this, args));
      } catch (error) {
        recording.fail(error);
        throw error;
      }
      promise.then(
        (outputs) => recording.end(outputs),
        (error: unknown) => recording.fail(error),
      );
      return promise;
    };
}

/** One run being recorded; `end` and `fail` never throw. */
interface RunRecording {
  context: Context;
  end(outputs: Record<string, OnnxTensor>): void;
  fail(error: unknown): void;
}

/**
 * The attributes every span of a run carries: the framework, the loaded model's weights hash and the training data
 * its metadata names. The model's configuration (`provenance`) is applied after them, so it wins where it says more.
 */
function runAttributes(session: object, frameworkVersion: string | undefined): Attributes {
  const attributes: Attributes = { [ATTR_AUDIT_MODEL_FRAMEWORK]: 'onnxruntime' };
  if (frameworkVersion !== undefined) attributes[ATTR_AUDIT_MODEL_FRAMEWORK_VERSION] = frameworkVersion;
  const info = loadedModels.get(session)?.info;
  if (info === undefined) return attributes;
  attributes[ATTR_AUDIT_MODEL_WEIGHTS_HASH] = info.weightsHash;
  const metadata = info.metadata;
  const dataset: [string, string | undefined][] = [
    [
      ATTR_AUDIT_MODEL_TRAINING_DATASET_ID,
      metadata[ONNX_METADATA_KEYS.trainingDatasetId] || metadata[TRAINING_DATASET_ALIAS],
    ],
    [ATTR_AUDIT_MODEL_TRAINING_DATASET_VERSION, metadata[ONNX_METADATA_KEYS.trainingDatasetVersion]],
    [ATTR_AUDIT_MODEL_TRAINING_DATASET_HASH, metadata[ONNX_METADATA_KEYS.trainingDatasetHash]],
  ];
  for (const [key, value] of dataset) if (value !== undefined && value !== '') attributes[key] = value;
  return attributes;
}

function decisionModel(session: object): DecisionModel {
  const loaded = loadedModels.get(session);
  return {
    modelId: onnxModelId(session),
    modelType: AUDIT_MODEL_TYPE_VALUES.CLASSIFIER,
    version: loaded?.info?.metadata[ONNX_METADATA_KEYS.modelVersion] ?? loaded?.info?.modelVersion,
    defaultDecisionType: AUDIT_DECISION_TYPE_VALUES.CLASSIFICATION,
  };
}

function startBatchRun(
  host: PatchHost,
  session: object,
  feeds: unknown,
  rows: number,
  frameworkVersion: string | undefined,
): RunRecording {
  const settings = host.settings();
  const model = decisionModel(session);
  const modelConfig = modelConfigFor(settings, model.modelId);
  const batch = BatchDecision.start(host.tracer(), settings, {
    model,
    modelConfig,
    rowInputs: Array.from({ length: rows }, (_, row) => tensorsRowToJson(feeds, row, rows)),
    callInput: tensorsToJson(feeds),
    captureInput: settings.captureInput,
    captureOutput: settings.captureOutput,
    shared: runAttributes(session, frameworkVersion),
    ...featureColumnsOf(session),
  });
  return {
    context: batch.context,
    end(outputs) {
      try {
        batch.rows.forEach((handle, row) => {
          const verdict = classifyRow(outputs, modelConfig, row, rows);
          if (verdict.confidence !== undefined) handle.setConfidence(verdict.confidence);
          if (verdict.outcome !== undefined) handle.setOutcome(verdict.outcome);
          handle.setOutput(tensorsRowToJson(outputs, row, rows));
        });
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not record an ONNX batch result', error);
      }
      batch.end(tensorsToJson(outputs));
    },
    fail: (error) => batch.fail(error),
  };
}

function startRun(
  host: PatchHost,
  session: object,
  feeds: unknown,
  frameworkVersion: string | undefined,
): RunRecording {
  const settings = host.settings();
  const parent = context.active();
  const auditContext = getAuditContext(parent);
  const model = decisionModel(session);
  const modelConfig = modelConfigFor(settings, model.modelId);
  const attributes = runAttributes(session, frameworkVersion);
  const decisionId = addDecisionStartAttributes(attributes, model, modelConfig, auditContext);
  const input = tensorsToJson(feeds);
  recordField(attributes, 'input', input, settings.captureInput, settings, auditContext.subjectId);
  recordDriftFeatures(attributes, modelConfig, input, featureColumnsOf(session).featureColumns);
  const span = host
    .tracer()
    .startSpan(
      `${SPAN_NAME_AUDIT_DECISION} ${modelConfig.modelId ?? model.modelId}`,
      { kind: SpanKind.INTERNAL, attributes },
      parent,
    );
  const reference: ReferenceModel = {
    modelId: attributeString(attributes[ATTR_AUDIT_MODEL_ID]),
    modelVersion: attributeString(attributes[ATTR_AUDIT_MODEL_VERSION]),
  };
  return {
    context: trace.setSpan(parent, span),
    end(outputs) {
      try {
        const result: Attributes = {};
        const verdict = classifyRow(outputs, modelConfig, 0, 1);
        if (verdict.confidence !== undefined) result[ATTR_AUDIT_DECISION_CONFIDENCE] = verdict.confidence;
        if (verdict.outcome !== undefined) result[ATTR_AUDIT_DECISION_OUTCOME] = verdict.outcome;
        recordField(
          result,
          'output',
          tensorsToJson(outputs),
          settings.captureOutput,
          settings,
          auditContext.subjectId,
        );
        span.setAttributes(result);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not record an ONNX result', error);
      }
      endSpan(span);
      notify(host, span, decisionId, reference);
    },
    fail(error) {
      recordSpanError(span, error);
      endSpan(span);
      notify(host, span, decisionId, reference);
    },
  };
}

/** The columns of the model's input row as its `features` metadata names them (comma-separated), if it does. */
function featureColumnsOf(session: object): { featureColumns?: string[] } {
  const names = loadedModels.get(session)?.info?.metadata[ONNX_METADATA_KEYS.features];
  return names === undefined || names === '' ? {} : { featureColumns: names.split(',').map((n) => n.trim()) };
}

function onnxModelId(session: object): string {
  const loaded = loadedModels.get(session);
  return loaded?.info?.metadata[ONNX_METADATA_KEYS.modelId] ?? loaded?.fileStem ?? 'onnx-model';
}

function notify(host: PatchHost, span: Span, decisionId: string, model: ReferenceModel): void {
  const onDecision = host.settings().onDecision;
  if (!onDecision) return;
  try {
    onDecision(referenceOf(span, decisionId, model));
  } catch (error) {
    diag.error('@decisiontrail/instrumentation: onDecision hook failed', error);
  }
}
