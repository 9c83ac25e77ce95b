import {
  ATTR_AUDIT_BATCH_INDEX,
  ATTR_AUDIT_BATCH_SIZE,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_INPUT_CAPTURE_MODE_VALUES,
  AUDIT_RECORD_TYPE_VALUES,
  SPAN_NAME_AUDIT_BATCH,
  SPAN_NAME_AUDIT_DECISION,
} from '@decisiontrail/semconv';
import {
  type Attributes,
  type Context,
  context,
  diag,
  type Span,
  SpanKind,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import {
  addContextAttributes,
  addDecisionStartAttributes,
  attributeString,
  type DecisionModel,
  recordField,
  referenceOf,
} from './audit-attributes.ts';
import type { AuditSettings } from './config.ts';
import { getAuditContext } from './context.ts';
import { SpanDecisionHandle } from './decision-handle.ts';
import { recordDriftFeatures } from './drift-features.ts';
import { endSpan, recordSpanError } from './span-errors.ts';
import type { CaptureMode, DecisionHandle, ModelAuditConfig } from './types.ts';

/** What a batch call says about itself before the model runs. */
export interface BatchCall {
  model: DecisionModel;
  /** The per-model facts in force (configuration merged with per-call options). */
  modelConfig: ModelAuditConfig;
  /** One input per row, recorded on that row's decision under `captureInput`. */
  rowInputs: readonly unknown[];
  /** The whole call's input; only its HMAC goes on the batch span (the rows carry the content). */
  callInput: unknown;
  captureInput: CaptureMode;
  captureOutput: CaptureMode;
  /** Attributes every span of the call carries (framework, weights hash, caller attributes). */
  shared: Attributes;
  /** The columns of a tensor row, for the drift features (an ONNX model's `features` metadata). */
  featureColumns?: readonly string[];
}

/**
 * One batch inference call: an `audit.batch {modelId}` span with one `audit.decision {modelId}` child per row, each
 * with its own decision id, `audit.batch.index` and row input. Rows start with the call and end with it, so a row is
 * a decision like any other for the sampler, the store, the timeline, reports and verification. Every method is
 * fail-open (failures go to `diag`); `end` / `fail` run once.
 */
export class BatchDecision {
  readonly span: Span;
  /** The context to run the model in (the batch span is active). */
  readonly context: Context;
  /** One handle per row, in row order. */
  readonly rows: readonly DecisionHandle[];
  readonly #rowSpans: readonly Span[];
  readonly #settings: AuditSettings;
  readonly #captureOutput: CaptureMode;
  readonly #subjectId: string | undefined;
  #ended = false;

  private constructor(
    span: Span,
    ctx: Context,
    rows: readonly DecisionHandle[],
    rowSpans: readonly Span[],
    settings: AuditSettings,
    captureOutput: CaptureMode,
    subjectId: string | undefined,
  ) {
    this.span = span;
    this.context = ctx;
    this.rows = rows;
    this.#rowSpans = rowSpans;
    this.#settings = settings;
    this.#captureOutput = captureOutput;
    this.#subjectId = subjectId;
  }

  /** Starts the batch span and its rows; throws only on internal failure (the caller then runs the model untouched). */
  static start(tracer: Tracer, settings: AuditSettings, call: BatchCall): BatchDecision {
    const parent = context.active();
    const auditContext = getAuditContext(parent);
    const modelId = call.modelConfig.modelId ?? call.model.modelId;
    const batchAttributes: Attributes = {
      ...call.shared,
      [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.BATCH,
      [ATTR_AUDIT_BATCH_SIZE]: call.rowInputs.length,
      [ATTR_AUDIT_MODEL_ID]: modelId,
    };
    const version = call.modelConfig.version ?? call.model.version;
    if (version !== undefined) batchAttributes[ATTR_AUDIT_MODEL_VERSION] = version;
    addContextAttributes(batchAttributes, auditContext);
    recordField(
      batchAttributes,
      'input',
      call.callInput,
      hashOnly(call.captureInput),
      settings,
      auditContext.subjectId,
    );
    const span = tracer.startSpan(
      `${SPAN_NAME_AUDIT_BATCH} ${modelId}`,
      { kind: SpanKind.INTERNAL, attributes: batchAttributes },
      parent,
    );
    const batchContext = trace.setSpan(parent, span);
    const rowSpans: Span[] = [];
    const rows: DecisionHandle[] = [];
    call.rowInputs.forEach((input, index) => {
      // Caller attributes first, so they can add to the audit attributes but never replace them.
      const attributes: Attributes = { ...call.shared, [ATTR_AUDIT_BATCH_INDEX]: index };
      const decisionId = addDecisionStartAttributes(attributes, call.model, call.modelConfig, auditContext);
      recordField(attributes, 'input', input, call.captureInput, settings, auditContext.subjectId);
      recordDriftFeatures(attributes, call.modelConfig, input, call.featureColumns);
      const row = tracer.startSpan(
        `${SPAN_NAME_AUDIT_DECISION} ${modelId}`,
        { kind: SpanKind.INTERNAL, attributes },
        batchContext,
      );
      rowSpans.push(row);
      rows.push(
        new SpanDecisionHandle(
          row,
          referenceOf(row, decisionId, {
            modelId: attributeString(attributes[ATTR_AUDIT_MODEL_ID]),
            modelVersion: attributeString(attributes[ATTR_AUDIT_MODEL_VERSION]),
          }),
          settings,
          call.captureOutput,
          auditContext.subjectId,
        ),
      );
    });
    return new BatchDecision(
      span,
      batchContext,
      rows,
      rowSpans,
      settings,
      call.captureOutput,
      auditContext.subjectId,
    );
  }

  /** Ends every row and then the batch span; `callOutput` (the whole result) is recorded on the batch span as HMAC. */
  end(callOutput?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (callOutput !== undefined) {
      try {
        const attributes: Attributes = {};
        recordField(
          attributes,
          'output',
          callOutput,
          hashOnly(this.#captureOutput),
          this.#settings,
          this.#subjectId,
        );
        this.span.setAttributes(attributes);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not record a batch result', error);
      }
    }
    this.#finish();
  }

  /** Records the error on the batch span and every row (none of the rows was decided), then ends them. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const row of this.#rowSpans) recordSpanError(row, error);
    recordSpanError(this.span, error);
    this.#finish();
  }

  #finish(): void {
    for (const row of this.#rowSpans) endSpan(row);
    endSpan(this.span);
    const onDecision = this.#settings.onDecision;
    if (!onDecision) return;
    for (const row of this.rows) {
      try {
        onDecision(row.reference);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: onDecision hook failed', error);
      }
    }
  }
}

// The batch span holds only the keyed hash of the whole call: the rows carry the content, so `full` or `encrypt`
// capture does not store every row twice.
function hashOnly(mode: CaptureMode): CaptureMode {
  return mode === AUDIT_INPUT_CAPTURE_MODE_VALUES.NONE ? mode : AUDIT_INPUT_CAPTURE_MODE_VALUES.HASH;
}
