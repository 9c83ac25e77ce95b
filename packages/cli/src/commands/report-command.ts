import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { renderReportHtml } from '../render/report-html.ts';
import { renderReportMarkdown } from '../render/report-markdown.ts';
import { buildReportDocument } from '../render/report-view.ts';
import { withBackend } from '../store/open-backend.ts';
import { BEGINNING_OF_TIME, END_OF_TIME } from '../store/time-bounds.ts';
import { parseTimeRange } from '../time-argument.ts';
import type { NoteVerifierKey } from '@decisiontrail/core';
import { loadTrustedKeys } from '../trusted-keys.ts';
import { choiceOption, listOption, requiredOption, stringOption } from './option-values.ts';

const FORMATS = ['json', 'md', 'html'] as const;
const DAY_MS = 86_400_000;

/** `decisiontrail report --model ID [--version V] --from T --to T --format json|md|html` */
export const reportCommand: CommandSpec = {
  kind: 'command',
  name: 'report',
  summary: 'the EU AI Act period report of a model (json, md, or a printable html file with charts)',
  usage: 'report --model ID [--version V] [--from T] [--to T] [--format json|md|html] [--out FILE]',
  description:
    'Totals, outcomes, accuracy and error rate from feedback, human-oversight counts, bias metrics per fairness\n' +
    'group (as decisiontrail fairness: selection rate of --outcome, accuracy, error rate, TPR and FPR with sample\n' +
    'sizes and 95% intervals, the four-fifths rule), incidents, retention and data-governance facts for one\n' +
    'model over a period (default: the last 30\n' +
    'days). HTML is one self-contained file with SVG charts: decisions over time, override rate, confidence\n' +
    'histogram, accuracy per version, outcome rate per fairness group. Times: ISO dates or times (UTC unless\n' +
    'an offset is given), "now", or a span back from now such as 7d; a period that reaches past now ends now.\n' +
    'The headline says how many of the decisions are sealed by a checkpoint a trusted key signed, after the last\n' +
    'one, from untrusted streams, or unsigned; it does not recompute leaves (decisiontrail verify does), so it\n' +
    'never calls them verified.',
  options: {
    model: { type: 'string', valueName: 'ID', description: 'model id (audit.model.id); required' },
    version: { type: 'string', valueName: 'V', description: 'only this model version' },
    from: { type: 'string', valueName: 'T', description: 'start of the period (inclusive; default 30d)' },
    to: { type: 'string', valueName: 'T', description: 'end of the period (exclusive; default now)' },
    format: {
      type: 'string',
      valueName: 'FMT',
      description: 'json, md or html (default md; --json means json)',
    },
    outcome: {
      type: 'string',
      valueName: 'O',
      description:
        'outcome compared across fairness groups, the positive one of TPR and FPR (default: the most frequent)',
    },
    out: { type: 'string', valueName: 'FILE', description: 'write the report to FILE instead of stdout' },
    key: {
      type: 'string',
      multiple: true,
      valueName: 'PUB',
      description: 'trusted public key file for the integrity headline (default: the keys directory)',
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    {
      command: 'report --model credit-risk --from 2026-01-01 --to 2026-04-01',
      note: 'a quarter as Markdown',
    },
    {
      command: 'report --model credit-risk --version 2.0.0 --from 7d --format html --out report.html',
      note: 'last week of version 2.0.0 (as the demo deploys it) as a printable HTML file',
    },
    { command: 'report --model credit-risk --json', note: 'the last 30 days as JSON' },
  ],
  async run(context) {
    const modelId = requiredOption(context, 'report', 'model');
    const version = stringOption(context, 'version');
    const chosen = choiceOption(context, 'report', 'format', FORMATS);
    if (chosen !== undefined && context.settings.json && chosen !== 'json') {
      throw usageError(`report: --json and --format ${chosen} contradict each other`);
    }
    const format = context.settings.json ? 'json' : (chosen ?? 'md');
    const now = new Date();
    const range = parseTimeRange(
      stringOption(context, 'from'),
      stringOption(context, 'to'),
      { from: new Date(now.getTime() - 30 * DAY_MS), to: now },
      now,
    );
    const outFile = stringOption(context, 'out');
    const given = listOption(context, 'key');
    let keys: NoteVerifierKey[] = [];
    try {
      keys = await loadTrustedKeys(context.settings, given, 'report');
    } catch (error) {
      // Without any configured key the report still renders and says its decisions were not checked.
      if (!(error instanceof CliError && error.code === 'KEY' && given.length === 0)) throw error;
    }
    const report = await withBackend(context.settings, async (backend) => {
      // An unknown model or version is an error; a known one without decisions in the period is a valid, empty report.
      const any = await backend.queries.decisions({
        from: BEGINNING_OF_TIME,
        to: END_OF_TIME,
        modelId,
        ...(version === undefined ? {} : { modelVersion: version }),
        limit: 1,
      });
      if (any.length === 0) {
        const what =
          version === undefined
            ? `model ${JSON.stringify(modelId)}`
            : `model ${JSON.stringify(modelId)} version ${JSON.stringify(version)}`;
        throw new CliError('NOT_FOUND', `report: no decisions of ${what} in the store`);
      }
      const outcome = stringOption(context, 'outcome');
      return buildReportDocument(
        backend.queries,
        { modelId, modelVersion: version, ...range, outcome },
        keys,
        now,
      );
    });
    const text =
      format === 'json'
        ? `${JSON.stringify(report, null, 2)}\n`
        : format === 'md'
          ? renderReportMarkdown(report)
          : renderReportHtml(report);
    if (outFile === undefined) {
      context.out.write(text);
      return EXIT_CODES.OK;
    }
    const target = path.resolve(context.settings.cwd, outFile);
    try {
      await writeFile(target, text);
    } catch (cause) {
      throw new CliError('FILE', `report: cannot write ${target}: ${(cause as Error).message}`, { cause });
    }
    context.err.line(`report written to ${target}`);
    return EXIT_CODES.OK;
  },
};
