import {
  ATTR_AUDIT_MODEL_CODE_COMMIT,
  ATTR_AUDIT_MODEL_CONFIG_HASH,
  ATTR_AUDIT_MODEL_INFERENCE_PARAMETERS,
  ATTR_AUDIT_MODEL_INFERENCE_SEED,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_HASH,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_ID,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_VERSION,
  ATTR_AUDIT_MODEL_WEIGHTS_HASH,
} from '@decisiontrail/semconv';

/** One provenance fact with where it was recorded, or null when nothing recorded it. */
export type ProvenanceFact = { value: string; from: 'decision' | 'deployment' } | null;

/** Where a decision's model came from, as its signed span (and its version's deployment) recorded it. */
export interface DecisionProvenance {
  weightsHash: ProvenanceFact;
  configHash: ProvenanceFact;
  /** `id version V (hash)`, with `?` for a part not recorded. */
  trainingDataset: ProvenanceFact;
  codeCommit: ProvenanceFact;
  seed: ProvenanceFact;
  parameters: ProvenanceFact;
}

/** How each fact is named where a command lists what was not recorded. */
export const PROVENANCE_NAMES: Record<keyof DecisionProvenance, string> = {
  weightsHash: 'the weights hash',
  configHash: 'the config hash',
  trainingDataset: 'the training data set',
  codeCommit: 'the code commit',
  seed: 'the inference seed',
  parameters: 'the inference parameters',
};

/**
 * The provenance of a decision from its span's attributes (`audit.model.*`); the weights hash falls back to the
 * deployment record of the decided version (its `weights_hash`), which `recordDeployment` carries.
 */
export function provenanceOf(
  attributes: Readonly<Record<string, string>>,
  deployment?: Readonly<Record<string, string>>,
): DecisionProvenance {
  const at = (key: string): string => attributes[key] ?? '';
  const fact = (value: string, fallback?: string): ProvenanceFact =>
    value !== ''
      ? { value, from: 'decision' }
      : fallback !== undefined && fallback !== ''
        ? { value: fallback, from: 'deployment' }
        : null;
  const dataset = [
    at(ATTR_AUDIT_MODEL_TRAINING_DATASET_ID),
    at(ATTR_AUDIT_MODEL_TRAINING_DATASET_VERSION),
    at(ATTR_AUDIT_MODEL_TRAINING_DATASET_HASH),
  ];
  return {
    weightsHash: fact(at(ATTR_AUDIT_MODEL_WEIGHTS_HASH), deployment?.['weights_hash']),
    configHash: fact(at(ATTR_AUDIT_MODEL_CONFIG_HASH)),
    trainingDataset: fact(
      dataset.some((x) => x !== '')
        ? `${dataset[0] || 'id not recorded'} (version ${dataset[1] || 'not recorded'}; hash ${dataset[2] || 'not recorded'})`
        : '',
    ),
    codeCommit: fact(at(ATTR_AUDIT_MODEL_CODE_COMMIT)),
    seed: fact(at(ATTR_AUDIT_MODEL_INFERENCE_SEED) || at('gen_ai.request.seed')),
    parameters: fact(at(ATTR_AUDIT_MODEL_INFERENCE_PARAMETERS)),
  };
}

/** A fact as people read it: the value, where it came from when not the decision, or "not recorded". */
export function provenanceText(fact: ProvenanceFact): string {
  return fact === null
    ? '— not recorded'
    : `${fact.value}${fact.from === 'deployment' ? ' (from its deployment)' : ''}`;
}

/** The latest deployment of the decided version among timeline rows (they come in time order), if any. */
export function deploymentOfVersion(
  rows: readonly { kind: string; attributes: Readonly<Record<string, string>> }[],
  modelVersion: string | undefined,
): Readonly<Record<string, string>> | undefined {
  return rows
    .filter((row) => row.kind === 'deployment' && row.attributes['model_version'] === modelVersion)
    .at(-1)?.attributes;
}
