import {
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INPUT_ENCRYPTION_KEY_ID,
  ATTR_AUDIT_OUTPUT_ENCRYPTION_KEY_ID,
} from '@decisiontrail/semconv';
import path from 'node:path';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { formatTime } from '../render/number-format.ts';
import { withBackend } from '../store/open-backend.ts';
import { BEGINNING_OF_TIME, END_OF_TIME } from '../store/time-bounds.ts';
import { stringOption } from './option-values.ts';

const MAX_DECISIONS = 1_000_000;

/** One stored record whose encrypted content can no longer be read. */
interface UnreadableRecord {
  spanId: string;
  traceId: string;
  decisionId: string;
  name: string;
  fields: string[];
}

/** `decisiontrail erase --subject ID` */
export const eraseCommand: CommandSpec = {
  kind: 'command',
  name: 'erase',
  summary: 'GDPR erasure by crypto-shredding: destroy a data subject’s key, record a tombstone',
  usage: 'erase --subject ID [--reason TEXT] [--requested-by NAME] [--keystore DIR] [--json]',
  description:
    'Deletes the subject’s data key from the file keystore the instrumentation encrypts with (encrypt capture\n' +
    'mode), so every ciphertext recorded for the subject becomes unreadable, lists those records, and records an\n' +
    'erasure tombstone in the store. Stored spans are not modified, so `decisiontrail verify` still passes.\n' +
    'Keystore: --keystore, else DECISIONTRAIL_KEYSTORE_DIR, else keys.dir of the configuration.',
  options: {
    subject: {
      type: 'string',
      valueName: 'ID',
      description: 'pseudonymous data-subject id (audit.subject.id); required',
    },
    reason: { type: 'string', valueName: 'TEXT', description: 'why (for example the request reference)' },
    'requested-by': { type: 'string', valueName: 'NAME', description: 'who asked for the erasure' },
    keystore: { type: 'string', valueName: 'DIR', description: 'directory of the subject data keys' },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    {
      command: 'erase --subject applicant-4711 --reason "GDPR request 2026-031"',
      note: 'shred one subject’s key',
    },
  ],
  async run(context) {
    const subjectId = stringOption(context, 'subject');
    if (subjectId === undefined) throw usageError('erase: --subject is required');
    if (/[\r\n\0]/.test(subjectId) || subjectId.trim() !== subjectId) {
      throw usageError(`erase: ${JSON.stringify(subjectId)} is not a usable subject id`);
    }
    const named =
      stringOption(context, 'keystore') ?? (context.settings.env['DECISIONTRAIL_KEYSTORE_DIR'] || undefined);
    const keystoreDir =
      named === undefined ? context.settings.config.keys.dir : path.resolve(context.settings.cwd, named);
    // Loaded here, not at the top: the instrumentation package is sizeable and only erase needs it.
    const { FileKeyStore } = await import('@decisiontrail/instrumentation');
    const keyStore = new FileKeyStore(keystoreDir);
    const keyId = FileKeyStore.keyIdForSubject(subjectId);
    const result = await withBackend(context.settings, async (backend) => {
      const decisions = await backend.queries.subjectDecisions({
        subjectId,
        from: BEGINNING_OF_TIME,
        to: END_OF_TIME,
        limit: MAX_DECISIONS,
      });
      const held = keyStore.listKeyIds().includes(keyId);
      if (decisions.length === 0 && !held) {
        throw new CliError(
          'NOT_FOUND',
          `erase: no decisions and no data key for subject ${JSON.stringify(subjectId)}; nothing was changed`,
        );
      }
      // Records carrying ciphertext under the subject's key, found among the stored spans of the subject's period.
      const unreadable: UnreadableRecord[] = [];
      if (decisions.length > 0) {
        const times = decisions.map((d) => BigInt(d.timeUnixNano) / 1_000_000n);
        const from = new Date(Number(times.reduce((a, b) => (a < b ? a : b))));
        const to = new Date(Number(times.reduce((a, b) => (a > b ? a : b))) + 1);
        for (const record of await backend.queries.spansForVerification({ from, to })) {
          const fields = [ATTR_AUDIT_INPUT_ENCRYPTION_KEY_ID, ATTR_AUDIT_OUTPUT_ENCRYPTION_KEY_ID]
            .filter((attribute) => record.attributes[attribute] === keyId)
            .map((attribute) => (attribute === ATTR_AUDIT_INPUT_ENCRYPTION_KEY_ID ? 'input' : 'output'));
          if (fields.length > 0) {
            unreadable.push({
              spanId: record.spanId,
              traceId: record.traceId,
              decisionId: record.attributes[ATTR_AUDIT_DECISION_ID] ?? '',
              name: record.name,
              fields,
            });
          }
        }
      }
      // The key goes first: that is the erasure. The tombstone records it; if writing it fails the error says so.
      const destroyed = keyStore.deleteSubjectKey(subjectId);
      let tombstone;
      try {
        tombstone = await backend.queries.recordErasure({
          subjectId,
          keyIds: destroyed ? [keyId] : [],
          reason: stringOption(context, 'reason') ?? '',
          requestedBy: stringOption(context, 'requested-by') ?? context.settings.env['USER'] ?? '',
        });
      } catch (cause) {
        throw new CliError(
          'STORE_UNREACHABLE',
          `erase: the key ${keyId} was ${destroyed ? 'destroyed' : 'not held'}, but the tombstone could not be recorded: ${(cause as Error).message}`,
          { cause },
        );
      }
      return { decisions, destroyed, unreadable, tombstone };
    });
    const summary = {
      subjectId,
      keyId,
      keyDestroyed: result.destroyed,
      keystore: keystoreDir,
      decisions: result.decisions.map((d) => d.decisionId),
      unreadableRecords: result.unreadable,
      tombstone: result.tombstone,
    };
    if (context.settings.json) {
      context.out.json(summary);
      return EXIT_CODES.OK;
    }
    const out = context.out;
    out.line(out.style('bold', `Erased subject ${subjectId}`));
    out.line(
      result.destroyed
        ? `  data key ${keyId} destroyed in ${keystoreDir}`
        : `  no data key held in ${keystoreDir}: nothing was encrypted for this subject there`,
    );
    out.line(`  decisions about the subject: ${result.decisions.length}`);
    out.line(`  records now unreadable: ${result.unreadable.length}`);
    for (const record of result.unreadable) {
      out.line(`    ${record.decisionId || record.spanId}  ${record.name}  (${record.fields.join(', ')})`);
    }
    out.line(
      `  tombstone ${result.tombstone.erasureId} recorded at ${formatTime(result.tombstone.erasedAt.toISOString())}`,
    );
    out.line('  stored spans are unchanged: decisiontrail verify still passes');
    return EXIT_CODES.OK;
  },
};
