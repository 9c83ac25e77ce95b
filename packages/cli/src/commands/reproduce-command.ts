import type { SpanRecord } from '@decisiontrail/core';
import {
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_INPUT_CAPTURE_MODE,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INPUT_HASH_KEY_ID,
  ATTR_AUDIT_MODEL_FRAMEWORK,
  ATTR_AUDIT_MODEL_FRAMEWORK_VERSION,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_TYPE,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_SUBJECT_ID,
} from '@decisiontrail/semconv';
import path from 'node:path';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { rerunOnnxDecision, type RerunResult } from '../onnx-rerun.ts';
import { subjectKeyDecrypter } from '../recorded-content.ts';
import { formatConfidence, formatTime } from '../render/number-format.ts';
import {
  deploymentOfVersion,
  PROVENANCE_NAMES,
  provenanceOf,
  provenanceText,
  type DecisionProvenance,
} from '../render/decision-provenance.ts';
import { evidenceQueryFor } from '../render/timeline-verification.ts';
import { isoFromNanos } from '../render/timeline-view.ts';
import { withBackend } from '../store/open-backend.ts';
import { decisionId, stringOption } from './option-values.ts';

/** What a replay of one decision needs, as its signed span and its model's deployment recorded it. */
interface ReplayRecipe {
  decisionId: string;
  time: string;
  model: { id: string; version: string; type: string; framework: string };
  /** Each provenance fact with where it was found ('decision' span, 'deployment' record) or null when not recorded. */
  provenance: DecisionProvenance;
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
  const provenance = provenanceOf(a, deployment);
  const request = Object.fromEntries(
    Object.entries(a)
      .filter(([key]) => key.startsWith('gen_ai.request.'))
      .sort(([x], [y]) => (x < y ? -1 : 1)),
  );
  const missing = (Object.keys(provenance) as (keyof DecisionProvenance)[])
    .filter((key) => provenance[key] === null && !(key === 'parameters' && Object.keys(request).length > 0))
    .map((key) => PROVENANCE_NAMES[key]);
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
  usage:
    'reproduce <decision-id> [--model FILE.onnx [--labels LIST] [--probability-output NAME] [--keystore DIR]] [--json]',
  description:
    'Reads the decision’s stored span and the deployment of its model version and prints what a re-run needs —\n' +
    'model and version, weights and config hashes, training data, code commit, seed and inference or request\n' +
    'parameters (each with where it was recorded), how the input was captured and its keyed hash, and the\n' +
    'outcome, confidence and output hash to compare a re-run with — and names what was not recorded, so a\n' +
    'replay cannot be set up exactly. Values are shown as stored; decisiontrail timeline checks them against\n' +
    'the signed span.\n' +
    '\n' +
    'With --model, an ONNX decision is re-run: the file’s SHA-256 must be the recorded weights hash (of the\n' +
    'decision, else of its deployment), the input must have been captured in full or encrypted (decrypted with the\n' +
    'subject’s key: --keystore, else DECISIONTRAIL_KEYSTORE_DIR, else keys.dir), and onnxruntime-node must be\n' +
    'installed. The outcome is read as the instrumentation reads it: the top class of the probability output,\n' +
    'named by --labels, else by the model’s `labels` metadata, else by its index. Exit 0: reproduced — the\n' +
    'recorded model gave the recorded outcome; 1: not reproduced — it gave another; 9: cannot re-run — the input\n' +
    'was only hashed, its key was erased, the file is missing, not ONNX or not the recorded model (each reason\n' +
    'is printed).',
  options: {
    model: {
      type: 'string',
      valueName: 'FILE',
      description: 'the ONNX model file to re-run the decision with',
    },
    labels: {
      type: 'string',
      valueName: 'LIST',
      description: 'class labels, comma-separated, as the instrumentation was configured (with --model)',
    },
    'probability-output': {
      type: 'string',
      valueName: 'NAME',
      description: 'output tensor of class probabilities (with --model)',
    },
    keystore: { type: 'string', valueName: 'DIR', description: 'directory of the subject data keys' },
  },
  positionals: { min: 1, max: 1, names: 'a decision id' },
  json: true,
  examples: [
    { command: 'reproduce 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b', note: 'how to re-run one decision' },
    {
      command: 'reproduce 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b --model credit-v2.onnx',
      note: 're-run it with the model file and compare',
    },
  ],
  async run(context) {
    const id = decisionId('reproduce', context.positionals[0]!);
    const modelOption = stringOption(context, 'model');
    const labelsOption = stringOption(context, 'labels');
    const probabilityOutput = stringOption(context, 'probability-output');
    if (modelOption === undefined && (labelsOption !== undefined || probabilityOutput !== undefined))
      throw usageError('reproduce: --labels and --probability-output go with --model');
    if (modelOption === '') throw usageError('reproduce: --model needs a file name');
    const labels = labelsOption?.split(',').map((label) => label.trim());
    if (labels !== undefined && labels.some((label) => label === ''))
      throw usageError(`reproduce: --labels ${JSON.stringify(labelsOption)} has an empty label`);
    const { recipe, record } = await withBackend(context.settings, async (backend) => {
      const rows = await backend.queries.decisionTimeline({ decisionId: id });
      const decision = rows.find((row) => row.kind === 'decision' && row.decisionId === id);
      if (decision === undefined) throw new CliError('NOT_FOUND', `reproduce: no decision with id ${id}`);
      const evidence = await backend.queries.timelineEvidence(evidenceQueryFor([decision]));
      const record = evidence.spans.find((span) => span.spanId === decision.spanId);
      if (record === undefined)
        throw new CliError('NOT_FOUND', `reproduce: the span of decision ${id} is not stored`);
      // The latest deployment of the decided version before the decision (the timeline lists them in time order).
      const deployment = deploymentOfVersion(rows, decision.attributes['model_version']);
      return { recipe: recipeOf(record, deployment), record };
    });
    const rerun =
      modelOption === undefined
        ? undefined
        : await rerunOnnxDecision({
            record,
            modelFile: path.resolve(context.settings.cwd, modelOption),
            recordedWeightsHash: recipe.provenance.weightsHash?.value ?? null,
            framework: recipe.model.framework,
            captureMode: recipe.input.captureMode,
            recorded: recipe.expected,
            decrypt: await subjectKeyDecrypter(context),
            reading: {
              ...(labels === undefined ? {} : { labels }),
              ...(probabilityOutput === undefined ? {} : { probabilityOutput }),
            },
          });
    const code =
      rerun === undefined || rerun.verdict === 'reproduced'
        ? EXIT_CODES.OK
        : rerun.verdict === 'not reproduced'
          ? EXIT_CODES.INTEGRITY
          : EXIT_CODES.NOT_REPRODUCIBLE;
    if (context.settings.json) {
      context.out.json(rerun === undefined ? recipe : { ...recipe, rerun });
      return code;
    }
    const out = context.out;
    const show = provenanceText;
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
    if (rerun !== undefined) printRerun(out, rerun);
    return code;
  },
};

function printRerun(out: CommandContext['out'], rerun: RerunResult): void {
  const m = rerun.model;
  out.line('');
  out.line(out.style('bold', `Re-run with ${m.file}`));
  out.line(
    `  weights        ${m.weightsHash ?? '— file not read'}${
      m.weightsMatch === null ? '' : m.weightsMatch ? ' (the recorded hash)' : ' (NOT the recorded hash)'
    }`,
  );
  if (rerun.rerun !== null) {
    const r = rerun.rerun;
    const recorded = rerun.recorded;
    out.line(
      `  outcome        ${r.outcome}${r.outcome !== r.classIndex ? ` (class ${r.classIndex})` : ''}; recorded ${recorded.outcome || '—'}`,
    );
    if (r.confidence !== null)
      out.line(
        `  confidence     ${formatConfidence(r.confidence)}; recorded ${
          recorded.confidence === null ? '—' : formatConfidence(recorded.confidence)
        }${recorded.confidence === null ? '' : ` (difference ${Math.abs(r.confidence - recorded.confidence).toExponential(1)})`}`,
      );
  }
  const because = rerun.reasons.length === 0 ? '' : `: ${rerun.reasons.join('; ')}`;
  out.line(
    rerun.verdict === 'reproduced'
      ? out.style('green', 'Reproduced: the recorded model gave the recorded outcome on the recorded input.')
      : rerun.verdict === 'not reproduced'
        ? out.style('red', `Not reproduced${because}.`)
        : out.style('yellow', `Cannot re-run${because}.`),
  );
}
