import { diag } from '@opentelemetry/api';
import type { AuditSettings } from './config.ts';
import { DecisionRefusedError } from './errors.ts';

let warnedNoAdmission = false;

/**
 * The refusal a `fail-closed` deployment gives a decision whose record could not be kept now, or undefined when the
 * decision may proceed. Asked before the model runs; never throws. Under `fail-open` it reads one field, so the
 * default path costs nothing measurable.
 */
export function refusalFor(
  settings: AuditSettings | undefined,
  modelId: string,
  records = 1,
): DecisionRefusedError | undefined {
  if (settings?.recordLossPolicy !== 'fail-closed') return undefined;
  const admission = settings.recordAdmission;
  if (!admission) {
    warnNoAdmission();
    return undefined;
  }
  let accepted = false;
  let cause: unknown;
  try {
    accepted = admission.canAccept(records) === true;
  } catch (error) {
    // An admission check that cannot answer cannot promise the record: fail-closed means refuse.
    cause = error;
    diag.error(
      '@decisiontrail/instrumentation: recordAdmission.canAccept() failed; refusing the decision',
      error,
    );
  }
  if (accepted) return undefined;
  return new DecisionRefusedError(
    modelId,
    `decision of model "${modelId}" refused before it ran: its audit record cannot be kept now (recordLossPolicy fail-closed)`,
    cause === undefined ? undefined : { cause },
  );
}

function warnNoAdmission(): void {
  if (warnedNoAdmission) return;
  warnedNoAdmission = true;
  diag.warn(
    '@decisiontrail/instrumentation: recordLossPolicy is fail-closed but no recordAdmission is configured; decisions cannot be checked before they run and proceed',
  );
}
