import type { SpanRecord } from '@decisiontrail/core';
import {
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_INPUT_CAPTURE_MODE,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INPUT_HASH_KEY_ID,
  ATTR_AUDIT_MODEL_CODE_COMMIT,
  ATTR_AUDIT_MODEL_CONFIG_HASH,
  ATTR_AUDIT_MODEL_FRAMEWORK,
  ATTR_AUDIT_MODEL_FRAMEWORK_VERSION,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_INFERENCE_PARAMETERS,
  ATTR_AUDIT_MODEL_INFERENCE_SEED,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_HASH,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_ID,
  ATTR_AUDIT_MODEL_TRAINING_DATASET_VERSION,
  ATTR_AUDIT_MODEL_TYPE,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_MODEL_WEIGHTS_HASH,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_SUBJECT_ID,
} from '@decisiontrail/semconv';
import { CliError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { formatTime } from '../render/number-format.ts';
import { evidenceQueryFor } from '../render/timeline-verification.ts';
import { isoFromNanos } from '../render/timeline-view.ts';
import { withBackend } from '../store/open-backend.ts';
import { decisionId } from './option-values.ts';

/** What a replay of one decision needs, as its signed span and its model's deployment recorded it. */
interface ReplayRecipe {
  decisionId: string;
  time: string;
  model: { id: string; version: string; type: string; framework: string };
  /** Each provenance fact with where it was found ('decision' span, 'deployment' record) or null when not recorded. */
  provenance: Record<
    'weightsHash' | 'configHash' | 'trainingDataset' | 'codeCommit' | 'seed' | 'parameters',
    { value: string; from: 'decision' | 'deployment' } | null
  >;
  /** The request parameters of a generative call (`gen_ai.request.*`). */
  request: Record<string, string>;
  input: { captureMode: string; hash: string; hashKeyId: string; subjectId: string };
  expected: { outcome: string; confidence: string; outputHash: string };
  /** What is not recorded, so a replay cannot be set up exactly. */
  missing: string[];
}

function recipeOf(record: SpanRecord, deployment: Record<string, string> | undefined): ReplayRecipe {
  const a = record.attributes;
  const at = (key: string): string => a[key] ?? '';
  const fact = (value: string, fallback?: string): ReplayRecipe['provenance']['weightsHash'] =>
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
  const provenance: ReplayRecipe['provenance'] = {
    weightsHash: fact(at(ATTR_AUDIT_MODEL_WEIGHTS_HASH), deployment?.['weights_hash']),
    configHash: fact(at(ATTR_AUDIT_MODEL_CONFIG_HASH)),
    trainingDataset: fact(
      dataset.some((x) => x !== '')
        ? `${dataset[0] || '?'} version ${dataset[1] || '?'} (${dataset[2] || 'no hash'})`
        : '',
    ),
    codeCommit: fact(at(ATTR_AUDIT_MODEL_CODE_COMMIT)),
    seed: fact(at(ATTR_AUDIT_MODEL_INFERENCE_SEED) || at('gen_ai.request.seed')),
    parameters: fact(at(ATTR_AUDIT_MODEL_INFERENCE_PARAMETERS)),
  };
  const request = Object.fromEntries(
    Object.entries(a)
      .filter(([key]) => key.startsWith('gen_ai.request.'))
      .sort(([x], [y]) => (x < y ? -1 : 1)),
  );
  const labels: Record<keyof ReplayRecipe['provenance'], string> = {
    weightsHash: 'the weights hash',
    configHash: 'the config hash',
    trainingDataset: 'the training data set',
    codeCommit: 'the code commit',
    seed: 'the inference seed',
    parameters: 'the inference parameters',
  };
  const missing = (Object.keys(provenance) as (keyof ReplayRecipe['provenance'])[])
    .filter((key) => provenance[key] === null && !(key === 'parameters' && Object.keys(request).length > 0))
    .map((key) => labels[key]);
  const mode = at(ATTR_AUDIT_INPUT_CAPTURE_MODE);
  if (mode !== 'full' && mode !== 'encrypt')
    missing.push(`the input itself (capture mode ${mode || 'not stated'})`);
  return {
    decisionId: at(ATTR_AUDIT_DECISION_ID),
    time: isoFromNanos(record.startTimeUnixNano),
    model: {
      id: at(ATTR_AUDIT_MODEL_ID),
      version: at(ATTR_AUDIT_MODEL_VERSION),
      type: at(ATTR_AUDIT_MODEL_TYPE),
      framework: `${at(ATTR_AUDIT_MODEL_FRAMEWORK)} ${at(ATTR_AUDIT_MODEL_FRAMEWORK_VERSION)}`.trim(),
    },
    provenance,
    request,
    input: {
      captureMode: mode,
      hash: at(ATTR_AUDIT_INPUT_HASH),
      hashKeyId: at(ATTR_AUDIT_INPUT_HASH_KEY_ID),
      subjectId: at(ATTR_AUDIT_SUBJECT_ID),
    },
    expected: {
      outcome: at(ATTR_AUDIT_DECISION_OUTCOME),
      confidence: at(ATTR_AUDIT_DECISION_CONFIDENCE),
      outputHash: at(ATTR_AUDIT_OUTPUT_HASH),
    },
    missing,
  };
}

/** `decisiontrail reproduce <decision-id>` */
export const reproduceCommand: CommandSpec = {
  kind: 'command',
  name: 'reproduce',
  summary:
    'the replay recipe of one decision: model, weights, config, data, code, parameters, input, outcome',
  usage: 'reproduce <decision-id> [--json]',
  description:
    'Reads the decision’s stored span and the deployment of its model version and prints what a re-run needs —\n' +
    'model and version, weights and config hashes, training data, code commit, seed and inference or request\n' +
    'parameters (each with where it was recorded), how the input was captured and its keyed hash, and the\n' +
    'outcome, confidence and output hash to compare a re-run with — and names what was not recorded, so a\n' +
    'replay cannot be set up exactly. The input itself is readable only when it was captured in full or\n' +
    'encrypted (decisiontrail subject decrypts it while the subject’s key exists). Values are shown as stored;\n' +
    'decisiontrail timeline checks them against the signed span.',
  options: {},
  positionals: { min: 1, max: 1, names: 'a decision id' },
  json: true,
  examples: [
    { command: 'reproduce 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b', note: 'how to re-run one decision' },
  ],
  async run(context) {
    const id = decisionId('reproduce', context.positionals[0]!);
    const recipe = await withBackend(context.settings, async (backend) => {
      const rows = await backend.queries.decisionTimeline({ decisionId: id });
      const decision = rows.find((row) => row.kind === 'decision' && row.decisionId === id);
      if (decision === undefined) throw new CliError('NOT_FOUND', `reproduce: no decision with id ${id}`);
      const evidence = await backend.queries.timelineEvidence(evidenceQueryFor([decision]));
      const record = evidence.spans.find((span) => span.spanId === decision.spanId);
      if (record === undefined)
        throw new CliError('NOT_FOUND', `reproduce: the span of decision ${id} is not stored`);
      // The latest deployment of the decided version before the decision (the timeline lists them in time order).
      const deployment = rows
        .filter(
          (row) =>
            row.kind === 'deployment' &&
            row.attributes['model_version'] === decision.attributes['model_version'],
        )
        .at(-1)?.attributes;
      return recipeOf(record, deployment);
    });
    if (context.settings.json) {
      context.out.json(recipe);
      return EXIT_CODES.OK;
    }
    const out = context.out;
    const show = (fact: ReplayRecipe['provenance']['weightsHash']): string =>
      fact === null
        ? '— not recorded'
        : `${fact.value}${fact.from === 'deployment' ? ' (from its deployment)' : ''}`;
    const m = recipe.model;
    out.line(
      out.style('bold', `Replay recipe of decision ${recipe.decisionId} (${formatTime(recipe.time)})`),
    );
    out.line(
      `  model          ${`${m.id} ${m.version}`.trim()}${m.type ? ` (${m.type}${m.framework ? `, ${m.framework}` : ''})` : ''}`,
    );
    out.line(`  weights        ${show(recipe.provenance.weightsHash)}`);
    out.line(`  config         ${show(recipe.provenance.configHash)}`);
    out.line(`  training data  ${show(recipe.provenance.trainingDataset)}`);
    out.line(`  code commit    ${show(recipe.provenance.codeCommit)}`);
    out.line(`  seed           ${show(recipe.provenance.seed)}`);
    out.line(`  parameters     ${show(recipe.provenance.parameters)}`);
    for (const [key, value] of Object.entries(recipe.request)) out.line(`  ${key.padEnd(14)} ${value}`);
    const input = recipe.input;
    out.line(
      `  input          captured as ${input.captureMode || 'not stated'}${input.hash ? `; HMAC ${input.hash} (key ${input.hashKeyId || '?'})` : ''}` +
        (input.captureMode === 'full' || input.captureMode === 'encrypt'
          ? input.subjectId
            ? `; content: decisiontrail subject ${input.subjectId}`
            : '; content kept in the span'
          : ''),
    );
    const e = recipe.expected;
    out.line(
      `  expect         outcome ${e.outcome || '—'}${e.confidence ? `, confidence ${e.confidence}` : ''}${e.outputHash ? `, output HMAC ${e.outputHash}` : ''}`,
    );
    out.line(
      recipe.missing.length === 0
        ? 'Everything a replay needs is recorded.'
        : out.style(
            'yellow',
            `Not recorded, so a replay cannot be set up exactly: ${recipe.missing.join(', ')}.`,
          ),
    );
    return EXIT_CODES.OK;
  },
};
