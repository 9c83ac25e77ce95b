import { SigningError } from './errors.ts';
import { HASH_SIZE } from './merkle-tree.ts';
import { strictBase64 } from './signed-note.ts';

/** The body of a C2SP tlog-checkpoint. */
export interface Checkpoint {
  /** Unique identity of the log (here: one per stream). */
  origin: string;
  /** Number of leaves. */
  size: number;
  /** RFC 9162 root hash of those leaves. */
  rootHash: Uint8Array;
}

/** Formats a C2SP tlog-checkpoint body: origin, decimal size and base64 root, each on its own line. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  if (checkpoint.origin.length === 0 || /[\n\r]/u.test(checkpoint.origin)) {
    throw new SigningError('CHECKPOINT_MALFORMED', 'checkpoint origin must be one non-empty line');
  }
  if (checkpoint.rootHash.length !== HASH_SIZE)
    throw new SigningError('CHECKPOINT_MALFORMED', 'root hash must be 32 bytes');
  return `${checkpoint.origin}\n${checkpoint.size}\n${Buffer.from(checkpoint.rootHash).toString('base64')}\n`;
}

/** Parses a checkpoint body (the text of a signed note); extension lines after the root are ignored. */
export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') {
    throw new SigningError('CHECKPOINT_MALFORMED', 'checkpoint needs origin, size and root lines');
  }
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin.length === 0) throw new SigningError('CHECKPOINT_MALFORMED', 'empty checkpoint origin');
  if (!/^(0|[1-9][0-9]{0,15})$/u.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new SigningError('CHECKPOINT_MALFORMED', 'checkpoint size is not a canonical decimal');
  }
  const rootHash = strictBase64(rootText);
  if (!rootHash || rootHash.length !== HASH_SIZE) {
    throw new SigningError('CHECKPOINT_MALFORMED', 'checkpoint root is not base64 of 32 bytes');
  }
  return { origin, size: Number(sizeText), rootHash };
}
