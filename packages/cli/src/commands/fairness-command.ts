import { usageError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { formatCount, formatEstimate } from '../render/number-format.ts';
import { withBackend } from '../store/open-backend.ts';
import { parseTimeRange } from '../time-argument.ts';
import { requiredOption, stringOption } from './option-values.ts';

const DAY_MS = 86_400_000;

/** `decisiontrail fairness --model ID --positive O [--version V] [--from T] [--to T]` */
export const fairnessCommand: CommandSpec = {
  kind: 'command',
  name: 'fairness',
  summary: 'per fairness group: selection rate, accuracy, error rate, TPR and FPR with 95% intervals',
  usage:
    'fairness --model ID --positive OUTCOME [--version V] [--from T] [--to T] [--min-decisions N] [--json]',
  description:
    'For each audit.fairness.group of a model’s decisions in a period (default: the last 30 days): the share\n' +
    'with the positive outcome (selection rate), and from the latest ground-truth label of each decision the\n' +
    'accuracy, error rate, true positive rate and false positive rate — each with its sample size and a 95%\n' +
    'Wilson interval. A label that only says correct or not is read as binary (incorrect means "not the\n' +
    'predicted outcome"). The four-fifths rule compares the lowest selection rate with the highest; groups with\n' +
    'fewer decisions than --min-decisions (default 30) are named as too small to compare.',
  options: {
    model: { type: 'string', valueName: 'ID', description: 'model id (audit.model.id); required' },
    positive: {
      type: 'string',
      valueName: 'O',
      description: 'the favourable outcome, e.g. approve; required',
    },
    version: { type: 'string', valueName: 'V', description: 'only this model version' },
    from: { type: 'string', valueName: 'T', description: 'start of the period (default 30d)' },
    to: { type: 'string', valueName: 'T', description: 'end of the period (default now)' },
    'min-decisions': {
      type: 'string',
      valueName: 'N',
      description: 'decisions a group needs to be compared',
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    { command: 'fairness --model credit-risk --positive approve', note: 'the last 30 days' },
    {
      command: 'fairness --model credit-risk --version 2.0.0 --positive approve --from 7d --json',
      note: 'one version, as JSON',
    },
  ],
  async run(context) {
    const modelId = requiredOption(context, 'fairness', 'model');
    const positive = requiredOption(context, 'fairness', 'positive');
    const version = stringOption(context, 'version');
    const minText = stringOption(context, 'min-decisions');
    if (minText !== undefined && !/^[1-9]\d{0,8}$/.test(minText)) {
      throw usageError(
        `fairness: --min-decisions must be a positive integer, got ${JSON.stringify(minText)}`,
      );
    }
    const now = new Date();
    const range = parseTimeRange(
      stringOption(context, 'from'),
      stringOption(context, 'to'),
      { from: new Date(now.getTime() - 30 * DAY_MS), to: now },
      now,
    );
    const metrics = await withBackend(context.settings, (backend) =>
      backend.queries.fairnessMetrics({
        ...range,
        modelId,
        ...(version === undefined ? {} : { modelVersion: version }),
        positiveOutcome: positive,
        ...(minText === undefined ? {} : { minDecisions: Number(minText) }),
      }),
    );
    if (context.settings.json) {
      context.out.json(metrics);
      return EXIT_CODES.OK;
    }
    const out = context.out;
    if (metrics.groups.length === 0) {
      out.line(`no decisions of ${modelId} with a fairness group in the period`);
      return EXIT_CODES.OK;
    }
    out.line(
      out.style(
        'bold',
        `Fairness of ${modelId}${version ? ` ${version}` : ''}: positive outcome "${positive}"`,
      ),
    );
    for (const g of metrics.groups) {
      out.line();
      out.line(
        `${out.style('bold', `group ${g.group}`)}: ${formatCount(g.decisions)} decisions${metrics.smallGroups.includes(g.group) ? ' (too few to compare)' : ''}`,
      );
      out.line(`  selection rate       ${formatEstimate(g.selectionRate)}`);
      out.line(`  accuracy             ${formatEstimate(g.accuracy)}`);
      out.line(`  error rate           ${formatEstimate(g.errorRate)}`);
      out.line(`  true positive rate   ${formatEstimate(g.truePositiveRate)}`);
      out.line(`  false positive rate  ${formatEstimate(g.falsePositiveRate)}`);
    }
    out.line();
    const ratio = metrics.selectionRateRatio;
    out.line(
      ratio === null
        ? 'four-fifths rule: — (needs two groups and at least one positive outcome)'
        : `four-fifths rule: lowest / highest selection rate ${ratio.toFixed(3)}${metrics.failsFourFifths ? out.style('yellow', ' — below 0.8') : ' — not below 0.8'}` +
            (metrics.smallGroups.length > 0
              ? ` (groups too small to compare: ${metrics.smallGroups.join(', ')})`
              : ''),
    );
    return EXIT_CODES.OK;
  },
};
