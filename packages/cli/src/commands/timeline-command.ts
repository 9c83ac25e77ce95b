import { CliError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { renderTimelineText } from '../render/timeline-text.ts';
import { buildTimelineDocument } from '../render/timeline-view.ts';
import { withBackend } from '../store/open-backend.ts';
import { decisionOrTraceId, listOption } from './option-values.ts';
import { quarantineSummary } from './quarantine-commands.ts';
import type { NoteVerifierKey } from '@decisiontrail/core';
import { verifyTimeline } from '../render/timeline-verification.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';

/** `decisiontrail timeline <decision-id | trace-id>` */
export const timelineCommand: CommandSpec = {
  kind: 'command',
  name: 'timeline',
  summary: 'what happened around one decision or trace, in order',
  usage: 'timeline <decision-id | trace-id> [--json]',
  description:
    'Shows the decision (model, version, outcome, confidence, subject), every span of its trace, reviews and\n' +
    'overrides, feedback, deployments of its model before it, incidents that cover it. The decision, each review\n' +
    'and each feedback is shown as its signed span holds it (the audit tables only say where the spans are) and\n' +
    'checked: one stored copy, its leaf recomputed and included under a checkpoint signed by a trusted key. Each\n' +
    'says verified, failed (naming the check), untrusted, unsigned or unsealed. The audit tables themselves are\n' +
    "verify's to reconcile. --no-verify skips the check and shows the audit tables' rows as stored. --json prints\n" +
    'the same data. Exits 1 when a shown entry failed its check (the timeline is still printed in full).',
  options: {
    key: {
      type: 'string',
      multiple: true,
      valueName: 'PUB',
      description: 'trusted public key file (default: the keys directory)',
    },
    'no-verify': {
      type: 'boolean',
      description: 'skip the read-time check of the shown spans',
    },
  },
  positionals: { min: 1, max: 1, names: 'a decision id or trace id' },
  json: true,
  examples: [
    { command: 'timeline 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b', note: 'a decision by its audit.decision.id' },
    { command: 'timeline 4bf92f3577b34da6a3ce929d0e0e4736 --json', note: 'a whole trace, as JSON' },
  ],
  async run(context) {
    const target = decisionOrTraceId('timeline', context.positionals[0]!);
    const verify = context.options['no-verify'] !== true;
    const given = listOption(context, 'key');
    let keys: NoteVerifierKey[] = [];
    if (verify) {
      try {
        keys = await loadTrustedKeys(context.settings, given, 'timeline');
      } catch (error) {
        // Without any configured key the timeline still shows, marked unchecked; a named key must load.
        if (!(error instanceof CliError && error.code === 'KEY' && given.length === 0)) throw error;
      }
    }
    const doc = await withBackend(context.settings, async (backend) => {
      const query = target.kind === 'decision' ? { decisionId: target.id } : { traceId: target.id };
      // With the check, the timeline and the signed rows behind it come from one pair of statements.
      const { entries: rows, evidence } = verify
        ? await backend.queries.timelineWithEvidence(query)
        : { entries: await backend.queries.decisionTimeline(query), evidence: undefined };
      if (rows.length === 0) {
        // Not stored is not the same as never recorded: the processor may have refused it.
        const [quarantined] = await backend.queries.listQuarantine({
          ...(target.kind === 'decision' ? { decisionId: target.id } : { traceId: target.id }),
          limit: 1,
        });
        if (quarantined !== undefined) {
          throw new CliError(
            'NOT_FOUND',
            `timeline: ${target.kind} ${target.id} is not in the store: ${target.kind === 'trace' ? `its span ${quarantined.record.spanId} was ` : ''}${quarantineSummary(quarantined)}; see decisiontrail quarantine show ${target.id}`,
          );
        }
      }
      if (evidence === undefined || rows.length === 0) return buildTimelineDocument(target, rows);
      return verifyTimeline(target, rows, evidence, keys);
    });
    if (doc === null)
      throw new CliError('NOT_FOUND', `timeline: no ${target.kind} with id ${target.id} in the store`);
    if (context.settings.json) context.out.json(doc);
    else context.out.write(renderTimelineText(doc, context.out));
    // A failed check is a finding, as in verify: a script reading the exit code must not take it for a pass.
    return doc.verification.status === 'failed' ? EXIT_CODES.INTEGRITY : EXIT_CODES.OK;
  },
};
