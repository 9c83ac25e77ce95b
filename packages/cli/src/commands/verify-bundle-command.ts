import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  loadVerifierKey,
  parseCosignerKey,
  verifyProofBundle,
  type CosignerKey,
  type NoteVerifierKey,
} from '@decisiontrail/core';
import { streamOfOrigin } from '@decisiontrail/core/internal';
import {
  checkBundleCosignatures,
  type BundleCosignatureReport,
  type CheckpointName,
} from '../bundle-cosignature-check.ts';
import { checkBundleTimelines, type ProvenSpan } from '../bundle-timeline-check.ts';
import { CliError, usageError } from '../cli-error.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { INVESTIGATION_BUNDLE_FORMAT, type InvestigationBundle } from '../investigation-bundle.ts';
import { listOption, stringOption } from './option-values.ts';
import { formatCount } from '../render/number-format.ts';

/** `decisiontrail verify-bundle FILE --key PUB` */
export const verifyBundleCommand: CommandSpec = {
  kind: 'command',
  name: 'verify-bundle',
  summary: 'verify an investigation bundle offline against a trusted public key',
  usage: 'verify-bundle FILE --key PUB… [--witness-key VKEY… [--quorum N]] [--json]',
  description:
    'Needs nothing but the file and the key: checks every inclusion proof under its signed checkpoint, that the\n' +
    'checkpoint is signed by a key given with --key (never a key the bundle brings along), and recomputes every\n' +
    'field the timelines show (decision facts, outcome after overrides, each entry’s time, title and details) from\n' +
    'the proven spans: a difference names the field. Incident and checkpoint entries are listed as not signed.\n' +
    'With independent witness keys (--witness-key, else the witnesses of decisiontrail.yaml) each checkpoint\n' +
    'needs the quorum of distinct trusted witnesses cosigning it, or a later checkpoint of its stream the bundle\n' +
    'proves extends it; a cosignature naming a trusted witness that does not verify is a finding.\n' +
    'Exit code 0 when all holds, 1 with every finding listed otherwise.',
  options: {
    key: {
      type: 'string',
      multiple: true,
      valueName: 'PUB',
      description: 'trusted public key file; required',
    },
    'witness-key': {
      type: 'string',
      multiple: true,
      valueName: 'VKEY',
      description:
        'trusted witness key (name+keyid+base64, as litewitness prints it) or a file holding one; default: the witnesses of decisiontrail.yaml',
    },
    quorum: {
      type: 'string',
      valueName: 'N',
      description:
        'distinct trusted witnesses each checkpoint needs (default 1 with --witness-key, else the config’s)',
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
    const witnesses = await trustedWitnesses(context);
    const bundle = parseBundle(text, file);
    const { findings, unsigned } = checkBundle(bundle, keys);
    const cosignatures =
      witnesses === undefined
        ? undefined
        : checkBundleCosignatures(bundle, keys, witnesses.keys, witnesses.quorum);
    for (const f of cosignatures?.findings ?? [])
      findings.push({ kind: 'cosignature', spanId: '', checkpoint: f.checkpoint, message: f.message });
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
        cosignatures: cosignatures ?? { notChecked: NO_WITNESS_KEYS },
      });
    } else {
      for (const f of findings) context.out.line(`${context.out.style('red', 'FAIL')}  ${f.message}`);
      for (const u of bundle.unproven)
        context.out.line(`note: span ${u.spanId} is in the bundle without a proof: ${u.reason}`);
      for (const note of unsigned) context.out.line(`note: ${note}`);
      context.out.line(cosignatureLine(cosignatures, bundle));
      context.out.line(
        findings.length === 0
          ? context.out.style(
              'green',
              `intact: ${formatCount(proven)} span(s) proven under ${formatCount(bundle.checkpoints.length)} signed checkpoint(s)${cosignatures === undefined ? '' : `, each cosigned by ${cosignatures.quorum} or more trusted witness(es)`}; every field the timelines show for them recomputed from the proven spans`,
            )
          : context.out.style(
              'red',
              `NOT intact: ${formatCount(findings.length)} finding(s); ${formatCount(proven)} of ${formatCount(bundle.proofs.length)} proofs hold`,
            ),
      );
    }
    return findings.length === 0 ? EXIT_CODES.OK : EXIT_CODES.INTEGRITY;
  },
};

const NO_WITNESS_KEYS = 'no witness keys: give --witness-key or list witnesses in decisiontrail.yaml';

/** The witness keys and quorum verify-bundle trusts: the command line's, else decisiontrail.yaml's; none: not checked. */
async function trustedWitnesses(
  context: CommandContext,
): Promise<{ keys: CosignerKey[]; quorum: number } | undefined> {
  const given = listOption(context, 'witness-key');
  const quorumText = stringOption(context, 'quorum');
  const configured = context.settings.config.witnesses;
  if (given.length === 0 && quorumText !== undefined && configured.list.length === 0)
    throw usageError('verify-bundle: --quorum needs witness keys (--witness-key VKEY)');
  const keys: CosignerKey[] = [];
  for (const value of given) {
    let vkey = value;
    if (!value.includes('+')) {
      const keyFile = path.resolve(context.settings.cwd, value);
      try {
        vkey = (await readFile(keyFile, 'utf8')).trim();
      } catch (cause) {
        throw new CliError(
          'KEY',
          `verify-bundle: cannot read witness key ${keyFile}: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      }
    }
    try {
      keys.push(parseCosignerKey(vkey));
    } catch (cause) {
      throw new CliError('KEY', `verify-bundle: --witness-key ${value}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
  if (keys.length === 0) keys.push(...configured.list.map((w) => parseCosignerKey(w.key)));
  if (keys.length === 0) return undefined;
  const defaultQuorum = given.length > 0 ? 1 : configured.quorum;
  const quorum = quorumText === undefined ? defaultQuorum : Number(quorumText);
  if (!/^(0|[1-9][0-9]{0,3})$/u.test(quorumText ?? '0') || quorum > keys.length)
    throw usageError(
      `verify-bundle: --quorum ${quorumText} must be a whole number from 0 to the ${keys.length} trusted witness key(s)`,
    );
  return { keys, quorum };
}

function cosignatureLine(report: BundleCosignatureReport | undefined, bundle: InvestigationBundle): string {
  if (report === undefined) {
    const carried = bundle.cosignatures?.length ?? 0;
    return `witness cosignatures: not checked (${NO_WITNESS_KEYS})${carried > 0 ? `; the bundle carries ${carried} set(s)` : ''}`;
  }
  const held = report.checkpoints.filter((c) => c.cosignedBy.length >= report.quorum).length;
  return `witness cosignatures: ${held} of ${report.checkpoints.length} checkpoint(s) cosigned by the quorum (${report.quorum} of ${report.witnesses.join(', ')})`;
}

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
    !Array.isArray(bundle.checkpoints) ||
    (bundle.cosignatures !== undefined && !Array.isArray(bundle.cosignatures))
  ) {
    throw new CliError(
      'INTEGRITY',
      `verify-bundle: ${file} is not a ${INVESTIGATION_BUNDLE_FORMAT} bundle (altered, or another file)`,
    );
  }
  return bundle as InvestigationBundle;
}

interface BundleFinding {
  kind: 'proof' | 'timeline' | 'cosignature';
  /** The span concerned; '' for cosignature findings. */
  spanId: string;
  /** For cosignature findings: the bundle checkpoint concerned (null: one the bundle does not hold or cannot open). */
  checkpoint?: CheckpointName | null;
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
