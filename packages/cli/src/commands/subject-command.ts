import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readWitnessFile, type NoteVerifierKey } from '@decisiontrail/core';
import { ATTR_AUDIT_DECISION_ID } from '@decisiontrail/semconv';
import { buildInvestigationBundle } from '../bundle-builder.ts';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { SubjectContent } from '../investigation-bundle.ts';
import { formatConfidence, formatCount, formatTime } from '../render/number-format.ts';
import type { TimelineDocument } from '../render/timeline-document.ts';
import { evidenceQueryFor } from '../render/timeline-verification.ts';
import { buildTimelineDocument } from '../render/timeline-view.ts';
import { withBackend } from '../store/open-backend.ts';
import { BEGINNING_OF_TIME, END_OF_TIME } from '../store/time-bounds.ts';
import { contentOf, subjectKeyDecrypter } from '../recorded-content.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';
import { listOption, stringOption } from './option-values.ts';

/** More decisions than this about one subject is refused rather than answered in part. */
const MAX_DECISIONS = 10_000;

/** `decisiontrail subject <id> [--out FILE]` */
export const subjectCommand: CommandSpec = {
  kind: 'command',
  name: 'subject',
  summary: 'everything recorded about one data subject (GDPR Art. 15), optionally as a bundle with proofs',
  usage: 'subject <subject-id> [--out FILE] [--keystore DIR] [--key PUB]… [--witness FILE] [--json]',
  description:
    'Lists every decision about the pseudonymous data subject (audit.subject.id), each review, override and\n' +
    'ground-truth label of those decisions, and the recorded input and output: plaintext where it was captured\n' +
    'in full, decrypted where it was encrypted and the subject’s key is still in the keystore, or why it cannot be\n' +
    'read (the key was erased, or only a keyed hash was kept). --out writes an investigation bundle of those\n' +
    'decisions’ timelines with inclusion proofs under signed checkpoints (checked offline by verify-bundle),\n' +
    'plus the content as read here; the proofs cover what was signed — the ciphertext —, not the decryption.\n' +
    'Keystore: --keystore, else DECISIONTRAIL_KEYSTORE_DIR, else keys.dir of the configuration.',
  options: {
    out: { type: 'string', valueName: 'FILE', description: 'write an investigation bundle with proofs' },
    keystore: { type: 'string', valueName: 'DIR', description: 'directory of the subject data keys' },
    key: {
      type: 'string',
      multiple: true,
      valueName: 'PUB',
      description: 'trusted public key file for the bundle (default: the keys directory)',
    },
    witness: {
      type: 'string',
      valueName: 'FILE',
      description: 'checkpoint witness file (default keys.witness of the config)',
    },
  },
  positionals: { min: 1, max: 1, names: 'a subject id' },
  json: true,
  examples: [
    { command: 'subject applicant-4711', note: 'what was decided about one applicant, and on what' },
    {
      command: 'subject applicant-4711 --out applicant-4711.bundle.json',
      note: 'the same as a bundle with proofs, for the access request',
    },
  ],
  async run(context) {
    const subjectId = context.positionals[0]!;
    if (subjectId === '' || /[\r\n\0]/.test(subjectId) || subjectId.trim() !== subjectId) {
      throw usageError(`subject: ${JSON.stringify(subjectId)} is not a usable subject id`);
    }
    const decrypt = await subjectKeyDecrypter(context);
    const outOption = stringOption(context, 'out');
    const given = listOption(context, 'key');
    let keys: NoteVerifierKey[] = [];
    if (outOption !== undefined) keys = await loadTrustedKeys(context.settings, given, 'subject');
    const result = await withBackend(context.settings, async (backend) => {
      const decisions = await backend.queries.subjectDecisions({
        subjectId,
        from: BEGINNING_OF_TIME,
        to: END_OF_TIME,
        limit: MAX_DECISIONS + 1,
      });
      if (decisions.length === 0) {
        throw new CliError('NOT_FOUND', `subject: no decisions about subject ${JSON.stringify(subjectId)}`);
      }
      if (decisions.length > MAX_DECISIONS) {
        throw new CliError(
          'USAGE',
          `subject: more than ${formatCount(MAX_DECISIONS)} decisions about ${JSON.stringify(subjectId)}; list them with decisiontrail decisions --subject ${subjectId} --csv`,
        );
      }
      const timelines: {
        document: TimelineDocument;
        rows: Awaited<ReturnType<typeof backend.queries.decisionTimeline>>;
      }[] = [];
      for (const decision of decisions) {
        const rows = await backend.queries.decisionTimeline({ decisionId: decision.decisionId });
        const document = buildTimelineDocument({ id: decision.decisionId, kind: 'decision' }, rows);
        if (document !== null) timelines.push({ document, rows });
      }
      // Content lives only in the stored spans (the audit tables and the timeline never carry it).
      const evidence = await backend.queries.timelineEvidence(
        evidenceQueryFor(timelines.flatMap((t) => t.rows)),
      );
      const ids = new Set(decisions.map((d) => d.decisionId));
      const seen = new Set<string>();
      const content: SubjectContent[] = [];
      for (const record of evidence.spans) {
        const decisionId = record.attributes[ATTR_AUDIT_DECISION_ID] ?? '';
        if (!ids.has(decisionId) || seen.has(record.spanId)) continue;
        seen.add(record.spanId);
        content.push(...contentOf(record, decisionId, decrypt));
      }
      const bundle =
        outOption === undefined
          ? undefined
          : await buildInvestigationBundle(
              backend.queries,
              { kind: 'subject', id: subjectId },
              timelines,
              keys,
              await witnessCheckpoints(context, stringOption(context, 'witness')),
            );
      return { decisions, timelines: timelines.map((t) => t.document), content, bundle };
    });
    let written: string | undefined;
    if (result.bundle !== undefined) {
      written = path.resolve(context.settings.cwd, outOption!);
      try {
        await writeFile(
          written,
          `${JSON.stringify({ ...result.bundle, content: result.content }, null, 2)}\n`,
        );
      } catch (cause) {
        throw new CliError('FILE', `subject: cannot write ${written}: ${(cause as Error).message}`, {
          cause,
        });
      }
    }
    if (context.settings.json) {
      context.out.json({
        subjectId,
        decisions: result.timelines,
        content: result.content,
        ...(written === undefined
          ? {}
          : {
              bundle: {
                out: written,
                proofs: result.bundle!.proofs.length,
                unproven: result.bundle!.unproven,
              },
            }),
      });
      return EXIT_CODES.OK;
    }
    const out = context.out;
    out.line(out.style('bold', `Subject ${subjectId}: ${formatCount(result.decisions.length)} decision(s)`));
    for (const doc of result.timelines) {
      const d = doc.decision!;
      out.line();
      out.line(
        `${formatTime(d.time)}  ${d.id}  ${`${d.modelId} ${d.modelVersion}`.trim()}  ${d.outcome || '—'}` +
          `${d.finalOutcome !== null && d.finalOutcome !== d.outcome ? ` → ${d.finalOutcome} (overridden)` : ''}` +
          `  confidence ${formatConfidence(d.confidence)}`,
      );
      for (const entry of doc.entries) {
        if (entry.kind !== 'oversight' && entry.kind !== 'feedback') continue;
        const details = entry.details.map((x) => `${x.label}: ${x.value}`).join(' · ');
        out.line(
          `  ${formatTime(entry.time)}  ${entry.kind.padEnd(9)} ${entry.title}${details ? ` (${details})` : ''}`,
        );
      }
      for (const c of result.content.filter((x) => x.decisionId === d.id)) {
        out.line(
          `  ${c.field.padEnd(6)} ${c.text !== null ? `${c.recorded === 'encrypted' ? 'decrypted' : 'recorded'}: ${c.text}` : `not readable: ${c.unreadable}`}`,
        );
      }
    }
    if (written !== undefined) {
      out.line();
      out.line(
        `wrote ${written}: ${formatCount(result.bundle!.proofs.length)} spans with inclusion proofs, ${formatCount(result.bundle!.unproven.length)} not provable (checked by verify-bundle)`,
      );
    }
    return EXIT_CODES.OK;
  },
};

async function witnessCheckpoints(
  context: Parameters<CommandSpec['run']>[0],
  option: string | undefined,
): Promise<string[]> {
  const file =
    option === undefined ? context.settings.config.keys.witness : path.resolve(context.settings.cwd, option);
  return file === undefined ? [] : readWitnessFile(file);
}
