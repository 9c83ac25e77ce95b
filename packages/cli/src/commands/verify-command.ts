import path from 'node:path';
import type { SpanRecord } from '@decisiontrail/signing-exporter';
import { readWitnessFile, type VerificationReport } from '@decisiontrail/signing-exporter';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { ProgressBar } from '../render/progress-bar.ts';
import { withBackend } from '../store/open-backend.ts';
import { BEGINNING_OF_TIME, END_OF_TIME } from '../store/time-bounds.ts';
import { parseTimeArgument } from '../time-argument.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';
import { verifyByStream } from '../verify-by-stream.ts';
import { listOption, stringOption } from './option-values.ts';

/** Reading in slices keeps memory per request bounded and lets the progress bar move on long ranges. */
const SLICES = 20;

/** `decisiontrail verify` */
export const verifyCommand: CommandSpec = {
  kind: 'command',
  name: 'verify',
  summary: 'recompute leaves from stored rows and check checkpoints, signatures and the witness',
  usage: 'verify [--from T] [--to T] [--stream ID] [--key PUB]… [--witness FILE] [--json]',
  description:
    'Exit code 0 when every stream is intact (an unsealed tail, spans newer than the last checkpoint, is reported\n' +
    'but is not tampering); 1 with every finding listed otherwise: modified, missing (deleted), unexpected\n' +
    '(inserted or forged) or reordered spans, invalid, unknown-key or inconsistent checkpoints, truncation against\n' +
    'the witness. Keys: --key files, else keys.publicKeys, else every *.pub in the keys directory.',
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
    const stream = stringOption(context, 'stream');
    const keys = await loadTrustedKeys(context.settings, listOption(context, 'key'), 'verify');
    const witnessOption = stringOption(context, 'witness');
    const witnessFile =
      witnessOption === undefined
        ? context.settings.config.keys.witness
        : path.resolve(context.settings.cwd, witnessOption);
    // The witness holds the newest checkpoints: against a range that ends early it would report truncation.
    const useWitness = witnessFile !== undefined && to === undefined;
    const witnessCheckpoints = useWitness ? await readWitnessFile(witnessFile) : [];
    const records = await withBackend(context.settings, (backend) =>
      readRange(context, backend.queries.spansForVerification.bind(backend.queries), { from, to, stream }),
    );
    if (stream !== undefined && records.length === 0) {
      throw new CliError(
        'NOT_FOUND',
        `verify: no stored spans of stream ${JSON.stringify(stream)}${from || to ? ' in that range' : ''}`,
      );
    }
    const bar = new ProgressBar(context.err, 'verifying', records.length);
    let report: VerificationReport;
    try {
      report = verifyByStream(records, { publicKeys: keys, witnessCheckpoints }, (spans) =>
        bar.advance(spans),
      );
    } finally {
      bar.finish();
    }
    if (context.settings.json)
      context.out.json({ ...report, spansRead: records.length, witness: useWitness ? witnessFile : null });
    else printReport(context, report, records.length, useWitness ? witnessFile : undefined);
    return report.ok ? EXIT_CODES.OK : EXIT_CODES.INTEGRITY;
  },
};

async function readRange(
  context: CommandContext,
  read: (query: { from?: Date; to?: Date; stream?: string }) => Promise<SpanRecord[]>,
  query: { from: Date | undefined; to: Date | undefined; stream: string | undefined },
): Promise<SpanRecord[]> {
  const stream = query.stream === undefined ? {} : { stream: query.stream };
  if (query.from === undefined) {
    // Without a lower bound the range is not known before reading: one request, no bar.
    return read({ from: BEGINNING_OF_TIME, to: query.to ?? END_OF_TIME, ...stream });
  }
  const start = query.from.getTime();
  const end = (query.to ?? END_OF_TIME).getTime();
  const step = Math.max(1, Math.ceil((end - start) / SLICES));
  const bar = new ProgressBar(context.err, 'reading', SLICES);
  const records: SpanRecord[] = [];
  try {
    for (let t = start; t < end; t += step) {
      // Verifying a partial read would report missing spans that were merely not read: stop instead.
      context.signal.throwIfAborted();
      records.push(...(await read({ from: new Date(t), to: new Date(Math.min(end, t + step)), ...stream })));
      bar.advance(1);
    }
  } finally {
    bar.finish();
  }
  return records;
}

function printReport(
  context: CommandContext,
  report: VerificationReport,
  spansRead: number,
  witness: string | undefined,
): void {
  const out = context.out;
  out.line(
    witness === undefined ? 'witness: not checked (none configured, or --to given)' : `witness: ${witness}`,
  );
  for (const s of report.streams) {
    const tamper = s.findings.filter((f) => f.tamper);
    // Count the stored spans that match their signed leaf, not the size of the authenticated tree: a modified
    // span leaves the tree authentic but is not itself verified.
    const matched = s.verifiedRanges.reduce((n, [from, to]) => n + to - from, 0);
    const head = `stream ${s.stream}: ${s.spanCount} spans, ${s.checkpointCount} checkpoints, verified ${matched} of sealed ${s.sealedSize}`;
    out.line(
      tamper.length === 0 ? `${out.style('green', 'OK')}    ${head}` : `${out.style('red', 'FAIL')}  ${head}`,
    );
    for (const f of s.findings) {
      const where = [
        f.spanId ? `span ${f.spanId}` : '',
        f.seq !== undefined ? `seq ${f.seq}` : '',
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
  for (const f of report.witnessFindings)
    out.line(`${out.style('red', 'FAIL')}  witness: ${f.code}: ${f.message}`);
  if (report.unattributedSpans > 0)
    out.line(
      `note: ${report.unattributedSpans} stored spans carry no integrity stream and were not verified`,
    );
  const findings =
    report.streams.reduce((n, s) => n + s.findings.filter((f) => f.tamper).length, 0) +
    report.witnessFindings.length;
  out.line(
    report.ok
      ? out.style('green', `intact: ${report.streams.length} stream(s), ${spansRead} spans read`)
      : out.style(
          'red',
          `NOT intact: ${findings} finding(s) in ${report.streams.length} stream(s), ${spansRead} spans read`,
        ),
  );
}
