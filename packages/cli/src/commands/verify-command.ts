import path from 'node:path';
import type {
  AuditReconciliation,
  UnsignedAuditRecords,
  VerificationRecord,
  VerificationSlice,
} from '@decisiontrail/clickhouse';
import {
  LogVerifier,
  findingKind,
  readWitnessEntries,
  type Finding,
  type VerificationReport,
  type WitnessFileContents,
} from '@decisiontrail/core';
import { streamOfNote } from '@decisiontrail/core/internal';
import { CliError, usageError } from '../cli-error.ts';
import { checkIndependentWitnesses, type IndependentWitnessReport } from '../independent-witness-check.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { ProgressBar } from '../render/progress-bar.ts';
import type { AuditBackend } from '../store/audit-backend.ts';
import { withBackend } from '../store/open-backend.ts';
import { parseTimeArgument } from '../time-argument.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';
import { formatCount } from '../render/number-format.ts';
import { listOption, stringOption } from './option-values.ts';

/** Rows per read: bounds the memory of one request and lets the progress bar move on long ranges. */
const SLICE_ROWS = 50_000;
/** Slices read ahead of the one being verified (each at most SLICE_ROWS rows in memory). */
const SLICES_AHEAD = 3;
/** Unsigned audit records named in the report (all are counted). */
const UNSIGNED_NAMED = 20;

/** What `verify` checked and found, as `--json` prints it. */
export interface VerifyResult {
  /**
   * `intact`: every record read is signed by a trusted key and unaltered, and every audit table row is reproduced
   * from them; `tampered`: a finding of tampering or loss; `unverified`: no tampering found, but records that
   * nothing trusted signs; `empty`: nothing in the range to verify.
   */
  verdict: 'intact' | 'tampered' | 'unverified' | 'empty';
  /** `verdict` is `intact`. */
  ok: boolean;
  /** Unsigned and untrusted records were accepted by `--allow-unsigned` (still listed). */
  allowUnsigned: boolean;
  spansRead: number;
  /** Spans whose stored row matches its leaf under a trusted checkpoint. */
  spansVerified: number;
  streams: VerificationReport['streams'];
  /** The witness file read, or why none was. */
  witness: { file: string; checkpoints: number; findings: Finding[] } | { notChecked: string };
  /** The independent witnesses of decisiontrail.yaml (C2SP tlog-witness), or why they were not asked. */
  independentWitnesses: IndependentWitnessReport | { notChecked: string };
  /** Audit records with no integrity stream (not looked for when one stream is verified). */
  unsigned: UnsignedAuditRecords | null;
  /** The audit tables and rollups checked against the verified spans. */
  tables: AuditReconciliation;
}

/** `decisiontrail verify` */
export const verifyCommand: CommandSpec = {
  kind: 'command',
  name: 'verify',
  summary:
    'recompute every leaf, check checkpoints, the witness and every audit table against the signed spans',
  usage:
    'verify [--from T] [--to T] [--stream ID] [--key PUB]… [--witness FILE | --no-witness] [--allow-unsigned] [--json]',
  description:
    'Reads the store in time slices and checks, per integrity stream, every stored span against the leaf its\n' +
    'signed checkpoints commit to; the checkpoints against the trusted keys and the witness (truncation); and\n' +
    'every row of the audit tables and rollups that timelines, reports and bundles read against what the views\n' +
    'derive from those spans. Exit 0 when everything read is intact (an unsealed tail, spans newer than the last\n' +
    'checkpoint, is listed but is not tampering); 1 with every finding listed when anything was altered, deleted,\n' +
    'inserted, copied with other content or reordered; 8 when nothing was altered but audit records carry no\n' +
    'integrity stream or a stream has no checkpoint signed by a trusted key (--allow-unsigned turns that into 0,\n' +
    'still listing them); 7 when the witness file cannot be read. Keys: --key files, else keys.publicKeys, else\n' +
    'every *.pub and *.vkey in the keys directory. Witness: --witness, else keys.witness (default\n' +
    '<keys dir>/checkpoints.witness.jsonl, where the signing exporter writes it). With --from, each stream is\n' +
    'checked from its first checkpoint in the range (from the compact range it carries); the spans before the\n' +
    'first one read are outside the check. With --to, the witness is not used (it holds the newest checkpoints).',
  options: {
    from: {
      type: 'string',
      valueName: 'T',
      description: 'only spans that started at or after T (default: all)',
    },
    to: { type: 'string', valueName: 'T', description: 'only spans that started before T' },
    stream: { type: 'string', valueName: 'ID', description: 'only this integrity stream' },
    key: { type: 'string', multiple: true, valueName: 'PUB', description: 'trusted public key file' },
    witness: {
      type: 'string',
      valueName: 'FILE',
      description: 'checkpoint witness file (default keys.witness of the config)',
    },
    'no-witness': {
      type: 'boolean',
      description: 'verify without a witness: truncation of the newest spans is then not detected',
    },
    'allow-unsigned': {
      type: 'boolean',
      description: 'exit 0 although unsigned or untrusted records were found (they are still listed)',
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    { command: 'verify', note: 'everything in the store, against the keys in ./.decisiontrail/keys' },
    {
      command:
        'verify --from 2026-03-01 --to 2026-04-01 --key signing.pub --witness checkpoints.witness.jsonl',
      note: 'one month, explicit key and witness',
    },
  ],
  async run(context) {
    const now = new Date();
    const fromText = stringOption(context, 'from');
    const toText = stringOption(context, 'to');
    const from = fromText === undefined ? undefined : parseTimeArgument('--from', fromText, now);
    const to = toText === undefined ? undefined : parseTimeArgument('--to', toText, now);
    if (from !== undefined && to !== undefined && from.getTime() >= to.getTime()) {
      throw usageError('verify: --from must be before --to');
    }
    const witnessOption = stringOption(context, 'witness');
    const noWitness = context.options['no-witness'] === true;
    if (noWitness && witnessOption !== undefined)
      throw usageError('verify: --witness and --no-witness exclude each other');
    const allowUnsigned = context.options['allow-unsigned'] === true;
    const stream = stringOption(context, 'stream');
    const keys = await loadTrustedKeys(context.settings, listOption(context, 'key'), 'verify');
    const witnessFile = path.resolve(
      context.settings.cwd,
      witnessOption ?? context.settings.config.keys.witness,
    );
    // The witness holds each stream's newest checkpoint: against a range that ends early it would report
    // truncation, so it is read for ranges open at the end only.
    const witness: WitnessFileContents | undefined =
      noWitness || to !== undefined ? undefined : await readWitness(witnessFile);
    const notes = (witness?.notes ?? []).filter(
      (note) => stream === undefined || streamOfNote(note) === stream,
    );
    // From a start time on, each stream is checked from its first checkpoint read (its compact range), and what
    // precedes the first span read was not read rather than missing.
    // Made when the first slices are being read: checking the witness notes' signatures (one per checkpoint)
    // then runs beside the engine's work instead of before it.
    let made: LogVerifier | undefined;
    const verifier = (): LogVerifier =>
      (made ??= new LogVerifier({
        publicKeys: keys,
        witnessCheckpoints: notes,
        midStream: from !== undefined,
      }));
    const { spansRead, unsigned, tables, independent } = await withBackend(
      context.settings,
      async (backend) => {
        // The whole-store checks run beside the slice reads (on the embedded engine, on a connection of their
        // own): the engine works on them while the spans are verified. Each is awaited before the store closes.
        const unsignedRead =
          stream === undefined
            ? backend.queries.unsignedAuditRecords({
                ...(from && { from }),
                ...(to && { to }),
                limit: UNSIGNED_NAMED,
              })
            : Promise.resolve(null);
        const tablesRead = backend.queries.reconcileAuditTables({
          ...(from && { from }),
          ...(to && { to }),
          ...(stream !== undefined && { stream }),
        });
        // Their failures are reported when they are awaited, below, not as unhandled rejections meanwhile.
        for (const read of [unsignedRead, tablesRead]) read.catch(() => undefined);
        let spansRead: number;
        try {
          spansRead =
            (await readSlices(context, backend, verifier, { from, to, stream })) +
            (from === undefined ? 0 : await readAbsent(backend, verifier, from));
        } catch (error) {
          // Closing a connection while a statement runs on it would stop the engine: let them end first.
          await Promise.allSettled([unsignedRead, tablesRead]);
          throw error;
        }
        const [unsigned, tables] = await Promise.all([unsignedRead, tablesRead]);
        const witnesses = context.settings.config.witnesses;
        const independent =
          witnesses.list.length > 0 && to === undefined
            ? await checkIndependentWitnesses(
                witnesses,
                await backend.queries.witnessEvidence(stream === undefined ? {} : { stream }),
                {
                  storedCheckpoint: async (of, size) =>
                    (await backend.queries.checkpointNote({ stream: of, treeSize: size })) ?? undefined,
                },
              )
            : undefined;
        return { spansRead, unsigned, tables, independent };
      },
    );
    // A stream removed from the store is not "not found" when its witnesses' cosignatures say it existed.
    const removed = independent?.findings.some((f) => f.code === 'truncated' && f.stream === stream) ?? false;
    if (stream !== undefined && spansRead === 0 && !removed) {
      throw new CliError(
        'NOT_FOUND',
        `verify: no stored spans of stream ${JSON.stringify(stream)}${from || to ? ' in that range' : ''}`,
      );
    }
    const report = verifier().finish();
    const witnessFindings: Finding[] = [
      ...(witness?.malformed ?? [])
        .filter((line) => stream === undefined || line.stream === undefined || line.stream === stream)
        .map((line) => ({
          code: 'witness-malformed' as const,
          tamper: findingKind('witness-malformed') === 'tamper',
          message: `line ${line.line} of ${witnessFile} is not a witness entry: ${line.problem}`,
          line: line.line,
          ...(line.stream !== undefined && { stream: line.stream }),
        })),
      ...report.witnessFindings,
    ];
    witnessFindings.push(...(independent?.findings ?? []));
    const result: VerifyResult = {
      verdict: 'intact',
      ok: false,
      allowUnsigned,
      spansRead,
      spansVerified: report.streams.reduce(
        (n, s) => n + s.verifiedRanges.reduce((m, [a, b]) => m + b - a, 0),
        0,
      ),
      streams: report.streams,
      witness:
        witness === undefined
          ? { notChecked: noWitness ? '--no-witness' : '--to limits the range' }
          : { file: witnessFile, checkpoints: notes.length, findings: witnessFindings },
      independentWitnesses:
        independent ??
        (context.settings.config.witnesses.list.length === 0
          ? { notChecked: 'no witnesses in decisiontrail.yaml' }
          : { notChecked: '--to limits the range' }),
      unsigned,
      tables,
    };
    result.verdict = verdictOf(result, witnessFindings);
    result.ok = result.verdict === 'intact';
    if (context.settings.json) context.out.json(result);
    else printResult(context, result, witnessFindings);
    if (result.verdict === 'tampered') return EXIT_CODES.INTEGRITY;
    if (result.verdict === 'unverified' && !allowUnsigned) return EXIT_CODES.UNVERIFIED;
    return EXIT_CODES.OK;
  },
};

/** Reads the witness file a verification depends on; missing or unreadable is an error, never a pass. */
async function readWitness(file: string): Promise<WitnessFileContents> {
  try {
    return await readWitnessEntries(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new CliError(
      'FILE',
      `verify: the witness file ${file} ${reason} (${(error as Error).message}): truncation cannot be checked ` +
        'without it; pass --witness FILE, or --no-witness to verify without truncation detection',
      { cause: error },
    );
  }
}

/** Feeds the verifier the store's spans slice by slice; returns how many were read. */
async function readSlices(
  context: CommandContext,
  backend: AuditBackend,
  verifier: () => LogVerifier,
  range: { from: Date | undefined; to: Date | undefined; stream: string | undefined },
): Promise<number> {
  const queries = backend.queries;
  const readRecords = recordReader(backend);
  const slices = await queries.verificationSlices({
    ...(range.from && { from: range.from }),
    ...(range.to && { to: range.to }),
    maxRows: SLICE_ROWS,
  });
  const bar = new ProgressBar(
    context.err,
    'verifying',
    slices.reduce((n, slice) => n + slice.rows, 0),
  );
  const fetchSlice = (slice: VerificationSlice): Promise<readonly VerificationRecord[]> => {
    const records = readRecords({
      from: new Date(slice.fromMs),
      to: new Date(slice.toMs),
      ...(range.stream !== undefined && { stream: range.stream }),
    });
    // A read still in flight when verification stops early is dropped; its failure has no one to tell.
    records.catch(() => undefined);
    return records;
  };
  let read = 0;
  try {
    // The slices after the current one are read (by the engine) and decoded (on the store's decoder threads)
    // while this thread verifies the current one: the work runs on every core, in order of the log.
    const ahead: Promise<readonly VerificationRecord[]>[] = [];
    let fetched = 0;
    for (let i = 0; i < slices.length; i++) {
      while (fetched < slices.length && ahead.length <= SLICES_AHEAD)
        ahead.push(fetchSlice(slices[fetched++]!));
      if (i === 0) {
        // The reads are on their way (and the whole-store checks beside them): now the verifier's own set-up.
        await new Promise((resolve) => setImmediate(resolve));
        verifier();
      }
      // Verifying a partial read would report missing spans that were merely not read: stop instead.
      context.signal.throwIfAborted();
      const records = await (ahead.shift() as Promise<readonly VerificationRecord[]>);
      verifier().add(records);
      read += records.length;
      bar.advance(slices[i]!.rows);
    }
  } finally {
    bar.finish();
  }
  return read;
}

/** The binary reader where the store is opened here (plain leaves hashed from the stored bytes), else JSON rows. */
function recordReader(backend: AuditBackend): NonNullable<AuditBackend['verificationRecords']> {
  return backend.verificationRecords ?? ((query) => backend.queries.spansForVerification(query));
}

/** Committed records a check from `from` on did not find in its range, at most this many per stream, are looked up. */
const ABSENT_LOOKUP = 1_000;

/**
 * Mid-stream, the records a checkpoint in the range commits to that the range did not hold: a record that spans
 * time (decision counts, losses) starts before the range although a checkpoint in it seals it. They are read by
 * sequence number from before `from`; whatever is still absent is then missing. Returns how many were read.
 */
async function readAbsent(backend: AuditBackend, verifier: () => LogVerifier, from: Date): Promise<number> {
  const readRecords = recordReader(backend);
  let read = 0;
  for (const { stream, seqs } of verifier().absentSeqs(ABSENT_LOOKUP)) {
    const records = await readRecords({ stream, to: from, seqs: seqs.map(String) });
    verifier().add(records);
    read += records.length;
  }
  return read;
}

function verdictOf(result: VerifyResult, witnessFindings: readonly Finding[]): VerifyResult['verdict'] {
  const kinds = [...witnessFindings, ...result.streams.flatMap((s) => s.findings)].map((f) =>
    findingKind(f.code),
  );
  if (kinds.includes('tamper') || result.tables.findings.length > 0) return 'tampered';
  if (kinds.includes('unverified') || (result.unsigned?.count ?? 0) > 0) return 'unverified';
  return result.spansRead === 0 ? 'empty' : 'intact';
}

function printResult(
  context: CommandContext,
  result: VerifyResult,
  witnessFindings: readonly Finding[],
): void {
  const out = context.out;
  out.line(
    'file' in result.witness
      ? `witness: ${result.witness.file} (${result.witness.checkpoints} checkpoint(s))`
      : `witness: not checked (${result.witness.notChecked}): truncation of the newest spans is not detected`,
  );
  const independent = result.independentWitnesses;
  out.line(
    'witnesses' in independent
      ? `independent witnesses: ${independent.witnesses.join(', ')} (quorum ${independent.quorum}): ${independent.streams
          .map((s) => `stream ${s.stream} newest ${s.newestSize}, cosigned ${s.cosignedSize}`)
          .join('; ')}`
      : `independent witnesses: not checked (${independent.notChecked})`,
  );
  for (const f of witnessFindings) {
    const where = [f.stream ? `stream ${f.stream}` : '', f.line ? `line ${f.line}` : '']
      .filter(Boolean)
      .join(', ');
    out.line(`${out.style('red', 'FAIL')}  witness: ${f.code}${where ? ` (${where})` : ''}: ${f.message}`);
  }
  // A span the audit-table check tied to its decision is named by that decision too: people look decisions up.
  const decisionOfSpan = new Map(
    result.tables.findings.flatMap((f) => (f.spanId && f.decisionId ? [[f.spanId, f.decisionId]] : [])),
  );
  for (const s of result.streams) {
    const kinds = new Set(s.findings.map((f) => findingKind(f.code)));
    // Count the stored spans that match their signed leaf, not the size of the authenticated tree: a modified
    // span leaves the tree authentic but is not itself verified.
    const matched = s.verifiedRanges.reduce((n, [from, to]) => n + to - from, 0);
    const head =
      `stream ${s.stream}: ${formatCount(s.spanCount)} signed spans, ${formatCount(s.checkpointCount)} checkpoints, verified ${formatCount(matched)} of sealed ${formatCount(s.sealedSize)}` +
      (s.checkedFrom !== undefined ? ` (checked from seq ${s.checkedFrom}: --from begins mid-stream)` : '');
    const label = kinds.has('tamper')
      ? out.style('red', 'FAIL')
      : kinds.has('unverified')
        ? out.style('yellow', 'UNVERIFIED')
        : `${out.style('green', 'OK')}  `;
    out.line(`${label}  ${head}`);
    for (const f of s.findings) {
      const decision = f.spanId === undefined ? undefined : decisionOfSpan.get(f.spanId);
      const where = [
        f.spanId ? `span ${f.spanId}` : '',
        f.seq !== undefined ? `seq ${f.seq}` : '',
        decision !== undefined ? `decision ${decision}` : '',
        f.ranges
          ? `seqs ${f.ranges.map(([a, b]) => (b - a === 1 ? `${a}` : `${a}-${b - 1}`)).join(',')}`
          : '',
      ]
        .filter(Boolean)
        .join(', ');
      out.line(
        `      ${out.style(f.tamper ? 'red' : 'yellow', f.code)}${where ? ` (${where})` : ''}: ${f.message}`,
      );
    }
  }
  const tables = result.tables;
  const checkedRows = tables.tables.reduce((n, t) => n + t.rows, 0);
  out.line(
    tables.findings.length === 0
      ? `${out.style('green', 'OK')}    audit tables: ${formatCount(tables.tables.length)} table(s), ${formatCount(checkedRows)} row(s) reproduced from the stored spans`
      : `${out.style('red', 'FAIL')}  audit tables: ${formatCount(tables.findings.length)} row(s) not reproduced from the stored spans`,
  );
  for (const f of tables.findings) {
    const where = [
      f.decisionId ? `decision ${f.decisionId}` : '',
      f.spanId ? `span ${f.spanId}` : '',
      f.key ?? '',
    ]
      .filter(Boolean)
      .join(', ');
    out.line(`      ${out.style('red', f.code)} ${f.table}${where ? ` (${where})` : ''}: ${f.message}`);
  }
  for (const skipped of tables.skipped) out.line(`      not checked: ${skipped.table}: ${skipped.reason}`);
  if (result.unsigned !== null && result.unsigned.count > 0) {
    const named = result.unsigned.sample
      .map((r) => `${r.recordType} span ${r.spanId}${r.decisionId ? ` (decision ${r.decisionId})` : ''}`)
      .join(', ');
    const more = result.unsigned.count - result.unsigned.sample.length;
    out.line(
      `${out.style('yellow', 'UNSIGNED')}  ${formatCount(result.unsigned.count)} audit record(s) carry no integrity stream, so nothing shows they were not altered: ${named}${more > 0 ? ` and ${formatCount(more)} more` : ''}`,
    );
  }
  // What was read is the streams' signed spans plus their checkpoint spans (and spans of no stream): say so, so
  // "9627 spans read" beside "9605 verified" is not read as 22 unverified spans.
  const leaves = result.streams.reduce((n, s) => n + s.spanCount, 0);
  const checkpoints = result.streams.reduce((n, s) => n + s.checkpointCount, 0);
  const others = result.spansRead - leaves - checkpoints;
  const streams =
    `${formatCount(result.streams.length)} stream(s), ${formatCount(result.spansRead)} spans read ` +
    `(${formatCount(leaves)} signed, ${formatCount(checkpoints)} checkpoints${others > 0 ? `, ${formatCount(others)} of no stream` : ''}), ` +
    `${formatCount(result.spansVerified)} signed spans verified`;
  const verdicts: Record<VerifyResult['verdict'], string> = {
    intact: out.style(
      'green',
      `intact: ${streams}, ${formatCount(checkedRows)} audit table row(s) reproduced`,
    ),
    tampered: out.style(
      'red',
      `NOT intact: ${countFindings(result, witnessFindings, 'tamper') + tables.findings.length} finding(s); ${streams}`,
    ),
    unverified: out.style(
      'yellow',
      `NOT verified: no tampering found, but ${countFindings(result, witnessFindings, 'unverified') + ((result.unsigned?.count ?? 0) > 0 ? 1 : 0)} finding(s) of records nothing trusted signs` +
        (result.allowUnsigned
          ? ' (accepted by --allow-unsigned)'
          : ' (exit 8; --allow-unsigned accepts them)') +
        `; ${streams}`,
    ),
    empty: 'nothing to verify: no stored spans in the range',
  };
  out.line(verdicts[result.verdict]);
}

function countFindings(
  result: VerifyResult,
  witnessFindings: readonly Finding[],
  kind: 'tamper' | 'unverified',
): number {
  return [...witnessFindings, ...result.streams.flatMap((s) => s.findings)].filter(
    (f) => findingKind(f.code) === kind,
  ).length;
}
