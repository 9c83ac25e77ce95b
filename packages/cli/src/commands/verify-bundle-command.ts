import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadVerifierKey, verifyProofBundle, type NoteVerifierKey } from '@decisiontrail/core';
import { streamOfOrigin } from '@decisiontrail/core/internal';
import { checkBundleTimelines, type ProvenSpan } from '../bundle-timeline-check.ts';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { INVESTIGATION_BUNDLE_FORMAT, type InvestigationBundle } from '../investigation-bundle.ts';
import { listOption } from './option-values.ts';

/** `decisiontrail verify-bundle FILE --key PUB` */
export const verifyBundleCommand: CommandSpec = {
  kind: 'command',
  name: 'verify-bundle',
  summary: 'verify an investigation bundle offline against a trusted public key',
  usage: 'verify-bundle FILE --key PUB… [--json]',
  description:
    'Needs nothing but the file and the key: checks every inclusion proof under its signed checkpoint, that the\n' +
    'checkpoint is signed by a key given with --key (never a key the bundle brings along), and recomputes every\n' +
    'field the timelines show (decision facts, outcome after overrides, each entry’s time, title and details) from\n' +
    'the proven spans: a difference names the field. Incident and checkpoint entries are listed as not signed.\n' +
    'Exit code 0 when all holds, 1 with every finding listed otherwise.',
  options: {
    key: {
      type: 'string',
      multiple: true,
      valueName: 'PUB',
      description: 'trusted public key file; required',
    },
  },
  positionals: { min: 1, max: 1, names: 'a bundle file' },
  json: true,
  examples: [
    {
      command: 'verify-bundle decision.bundle.json --key signing.pub',
      note: 'check a bundle received from an operator',
    },
  ],
  async run(context) {
    const keyFiles = listOption(context, 'key');
    if (keyFiles.length === 0)
      throw usageError('verify-bundle: --key PUB is required: a bundle cannot vouch for itself');
    const file = path.resolve(context.settings.cwd, context.positionals[0]!);
    const keys: NoteVerifierKey[] = [];
    for (const keyFile of keyFiles)
      keys.push(await loadVerifierKey(path.resolve(context.settings.cwd, keyFile)));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      throw new CliError('FILE', `verify-bundle: cannot read ${file}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const bundle = parseBundle(text, file);
    const { findings, unsigned } = checkBundle(bundle, keys);
    const proven = bundle.proofs.length - findings.filter((f) => f.kind === 'proof').length;
    if (context.settings.json) {
      context.out.json({
        ok: findings.length === 0,
        file,
        proofs: bundle.proofs.length,
        proven,
        findings,
        unproven: bundle.unproven,
        unsigned,
      });
    } else {
      for (const f of findings) context.out.line(`${context.out.style('red', 'FAIL')}  ${f.message}`);
      for (const u of bundle.unproven)
        context.out.line(`note: span ${u.spanId} is in the bundle without a proof: ${u.reason}`);
      for (const note of unsigned) context.out.line(`note: ${note}`);
      context.out.line(
        findings.length === 0
          ? context.out.style(
              'green',
              `intact: ${proven} span(s) proven under ${bundle.checkpoints.length} signed checkpoint(s); every field the timelines show for them recomputed from the proven spans`,
            )
          : context.out.style(
              'red',
              `NOT intact: ${findings.length} finding(s); ${proven} of ${bundle.proofs.length} proofs hold`,
            ),
      );
    }
    return findings.length === 0 ? EXIT_CODES.OK : EXIT_CODES.INTEGRITY;
  },
};

function parseBundle(text: string, file: string): InvestigationBundle {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(
      'INTEGRITY',
      `verify-bundle: ${file} is not valid JSON: the bundle was altered or truncated`,
    );
  }
  const bundle = value as Partial<InvestigationBundle> | null;
  if (
    typeof bundle !== 'object' ||
    bundle === null ||
    bundle.format !== INVESTIGATION_BUNDLE_FORMAT ||
    !Array.isArray(bundle.proofs) ||
    !Array.isArray(bundle.timelines) ||
    !Array.isArray(bundle.unproven) ||
    !Array.isArray(bundle.checkpoints)
  ) {
    throw new CliError(
      'INTEGRITY',
      `verify-bundle: ${file} is not a ${INVESTIGATION_BUNDLE_FORMAT} bundle (altered, or another file)`,
    );
  }
  return bundle as InvestigationBundle;
}

interface BundleFinding {
  kind: 'proof' | 'timeline';
  spanId: string;
  /** For timeline findings: the field of the bundle that differs from its proven span. */
  field?: string;
  message: string;
}

function checkBundle(
  bundle: InvestigationBundle,
  keys: readonly NoteVerifierKey[],
): { findings: BundleFinding[]; unsigned: string[] } {
  const findings: BundleFinding[] = [];
  const proven = new Map<string, ProvenSpan>();
  for (const proof of bundle.proofs) {
    const result = verifyProofBundle(proof, keys);
    const spanId = typeof proof?.span?.spanId === 'string' ? proof.span.spanId : '?';
    if (result.ok) {
      const stream = streamOfOrigin(result.origin);
      proven.set(spanId, { proof, stream, seq: result.leafIndex });
    } else findings.push({ kind: 'proof', spanId, message: `span ${spanId}: ${result.reason}` });
  }
  const unproven = new Set(bundle.unproven.map((u) => u.spanId));
  for (const timeline of bundle.timelines) {
    for (const entry of timeline.entries ?? []) {
      if (entry.spanId === null || entry.kind === 'checkpoint' || entry.kind === 'incident') continue;
      if (proven.has(entry.spanId)) continue;
      if (!unproven.has(entry.spanId) && !findings.some((f) => f.spanId === entry.spanId)) {
        findings.push({
          kind: 'timeline',
          spanId: entry.spanId,
          message: `timeline names span ${entry.spanId}, which has no proof and is not listed as unproven`,
        });
      }
    }
  }
  const checked = checkBundleTimelines(bundle, proven);
  for (const f of checked.findings) findings.push({ kind: 'timeline', ...f });
  return { findings, unsigned: checked.unsigned };
}
