import { CliError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { renderTimelineText } from '../render/timeline-text.ts';
import { buildTimelineDocument } from '../render/timeline-view.ts';
import { withBackend } from '../store/open-backend.ts';
import { decisionOrTraceId } from './option-values.ts';

/** `decisiontrail timeline <decision-id | trace-id>` */
export const timelineCommand: CommandSpec = {
  kind: 'command',
  name: 'timeline',
  summary: 'what happened around one decision or trace, in order',
  usage: 'timeline <decision-id | trace-id> [--json]',
  description:
    'Shows the decision (model, version, outcome, confidence, subject), every span of its trace, reviews and\n' +
    'overrides, feedback, deployments of its model before it, incidents that cover it, and whether the spans\n' +
    'are covered by a valid signed checkpoint. --json prints the same data.',
  options: {},
  positionals: { min: 1, max: 1, names: 'a decision id or trace id' },
  json: true,
  examples: [
    { command: 'timeline 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b', note: 'a decision by its audit.decision.id' },
    { command: 'timeline 4bf92f3577b34da6a3ce929d0e0e4736 --json', note: 'a whole trace, as JSON' },
  ],
  async run(context) {
    const target = decisionOrTraceId('timeline', context.positionals[0]!);
    const rows = await withBackend(context.settings, (backend) =>
      backend.queries.decisionTimeline(
        target.kind === 'decision' ? { decisionId: target.id } : { traceId: target.id },
      ),
    );
    const doc = buildTimelineDocument(target, rows);
    if (doc === null)
      throw new CliError('NOT_FOUND', `timeline: no ${target.kind} with id ${target.id} in the store`);
    if (context.settings.json) context.out.json(doc);
    else context.out.write(renderTimelineText(doc, context.out));
    return EXIT_CODES.OK;
  },
};
