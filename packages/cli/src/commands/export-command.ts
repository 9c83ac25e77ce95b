import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readWitnessFile } from '@decisiontrail/core';
import { buildInvestigationBundle } from '../bundle-builder.ts';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { incidentWindow } from '../incident-window.ts';
import { buildTimelineDocument } from '../render/timeline-view.ts';
import type { TimelineDocument } from '../render/timeline-document.ts';
import type { AuditQueries } from '../store/audit-backend.ts';
import { withBackend } from '../store/open-backend.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';
import { decisionId, listOption, stringOption, traceId } from './option-values.ts';

const MAX_INCIDENT_DECISIONS = 1000;

/** `decisiontrail export` */
export const exportCommand: CommandSpec = {
  kind: 'command',
  name: 'export',
  summary: 'an investigation bundle: spans, timeline, inclusion proofs, checkpoints, public keys',
  usage: 'export (--decision ID | --trace ID | --incident ID) --out FILE [--key PUB]…',
  description:
    'Writes one JSON file that `decisiontrail verify-bundle FILE --key PUB` checks offline with nothing else:\n' +
    'every signed span of the decision, trace or incident with its RFC 9162 inclusion proof under a signed\n' +
    "checkpoint, the checkpoints and the public keys; the independent witnesses' stored cosignatures of those\n" +
    'checkpoints (or of a later checkpoint, with the consistency proof to it); plus the timeline built from\n' +
    'those spans.',
  options: {
    decision: { type: 'string', valueName: 'ID', description: 'a decision id' },
    trace: { type: 'string', valueName: 'ID', description: 'a trace id' },
    incident: { type: 'string', valueName: 'ID', description: 'an incident id (its decisions, up to 1000)' },
    out: { type: 'string', valueName: 'FILE', description: 'bundle file to write; required' },
    key: {
      type: 'string',
      multiple: true,
      valueName: 'PUB',
      description: 'trusted public key file (default: the keys directory)',
    },
    witness: {
      type: 'string',
      valueName: 'FILE',
      description: 'checkpoint witness file (default keys.witness of the config)',
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    {
      command: 'export --decision 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b --out decision.bundle.json',
      note: 'one decision for an auditor',
    },
    {
      command: 'export --incident 0193a5e0-7c1d-7b2a-9f10-3c4d5e6f7a8b --out incident.bundle.json',
      note: 'everything behind an incident',
    },
  ],
  async run(context) {
    const targets = ['decision', 'trace', 'incident'].filter(
      (name) => stringOption(context, name) !== undefined,
    );
    if (targets.length !== 1) throw usageError('export: give exactly one of --decision, --trace, --incident');
    const kind = targets[0] as 'decision' | 'trace' | 'incident';
    const raw = stringOption(context, kind)!;
    const id =
      kind === 'decision' ? decisionId('export', raw) : kind === 'trace' ? traceId('export', raw) : raw;
    const outOption = stringOption(context, 'out');
    if (outOption === undefined) throw usageError('export: --out FILE is required');
    const out = path.resolve(context.settings.cwd, outOption);
    const keys = await loadTrustedKeys(context.settings, listOption(context, 'key'), 'export');
    const witnessOption = stringOption(context, 'witness');
    const witnessFile =
      witnessOption === undefined
        ? context.settings.config.keys.witness
        : path.resolve(context.settings.cwd, witnessOption);
    const witnessCheckpoints = witnessFile === undefined ? [] : await readWitnessFile(witnessFile);
    const bundle = await withBackend(context.settings, async (backend) =>
      buildInvestigationBundle(
        backend.queries,
        { kind, id },
        await timelinesFor(backend.queries, kind, id),
        keys,
        witnessCheckpoints,
      ),
    );
    try {
      await writeFile(out, `${JSON.stringify(bundle, null, 2)}\n`);
    } catch (cause) {
      throw new CliError('FILE', `export: cannot write ${out}: ${(cause as Error).message}`, { cause });
    }
    const cosigned = new Set(bundle.cosignatures?.map((c) => c.checkpoint)).size;
    const summary = {
      out,
      proofs: bundle.proofs.length,
      unproven: bundle.unproven.length,
      checkpoints: bundle.checkpoints.length,
      checkpointsWithCosignatures: cosigned,
    };
    if (context.settings.json) context.out.json(summary);
    else {
      context.out.line(
        `wrote ${out}: ${summary.proofs} spans with inclusion proofs under ${summary.checkpoints} signed checkpoint(s), ${cosigned} of them with stored witness cosignatures (checked by verify-bundle)`,
      );
      for (const u of bundle.unproven) context.out.line(`  not provable: span ${u.spanId}: ${u.reason}`);
    }
    return EXIT_CODES.OK;
  },
};

type TimelineRows = Awaited<ReturnType<AuditQueries['decisionTimeline']>>;

async function timelinesFor(
  queries: AuditQueries,
  kind: 'decision' | 'trace' | 'incident',
  id: string,
): Promise<{ document: TimelineDocument; rows: TimelineRows }[]> {
  const one = async (query: { id: string; kind: 'decision' | 'trace' }) => {
    const rows = await queries.decisionTimeline(
      query.kind === 'decision' ? { decisionId: query.id } : { traceId: query.id },
    );
    const document = buildTimelineDocument(query, rows);
    return document === null ? undefined : { document, rows };
  };
  if (kind !== 'incident') {
    const found = await one({ id, kind });
    if (found === undefined) throw new CliError('NOT_FOUND', `export: no ${kind} with id ${id} in the store`);
    return [found];
  }
  const incident = await queries.getIncident(id);
  if (incident === null) throw new CliError('NOT_FOUND', `export: no incident with id ${id}`);
  const ids = new Set(incident.decisionIds);
  if (incident.modelId !== '') {
    const window = incidentWindow(incident);
    if (window !== null) {
      const rows = await queries.decisions({
        ...window,
        modelId: incident.modelId,
        ...(incident.modelVersion ? { modelVersion: incident.modelVersion } : {}),
        limit: MAX_INCIDENT_DECISIONS,
      });
      for (const row of rows) ids.add(row.decisionId);
    }
  }
  const timelines = [];
  for (const decision of ids) {
    const found = await one({ id: decision, kind: 'decision' });
    if (found !== undefined) timelines.push(found);
  }
  return timelines;
}
