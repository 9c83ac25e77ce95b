import type { StoredCosignature, WitnessEvidence } from '@decisiontrail/clickhouse';
import {
  consistencyProofFromCheckpoints,
  noteText,
  parseCheckpoint,
  type Checkpoint,
} from '@decisiontrail/core';
import { streamOfOrigin } from '@decisiontrail/core/internal';
import type { BundleCosignature } from './investigation-bundle.ts';
import type { AuditQueries } from './store/audit-backend.ts';

function parsedNote(note: string): Checkpoint | undefined {
  try {
    return parseCheckpoint(noteText(note));
  } catch {
    return undefined;
  }
}

/** Stored cosignature rows grouped by the checkpoint (size and root) they cosign. */
function groups(
  rows: readonly StoredCosignature[],
): { size: number; root: string; rows: StoredCosignature[] }[] {
  const byCheckpoint = new Map<string, { size: number; root: string; rows: StoredCosignature[] }>();
  for (const row of rows) {
    const id = `${row.treeSize} ${row.root}`;
    const group = byCheckpoint.get(id) ?? { size: row.treeSize, root: row.root, rows: [] };
    group.rows.push(row);
    byCheckpoint.set(id, group);
  }
  return [...byCheckpoint.values()];
}

const distinctLines = (rows: readonly StoredCosignature[]) => [...new Set(rows.map((row) => row.line))];
const witnessCount = (rows: readonly StoredCosignature[]) => new Set(rows.map((row) => row.witness)).size;

/** One bundle checkpoint and the later cosigned checkpoint of its stream chosen to vouch for it. */
interface Pending {
  note: string;
  size: number;
  later: { size: number; root: string; rows: StoredCosignature[] };
}

/**
 * The stored witness cosignatures that vouch for each of a bundle's checkpoints: the lines over that checkpoint,
 * and — since serve submits only a stream's newest checkpoint, so the one a span is proven under is often not one
 * a witness saw — the lines over the smallest later checkpoint of its stream among those cosigned by the most
 * witnesses, with the consistency proof to it built from the stored checkpoint spans in between (read once per
 * stream). Nothing here is checked: the rows propose, `verify-bundle` decides with the witness keys it is given.
 */
export async function bundleCosignatures(
  queries: Pick<AuditQueries, 'witnessEvidence' | 'checkpointLinks'>,
  checkpoints: readonly string[],
): Promise<BundleCosignature[]> {
  const result: BundleCosignature[] = [];
  const evidence = new Map<string, WitnessEvidence>();
  const pending = new Map<string, Pending[]>();
  for (const note of checkpoints) {
    const checkpoint = parsedNote(note);
    const stream = checkpoint === undefined ? undefined : streamOfOrigin(checkpoint.origin);
    if (checkpoint === undefined || stream === undefined) continue;
    if (!evidence.has(stream)) evidence.set(stream, await queries.witnessEvidence({ stream }));
    const rows = evidence.get(stream)!.cosignatures.filter((row) => row.origin === checkpoint.origin);
    const root = Buffer.from(checkpoint.rootHash).toString('base64');
    const direct = rows.filter((row) => row.treeSize === checkpoint.size && row.root === root);
    if (direct.length > 0)
      result.push({ checkpoint: note, cosigned: note, consistency: [], lines: distinctLines(direct) });
    const later = groups(rows.filter((row) => row.treeSize > checkpoint.size)).sort(
      (a, b) => witnessCount(b.rows) - witnessCount(a.rows) || a.size - b.size,
    )[0];
    if (later !== undefined)
      pending.set(stream, [...(pending.get(stream) ?? []), { note, size: checkpoint.size, later }]);
  }
  for (const [stream, wanted] of pending) {
    const all = await queries.checkpointLinks({
      stream,
      fromSize: Math.min(...wanted.map((w) => w.size)),
      toSize: Math.max(...wanted.map((w) => w.later.size)),
    });
    for (const { note, size, later } of wanted) {
      const links = all.filter((link) => link.treeSize > size && link.treeSize <= later.size);
      const target = links.at(-1);
      const targetCheckpoint = target === undefined ? undefined : parsedNote(target.note);
      // The stored note at that size must be the checkpoint the witnesses cosigned, else the lines cannot vouch.
      if (
        target === undefined ||
        targetCheckpoint === undefined ||
        targetCheckpoint.size !== later.size ||
        Buffer.from(targetCheckpoint.rootHash).toString('base64') !== later.root
      )
        continue;
      const proof = consistencyProofFromCheckpoints(links, size, later.size);
      if (proof === undefined) continue;
      result.push({
        checkpoint: note,
        cosigned: target.note,
        consistency: proof.map((hash) => Buffer.from(hash).toString('hex')),
        lines: distinctLines(later.rows),
      });
    }
  }
  return result;
}
