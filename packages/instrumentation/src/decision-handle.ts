import {
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_EXPLANATION,
  ATTR_AUDIT_DECISION_OUTCOME,
} from '@decisiontrail/semconv';
import type { Attributes, Span } from '@opentelemetry/api';
import { recordField } from './audit-attributes.ts';
import type { AuditSettings } from './config.ts';
import type { CaptureMode, DecisionHandle, DecisionReference } from './types.ts';

/** The handle of one recorded decision span (`decision()`, and each row of a batch). */
export class SpanDecisionHandle implements DecisionHandle {
  readonly reference: DecisionReference;
  readonly #span: Span;
  readonly #settings: AuditSettings;
  readonly #outputMode: CaptureMode;
  readonly #subjectId: string | undefined;

  constructor(
    span: Span,
    reference: DecisionReference,
    settings: AuditSettings,
    outputMode: CaptureMode,
    subjectId: string | undefined,
  ) {
    this.#span = span;
    this.reference = reference;
    this.#settings = settings;
    this.#outputMode = outputMode;
    this.#subjectId = subjectId;
  }

  setOutcome(outcome: string): void {
    this.#span.setAttribute(ATTR_AUDIT_DECISION_OUTCOME, outcome);
  }

  setConfidence(confidence: number): void {
    this.#span.setAttribute(ATTR_AUDIT_DECISION_CONFIDENCE, confidence);
  }

  setExplanation(explanation: string): void {
    this.#span.setAttribute(ATTR_AUDIT_DECISION_EXPLANATION, explanation);
  }

  setOutput(output: unknown): void {
    const attributes: Attributes = {};
    recordField(attributes, 'output', output, this.#outputMode, this.#settings, this.#subjectId);
    this.#span.setAttributes(attributes);
  }
}
