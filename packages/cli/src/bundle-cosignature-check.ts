import {
  checkCosignatures,
  noteText,
  openNote,
  parseCheckpoint,
  verifyConsistency,
  type Checkpoint,
  type CosignerKey,
  type NoteVerifierKey,
} from '@decisiontrail/core';
import type { InvestigationBundle } from './investigation-bundle.ts';

/** A bundle checkpoint as findings name it. */
export interface CheckpointName {
  origin: string;
  size: number;
}

/** One problem with the cosignatures of a bundle checkpoint. */
export interface CosignatureFinding {
  checkpoint: CheckpointName | null;
  message: string;
}

/** What {@link checkBundleCosignatures} found. */
export interface BundleCosignatureReport {
  /** The trusted witnesses (names of the keys given). */
  witnesses: string[];
  quorum: number;
  /** Per bundle checkpoint: the trusted witnesses whose cosignature of it, or of a proven extension, verifies. */
  checkpoints: (CheckpointName & { cosignedBy: string[] })[];
  findings: CosignatureFinding[];
}

const HEX_HASH = /^[0-9a-f]{64}$/u;

function describe(name: CheckpointName | null): string {
  return name === null
    ? 'a checkpoint the bundle does not hold'
    : `checkpoint ${name.origin} at size ${name.size}`;
}

/** Opens a signed checkpoint note with the trusted log keys; the reason when it does not open. */
function opened(note: unknown, logKeys: readonly NoteVerifierKey[]): Checkpoint | string {
  if (typeof note !== 'string') return 'it is not a signed note';
  try {
    return parseCheckpoint(openNote(note, logKeys).text);
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Checks, offline, the witness cosignatures a bundle carries for its checkpoints (C2SP tlog-cosignature) against
 * witness keys the verifier trusts — never keys the bundle brings. Each checkpoint needs `quorum` distinct trusted
 * witnesses, counted over lines on the checkpoint itself and on later checkpoints of its stream that the bundle
 * proves extend it (signed by a trusted log key, same origin, an RFC 9162 consistency proof between the two signed
 * roots). A line that names a trusted witness and does not verify is a finding even when the quorum holds: a
 * forged or edited cosignature is evidence. Lines by other witnesses are not counted.
 */
export function checkBundleCosignatures(
  bundle: Pick<InvestigationBundle, 'checkpoints' | 'cosignatures'>,
  logKeys: readonly NoteVerifierKey[],
  witnessKeys: readonly CosignerKey[],
  quorum: number,
): BundleCosignatureReport {
  const report: BundleCosignatureReport = {
    witnesses: witnessKeys.map((key) => key.name),
    quorum,
    checkpoints: [],
    findings: [],
  };
  const entries = Array.isArray(bundle.cosignatures) ? bundle.cosignatures : [];
  for (const entry of entries) {
    if (!bundle.checkpoints.includes(entry?.checkpoint))
      report.findings.push({
        checkpoint: null,
        message: 'the bundle carries cosignatures for a checkpoint it does not hold (altered)',
      });
  }
  for (const note of bundle.checkpoints) {
    const checkpoint = opened(note, logKeys);
    if (typeof checkpoint === 'string') {
      report.findings.push({
        checkpoint: null,
        message: `a bundle checkpoint does not open under the trusted keys (${checkpoint}); its cosignatures are not checked`,
      });
      continue;
    }
    const name = { origin: checkpoint.origin, size: checkpoint.size };
    const cosignedBy = new Set<string>();
    for (const entry of entries.filter((e) => e?.checkpoint === note)) {
      const target = entry.cosigned === note ? checkpoint : opened(entry.cosigned, logKeys);
      if (typeof target === 'string') {
        report.findings.push({
          checkpoint: name,
          message: `${describe(name)}: the checkpoint its cosignatures are over does not open under the trusted keys (${target})`,
        });
        continue;
      }
      const proof = Array.isArray(entry.consistency) ? entry.consistency : [undefined];
      if (
        target.origin !== checkpoint.origin ||
        !proof.every((hash) => typeof hash === 'string' && HEX_HASH.test(hash)) ||
        !verifyConsistency(
          checkpoint.size,
          target.size,
          checkpoint.rootHash,
          target.rootHash,
          (proof as string[]).map((hash) => Buffer.from(hash, 'hex')),
        )
      ) {
        report.findings.push({
          checkpoint: name,
          message: `${describe(name)}: the bundle does not prove that the cosigned checkpoint (${target.origin} at size ${target.size}) extends it`,
        });
        continue;
      }
      const lines = Array.isArray(entry.lines) ? entry.lines.filter((l) => typeof l === 'string') : [];
      let checked;
      try {
        checked = checkCosignatures(noteText(entry.cosigned), lines, witnessKeys);
      } catch (error) {
        report.findings.push({ checkpoint: name, message: `${describe(name)}: ${(error as Error).message}` });
        continue;
      }
      for (const bad of checked.invalid)
        report.findings.push({
          checkpoint: name,
          message: `${describe(name)}: a cosignature over size ${target.size} does not verify: ${bad.reason}`,
        });
      for (const good of checked.verified) cosignedBy.add(good.witness);
    }
    report.checkpoints.push({ ...name, cosignedBy: [...cosignedBy] });
    if (cosignedBy.size < quorum)
      report.findings.push({
        checkpoint: name,
        message: `${describe(name)}: cosigned by ${cosignedBy.size} of the ${quorum} trusted witness(es) the quorum needs${cosignedBy.size > 0 ? ` (${[...cosignedBy].join(', ')})` : ''}`,
      });
  }
  return report;
}
