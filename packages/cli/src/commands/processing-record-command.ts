import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import {
  buildProcessingRecord,
  renderProcessingRecordHtml,
  renderProcessingRecordMarkdown,
} from '../render/processing-record.ts';
import { withBackend } from '../store/open-backend.ts';
import { parseTimeArgument } from '../time-argument.ts';
import { choiceOption, stringOption } from './option-values.ts';

const FORMATS = ['md', 'html', 'json'] as const;

/** `decisiontrail processing-record [--from T] [--format md|html|json] [--out FILE]` */
export const processingRecordCommand: CommandSpec = {
  kind: 'command',
  name: 'processing-record',
  summary: 'the GDPR Art. 30 record of processing activities, from decisiontrail.yaml and the store',
  usage: 'processing-record [--from T] [--format md|html|json] [--out FILE]',
  description:
    'Per model: the purposes its decisions record, its versions and services, the kind of decision and human\n' +
    'involvement, the categories of data the records hold about people and how each is recorded (keyed hash,\n' +
    'redacted, plaintext, encrypted under the subject’s key — as the stored spans say), retention per record\n' +
    'class as configured, and the recipients of the records (the store, a forward target, independent\n' +
    'witnesses). What only the controller knows (who it is, legal bases, transfers, other security measures)\n' +
    'is listed for it to complete. --from limits the decisions read (default: all).',
  options: {
    from: { type: 'string', valueName: 'T', description: 'only decisions at or after T (default: all)' },
    format: {
      type: 'string',
      valueName: 'FMT',
      description: 'md (default), html or json (--json means json)',
    },
    out: { type: 'string', valueName: 'FILE', description: 'write to FILE instead of stdout' },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    { command: 'processing-record', note: 'as Markdown' },
    { command: 'processing-record --format html --out art30.html', note: 'a printable page' },
  ],
  async run(context) {
    const chosen = choiceOption(context, 'processing-record', 'format', FORMATS);
    if (chosen !== undefined && context.settings.json && chosen !== 'json') {
      throw usageError(`processing-record: --json and --format ${chosen} contradict each other`);
    }
    const format = context.settings.json ? 'json' : (chosen ?? 'md');
    const now = new Date();
    const fromText = stringOption(context, 'from');
    const from = fromText === undefined ? null : parseTimeArgument('from', fromText, now);
    const activities = await withBackend(context.settings, (backend) =>
      backend.queries.processingActivities({ ...(from === null ? {} : { from }), to: now }),
    );
    const record = buildProcessingRecord(activities, context.settings.config, { from, to: now }, now);
    const text =
      format === 'json'
        ? `${JSON.stringify(record, null, 2)}\n`
        : format === 'md'
          ? renderProcessingRecordMarkdown(record)
          : renderProcessingRecordHtml(record);
    const out = stringOption(context, 'out');
    if (out === undefined) {
      context.out.write(text);
      return EXIT_CODES.OK;
    }
    const target = path.resolve(context.settings.cwd, out);
    try {
      await writeFile(target, text);
    } catch (cause) {
      throw new CliError('FILE', `processing-record: cannot write ${target}: ${(cause as Error).message}`, {
        cause,
      });
    }
    context.err.line(`record of processing activities written to ${target}`);
    return EXIT_CODES.OK;
  },
};
