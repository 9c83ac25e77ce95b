import {
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_MODEL_FRAMEWORK,
  ATTR_AUDIT_MODEL_FRAMEWORK_VERSION,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_MODEL_WEIGHTS_HASH,
  AUDIT_DECISION_TYPE_VALUES,
  AUDIT_MODEL_TYPE_VALUES,
  SPAN_NAME_AUDIT_DECISION,
} from '@decisiontrail/semconv';
import { type Attributes, context, diag, type Span, SpanKind, trace } from '@opentelemetry/api';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import {
  addDecisionStartAttributes,
  attributeString,
  modelConfigFor,
  recordField,
  referenceOf,
  type ReferenceModel,
} from '../audit-attributes.ts';
import { getAuditContext } from '../context.ts';
import { refusalFor } from '../record-admission.ts';
import { endSpan, recordSpanError } from '../span-errors.ts';
import type { OnnxTensor } from '../internal-types.ts';
import type { PatchHost } from '../patched-create.ts';
import type { ModelAuditConfig } from '../types.ts';
import { type OnnxModelInfo, readOnnxModelInfo } from './model-metadata.ts';

/** Model facts per loaded session, filled by the patched `InferenceSession.create`. */
interface LoadedModel {
  info: OnnxModelInfo | undefined;
  /** File name without extension: the model id of last resort. */
  fileStem: string | undefined;
}

const loadedModels = new WeakMap<object, LoadedModel>();

/** Metadata keys an ONNX model can carry its id and version under (`metadata_props`). */
export const ONNX_METADATA_KEYS = { modelId: 'model_id', modelVersion: 'model_version' } as const;

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
 * Wraps `InferenceSession.prototype.run` so each inference becomes an `audit.decision {modelId}` span (kind
 * INTERNAL: the model runs in-process). Confidence is the top class probability of the first row, the outcome its
 * label; batch runs are one decision per call.
 */
export function patchSessionRun(host: PatchHost, frameworkVersion: string | undefined) {
  return (original: (this: object, ...args: unknown[]) => Promise<Record<string, OnnxTensor>>) =>
    function patchedRun(this: object, ...args: unknown[]): Promise<Record<string, OnnxTensor>> {
      if (!host.isEnabled()) return original.apply(this, args);
      let started: ReturnType<typeof startRun>;
      try {
        // Refused before the session runs: nothing was decided, so there is nothing to record.
        const refusal = refusalFor(host.settings(), onnxModelId(this));
        if (refusal) return Promise.reject(refusal);
        started = startRun(host, this, args[0], frameworkVersion);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not start an ONNX decision span', error);
        return original.apply(this, args);
      }
      const { span, modelConfig, subjectId } = started;
      let promise: Promise<Record<string, OnnxTensor>>;
      try {
        promise = context.with(trace.setSpan(context.active(), span), () => original.apply(this, args));
      } catch (error) {
        failSpan(span, error);
        throw error;
      }
      promise.then(
        (outputs) => {
          try {
            const settings = host.settings();
            const attributes: Attributes = {};
            const verdict = classify(outputs, modelConfig);
            if (verdict.confidence !== undefined)
              attributes[ATTR_AUDIT_DECISION_CONFIDENCE] = verdict.confidence;
            if (verdict.outcome !== undefined) attributes[ATTR_AUDIT_DECISION_OUTCOME] = verdict.outcome;
            recordField(
              attributes,
              'output',
              tensorsToJson(outputs),
              settings.captureOutput,
              settings,
              subjectId,
            );
            span.setAttributes(attributes);
          } catch (error) {
            diag.error('@decisiontrail/instrumentation: could not record an ONNX result', error);
          }
          endSpan(span);
          notify(host, span, started.decisionId, started.model);
        },
        (error: unknown) => {
          failSpan(span, error);
          notify(host, span, started.decisionId, started.model);
        },
      );
      return promise;
    };
}

function startRun(host: PatchHost, session: object, feeds: unknown, frameworkVersion: string | undefined) {
  const settings = host.settings();
  const parent = context.active();
  const auditContext = getAuditContext(parent);
  const loaded = loadedModels.get(session);
  const metadata = loaded?.info?.metadata ?? {};
  const modelId = onnxModelId(session);
  const modelConfig = modelConfigFor(settings, modelId);
  const attributes: Attributes = {
    [ATTR_AUDIT_MODEL_FRAMEWORK]: 'onnxruntime',
  };
  if (frameworkVersion !== undefined) attributes[ATTR_AUDIT_MODEL_FRAMEWORK_VERSION] = frameworkVersion;
  if (loaded?.info) attributes[ATTR_AUDIT_MODEL_WEIGHTS_HASH] = loaded.info.weightsHash;
  const decisionId = addDecisionStartAttributes(
    attributes,
    {
      modelId,
      modelType: AUDIT_MODEL_TYPE_VALUES.CLASSIFIER,
      version: metadata[ONNX_METADATA_KEYS.modelVersion] ?? loaded?.info?.modelVersion,
      defaultDecisionType: AUDIT_DECISION_TYPE_VALUES.CLASSIFICATION,
    },
    modelConfig,
    auditContext,
  );
  recordField(
    attributes,
    'input',
    tensorsToJson(feeds),
    settings.captureInput,
    settings,
    auditContext.subjectId,
  );
  const span = host
    .tracer()
    .startSpan(
      `${SPAN_NAME_AUDIT_DECISION} ${modelConfig.modelId ?? modelId}`,
      { kind: SpanKind.INTERNAL, attributes },
      parent,
    );
  const model: ReferenceModel = {
    modelId: attributeString(attributes[ATTR_AUDIT_MODEL_ID]),
    modelVersion: attributeString(attributes[ATTR_AUDIT_MODEL_VERSION]),
  };
  return { span, modelConfig, subjectId: auditContext.subjectId, decisionId, model };
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

function failSpan(span: Span, error: unknown): void {
  recordSpanError(span, error);
  endSpan(span);
}

/** Tensors as JSON-able `{ name: { type, dims, data } }`, the form inputs and outputs are hashed in. */
function tensorsToJson(tensors: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  if (typeof tensors !== 'object' || tensors === null) return result;
  for (const [name, tensor] of Object.entries(tensors as Record<string, OnnxTensor>)) {
    if (!tensor || typeof tensor !== 'object' || !('data' in tensor)) continue;
    const data = Array.from(tensor.data as ArrayLike<unknown>, (value) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    result[name] = { type: tensor.type, dims: tensor.dims, data };
  }
  return result;
}

function classify(
  outputs: Record<string, OnnxTensor>,
  config: ModelAuditConfig,
): { confidence?: number; outcome?: string } {
  const probabilityName =
    config.probabilityOutput ?? Object.keys(outputs).find((name) => name.toLowerCase().includes('prob'));
  const probabilities = probabilityName === undefined ? undefined : outputs[probabilityName];
  if (!probabilities || (probabilities.type !== 'float32' && probabilities.type !== 'float64')) return {};
  const dims = probabilities.dims;
  const width = dims.length >= 2 ? dims[dims.length - 1]! : probabilities.data.length;
  if (width === 1) {
    const p = Number(probabilities.data[0]);
    const index = p >= 0.5 ? 1 : 0;
    return { confidence: Math.max(p, 1 - p), outcome: config.labels?.[index] ?? String(index) };
  }
  let best = 0;
  for (let index = 1; index < width; index++) {
    if (Number(probabilities.data[index]) > Number(probabilities.data[best])) best = index;
  }
  return { confidence: Number(probabilities.data[best]), outcome: config.labels?.[best] ?? String(best) };
}
