import type { QuarantinedSpan } from '@decisiontrail/clickhouse';
import { ATTR_AUDIT_DECISION_ID, ATTR_AUDIT_RECORD_TYPE } from '@decisiontrail/semconv';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandGroupSpec, CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { formatTimeMs } from '../render/number-format.ts';
import type { TerminalOutput } from '../terminal-output.ts';
import { withBackend } from '../store/open-backend.ts';
import { parseTimeArgument } from '../time-argument.ts';
import { stringOption } from './option-values.ts';

const DEFAULT_LIMIT = 100;
const SPAN_ID = /^[0-9a-f]{16}$/i;
const TRACE_ID = /^[0-9a-f]{32}$/i;

/** A quarantined span as the commands show it (`--json` prints these). */
export interface QuarantineView {
  receivedAt: string;
  code: string;
  reason: string;
  stream: string;
  traceId: string;
  spanId: string;
  name: string;
  recordType: string;
  /** The `audit.decision.id` the span carries, as it arrived ('' when none). */
  decisionId: string;
}

/** The view of one quarantined span (what `list --json` prints; `show --json` adds its attributes). */
export function quarantineView(entry: QuarantinedSpan): QuarantineView {
  return {
    receivedAt: entry.receivedAt.toISOString(),
    code: entry.code,
    reason: entry.reason,
    stream: entry.stream,
    traceId: entry.record.traceId,
    spanId: entry.record.spanId,
    name: entry.record.name,
    recordType: entry.record.attributes[ATTR_AUDIT_RECORD_TYPE] ?? '',
    decisionId: entry.record.attributes[ATTR_AUDIT_DECISION_ID] ?? '',
  };
}

/** One line naming a quarantined span and why; the timeline uses it too. */
export function quarantineSummary(entry: QuarantinedSpan): string {
  return `quarantined at ${formatTimeMs(entry.receivedAt.toISOString())} (${entry.code}: ${entry.reason})`;
}

const listCommand: CommandSpec = {
  kind: 'command',
  name: 'quarantine list',
  summary: 'spans the processor refused into quarantine, newest first, with the reason',
  usage: 'quarantine list [--code CODE] [--from T] [--to T] [--limit N] [--json]',
  description:
    'Lists the spans the processor kept out of the store: those verification named (modified, reordered,\n' +
    'unexpected, ...), signed spans carrying plaintext the policy removed (POLICY_SIGNED_PLAINTEXT), unsigned audit\n' +
    'spans under verify.unsigned: quarantine (UNSIGNED) and audit records whose audit.decision.id no lookup could\n' +
    'reach (MALFORMED_DECISION_ID). --from/--to select by the time they were received.',
  options: {
    code: { type: 'string', valueName: 'CODE', description: 'only this reason code' },
    from: { type: 'string', valueName: 'T', description: 'received at or after T (ISO time, or 7d, 36h)' },
    to: { type: 'string', valueName: 'T', description: 'received before T' },
    limit: { type: 'string', valueName: 'N', description: `at most N spans (default ${DEFAULT_LIMIT})` },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    { command: 'quarantine list', note: 'the latest refused spans and why' },
    { command: 'quarantine list --code MALFORMED_DECISION_ID --from 7d', note: 'one reason, last week' },
  ],
  async run(context) {
    const now = new Date();
    const fromText = stringOption(context, 'from');
    const toText = stringOption(context, 'to');
    const from = fromText === undefined ? undefined : parseTimeArgument('--from', fromText, now);
    const to = toText === undefined ? undefined : parseTimeArgument('--to', toText, now);
    if (from !== undefined && to !== undefined && from.getTime() >= to.getTime())
      throw usageError('quarantine list: --from must be before --to');
    const limit = limitOption(stringOption(context, 'limit'));
    const code = stringOption(context, 'code');
    const entries = await withBackend(context.settings, (backend) =>
      backend.queries.listQuarantine({
        ...(code !== undefined && { code }),
        ...(from !== undefined && { from }),
        ...(to !== undefined && { to }),
        limit,
      }),
    );
    if (context.settings.json) {
      context.out.json(entries.map(quarantineView));
      return EXIT_CODES.OK;
    }
    if (entries.length === 0) {
      context.out.line('no quarantined spans');
      return EXIT_CODES.OK;
    }
    for (const entry of entries) {
      const view = quarantineView(entry);
      context.out.line(
        `${formatTimeMs(view.receivedAt)}  ${view.code}  span ${view.spanId}  ${view.decisionId === '' ? view.name : `decision ${JSON.stringify(view.decisionId)}`}`,
      );
      context.out.line(`    ${view.reason}`);
    }
    if (entries.length === limit)
      context.out.line(`(the newest ${limit}; --limit shows more, --code and --from/--to narrow)`);
    return EXIT_CODES.OK;
  },
};

const showCommand: CommandSpec = {
  kind: 'command',
  name: 'quarantine show',
  summary: 'the quarantined spans of one decision, trace or span: why, and the whole record',
  usage: 'quarantine show <decision-id | trace-id | span-id> [--json]',
  description:
    'Shows each quarantined span whose audit.decision.id is the argument as given (malformed ids included),\n' +
    'or whose trace id (32 hex digits) or span id (16 hex digits) it is: when and why it was refused, its stream,\n' +
    'and every attribute it arrived with. Exit 3 when nothing matches.',
  options: {},
  positionals: { min: 1, max: 1, names: 'a decision id, trace id or span id' },
  json: true,
  examples: [
    { command: 'quarantine show not-a-uuid', note: 'the record that carried that decision id' },
    { command: 'quarantine show 4bf92f3577b34da6a3ce929d0e0e4736', note: 'quarantined spans of a trace' },
  ],
  async run(context) {
    const target = context.positionals[0]!;
    if (target === '' || [...target].some((char) => char.charCodeAt(0) < 0x20 || char === '\x7f'))
      throw usageError(`quarantine show: ${JSON.stringify(target)} is not a usable id`);
    const query = SPAN_ID.test(target)
      ? { spanId: target.toLowerCase() }
      : TRACE_ID.test(target)
        ? { traceId: target.toLowerCase() }
        : { decisionId: target };
    const entries = await withBackend(context.settings, (backend) =>
      backend.queries.listQuarantine({ ...query, limit: 1000 }),
    );
    if (entries.length === 0)
      throw new CliError(
        'NOT_FOUND',
        `quarantine show: nothing quarantined with id ${JSON.stringify(target)}`,
      );
    if (context.settings.json) {
      context.out.json(
        entries.map((entry) => ({ ...quarantineView(entry), attributes: entry.record.attributes })),
      );
      return EXIT_CODES.OK;
    }
    entries.forEach((entry, index) => {
      if (index > 0) context.out.line();
      writeEntry(context.out, entry);
    });
    return EXIT_CODES.OK;
  },
};

function writeEntry(out: TerminalOutput, entry: QuarantinedSpan): void {
  const view = quarantineView(entry);
  out.line(out.style('bold', `${view.name}  span ${view.spanId}  trace ${view.traceId}`));
  out.line(`  ${quarantineSummary(entry)}`);
  if (view.stream !== '') out.line(`  stream ${view.stream}`);
  for (const [name, value] of Object.entries(entry.record.attributes).sort(([a], [b]) => a.localeCompare(b)))
    out.line(`  ${name} = ${JSON.stringify(value)}`);
}

function limitOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(limit) || limit < 1 || limit > 100_000)
    throw usageError(
      `quarantine list: --limit must be a whole number from 1 to 100000, not ${JSON.stringify(text)}`,
    );
  return limit;
}

/** `decisiontrail quarantine list|show` */
export const quarantineCommands: CommandGroupSpec = {
  kind: 'group',
  name: 'quarantine',
  summary: 'spans the processor refused: list them, show one with its reason',
  description:
    'The processor writes the spans it refuses to audit_quarantine instead of the store, each with a reason code\n' +
    'and message. A quarantined decision has no timeline; these commands show where it went and why.',
  subcommands: [listCommand, showCommand],
};
