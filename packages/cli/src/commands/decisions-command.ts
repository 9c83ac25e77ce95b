import type { DecisionSearch, FoundDecision } from '@decisiontrail/clickhouse';
import type { NoteVerifierKey } from '@decisiontrail/core';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { incidentScope } from '../incident-window.ts';
import { formatConfidence, formatCount, formatTime } from '../render/number-format.ts';
import { trustedSealedSizes } from '../render/report-integrity.ts';
import { isoFromNanos } from '../render/timeline-view.ts';
import { withBackend } from '../store/open-backend.ts';
import { BEGINNING_OF_TIME, END_OF_TIME } from '../store/time-bounds.ts';
import { parseTimeArgument } from '../time-argument.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';
import { choiceOption, listOption, stringOption } from './option-values.ts';

const INTEGRITY = ['sealed', 'unsealed', 'untrusted', 'unsigned'] as const;
const SORTS = ['time', 'confidence'] as const;
const CSV_COLUMNS = [
  'time',
  'decision_id',
  'model_id',
  'model_version',
  'outcome',
  'confidence',
  'overridden',
  'integrity',
  'subject_id',
  'fairness_group',
  'service',
  'trace_id',
  'span_id',
] as const;

function confidenceOption(context: CommandContext, name: string): number | undefined {
  const text = stringOption(context, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw usageError(`decisions: --${name} must be a number from 0 to 1, got ${JSON.stringify(text)}`);
  }
  return value;
}

function limitOption(context: CommandContext): number {
  const text = stringOption(context, 'limit') ?? '50';
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1000) {
    throw usageError(`decisions: --limit must be an integer from 1 to 1000, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** A CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvRow(d: FoundDecision): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string> = {
    time: isoFromNanos(d.timeUnixNano),
    decision_id: d.decisionId,
    model_id: d.modelId,
    model_version: d.modelVersion,
    outcome: d.outcome,
    confidence: d.confidence === null ? '' : String(d.confidence),
    overridden: String(d.overridden),
    integrity: d.integrity ?? '',
    subject_id: d.subjectId,
    fairness_group: d.fairnessGroup,
    service: d.service,
    trace_id: d.traceId,
    span_id: d.spanId,
  };
  return CSV_COLUMNS.map((column) => csvField(values[column])).join(',');
}

/** The table people read: one line per decision, columns padded to the widest cell. */
function textTable(decisions: readonly FoundDecision[], withIntegrity: boolean): string[] {
  const header = ['time', 'decision', 'model', 'outcome', 'confidence', 'overridden', 'subject'];
  if (withIntegrity) header.push('integrity');
  const rows = decisions.map((d) => {
    const row = [
      formatTime(isoFromNanos(d.timeUnixNano)),
      d.decisionId,
      `${d.modelId} ${d.modelVersion}`.trim() || '—',
      d.outcome || '—',
      formatConfidence(d.confidence),
      d.overridden ? 'yes' : 'no',
      d.subjectId || '—',
    ];
    if (withIntegrity) row.push(d.integrity ?? '—');
    return row;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** `decisiontrail decisions [filters] [--sort …] [--limit N] [--cursor C] [--json | --csv]` */
export const decisionsCommand: CommandSpec = {
  kind: 'command',
  name: 'decisions',
  summary:
    'find decisions by time, model, outcome, override, confidence, subject, group, incident or integrity',
  usage:
    'decisions [--from T] [--to T] [--model ID] [--version V] [--outcome O] [--overridden yes|no] ' +
    '[--min-confidence X] [--max-confidence X] [--subject ID] [--group G] [--incident ID] [--integrity STATUS] ' +
    '[--sort time|confidence] [--asc] [--limit N] [--cursor C] [--json | --csv]',
  description:
    'Lists the decisions that match every filter given, newest first (or by confidence with --sort confidence;\n' +
    '--asc reverses), one page at a time: the last line names the --cursor of the next page, which pages with the\n' +
    'same filters never repeat or skip a decision. --incident finds the decisions an incident affected: the ones\n' +
    'it names and those of its model (and version) in its window. --integrity filters on what a decision’s\n' +
    'integrity rests on: sealed (its leaf index is below a checkpoint of its stream a trusted key signed),\n' +
    'unsealed (after the last one), untrusted (no trusted key signed its stream) or unsigned (no stream); leaves\n' +
    'are not recomputed here, so sealed is not verified (decisiontrail verify, or timeline for one decision).\n' +
    'The integrity column appears when a trusted key is configured. --csv writes RFC 4180 CSV with a header.',
  options: {
    from: { type: 'string', valueName: 'T', description: 'decisions at or after T (default: all)' },
    to: { type: 'string', valueName: 'T', description: 'decisions before T (default: now)' },
    model: { type: 'string', valueName: 'ID', description: 'model id (audit.model.id)' },
    version: { type: 'string', valueName: 'V', description: 'model version ("" for decisions without one)' },
    service: { type: 'string', valueName: 'NAME', description: 'service.name of the deciding service' },
    outcome: { type: 'string', valueName: 'O', description: 'outcome as recorded (audit.decision.outcome)' },
    overridden: { type: 'string', valueName: 'yes|no', description: 'overridden by a person, or not' },
    'min-confidence': { type: 'string', valueName: 'X', description: 'confidence at least X (0..1)' },
    'max-confidence': { type: 'string', valueName: 'X', description: 'confidence at most X (0..1)' },
    subject: { type: 'string', valueName: 'ID', description: 'pseudonymous data subject (audit.subject.id)' },
    group: { type: 'string', valueName: 'G', description: 'fairness group (audit.fairness.group)' },
    incident: { type: 'string', valueName: 'ID', description: 'the decisions an incident affected' },
    integrity: {
      type: 'string',
      valueName: 'STATUS',
      description: 'sealed, unsealed, untrusted or unsigned (needs a trusted key)',
    },
    sort: { type: 'string', valueName: 'KEY', description: 'time (default) or confidence' },
    asc: { type: 'boolean', description: 'oldest or least confident first' },
    limit: { type: 'string', valueName: 'N', description: 'decisions per page, 1..1000 (default 50)' },
    cursor: { type: 'string', valueName: 'C', description: 'the next page, as the previous page named it' },
    csv: { type: 'boolean', description: 'CSV with a header row instead of the table' },
    key: {
      type: 'string',
      multiple: true,
      valueName: 'PUB',
      description: 'trusted public key file (default: the keys directory)',
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    {
      command: 'decisions --model credit-risk --version 2.0.0 --overridden yes --from 7d',
      note: 'last week’s overridden decisions of version 2.0.0',
    },
    { command: 'decisions --subject applicant-1042 --json', note: 'everything decided about one subject' },
    {
      command: 'decisions --model credit-risk --min-confidence 0.45 --max-confidence 0.55 --sort confidence',
      note: 'decisions near the threshold, most confident first',
    },
    { command: 'decisions --incident 0193… --csv > affected.csv', note: 'what an incident affected, as CSV' },
  ],
  async run(context) {
    if (context.settings.json && context.options['csv'] === true) {
      throw usageError('decisions: --json and --csv contradict each other');
    }
    const now = new Date();
    const from = stringOption(context, 'from');
    const to = stringOption(context, 'to');
    const range = {
      from: from === undefined ? BEGINNING_OF_TIME : parseTimeArgument('from', from, now),
      to: to === undefined ? END_OF_TIME : parseTimeArgument('to', to, now),
    };
    if (range.to.getTime() < range.from.getTime()) {
      throw usageError(
        `decisions: --from (${range.from.toISOString()}) must be before --to (${range.to.toISOString()})`,
      );
    }
    const overridden = choiceOption(context, 'decisions', 'overridden', ['yes', 'no'] as const);
    const integrity = choiceOption(context, 'decisions', 'integrity', INTEGRITY);
    const sort = choiceOption(context, 'decisions', 'sort', SORTS) ?? 'time';
    const min = confidenceOption(context, 'min-confidence');
    const max = confidenceOption(context, 'max-confidence');
    if (min !== undefined && max !== undefined && min > max) {
      throw usageError('decisions: --min-confidence must not exceed --max-confidence');
    }
    const given = listOption(context, 'key');
    let keys: NoteVerifierKey[] = [];
    try {
      keys = await loadTrustedKeys(context.settings, given, 'decisions');
    } catch (error) {
      // Without a key the list still shows; filtering on integrity needs one.
      if (!(
        error instanceof CliError &&
        error.code === 'KEY' &&
        given.length === 0 &&
        integrity === undefined
      ))
        throw error;
    }
    const optional = <T>(name: string, value: T | undefined): Partial<Record<string, T>> =>
      value === undefined ? {} : { [name]: value };
    const search: DecisionSearch = {
      ...range,
      ...optional('modelId', stringOption(context, 'model')),
      ...optional('modelVersion', stringOption(context, 'version')),
      ...optional('service', stringOption(context, 'service')),
      ...optional('outcome', stringOption(context, 'outcome')),
      ...optional('subjectId', stringOption(context, 'subject')),
      ...optional('fairnessGroup', stringOption(context, 'group')),
      ...optional('overridden', overridden === undefined ? undefined : overridden === 'yes'),
      ...optional('minConfidence', min),
      ...optional('maxConfidence', max),
      ...optional('integrity', integrity),
      ...optional('cursor', stringOption(context, 'cursor')),
      sort,
      order: context.options['asc'] === true ? 'asc' : 'desc',
      limit: limitOption(context),
    };
    const page = await withBackend(context.settings, async (backend) => {
      const incidentId = stringOption(context, 'incident');
      if (incidentId !== undefined) {
        const incident = await backend.queries.getIncident(incidentId);
        if (incident === null) throw new CliError('NOT_FOUND', `decisions: no incident ${incidentId}`);
        search.incident = incidentScope(incident);
      }
      if (keys.length > 0) {
        const coverage = await backend.queries.integrityCoverage({
          from: range.from,
          to: range.to,
          ...optional('modelId', search.modelId),
          ...optional('modelVersion', search.modelVersion),
          ...optional('service', search.service),
        });
        search.sealed = trustedSealedSizes(coverage, keys);
      }
      return backend.queries.findDecisions(search);
    });
    if (context.settings.json) {
      context.out.json(page);
      return EXIT_CODES.OK;
    }
    const next =
      page.nextCursor === null ? null : `next page: decisiontrail decisions … --cursor ${page.nextCursor}`;
    if (context.options['csv'] === true) {
      context.out.write(`${[CSV_COLUMNS.join(','), ...page.decisions.map(csvRow)].join('\n')}\n`);
      // stdout stays pure CSV; where the next page starts goes to stderr.
      if (next !== null) context.err.line(next);
      return EXIT_CODES.OK;
    }
    if (page.decisions.length === 0) {
      context.out.line('no decisions match');
      return EXIT_CODES.OK;
    }
    for (const line of textTable(page.decisions, search.sealed !== undefined)) context.out.line(line);
    context.out.line(
      `${formatCount(page.decisions.length)} decision(s)${next === null ? '; no more pages' : `; ${next}`}`,
    );
    return EXIT_CODES.OK;
  },
};
