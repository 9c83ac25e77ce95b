import { readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import { StreamVerifier, loadVerifierKey } from '@decisiontrail/signing-exporter';
import type { NoteVerifierKey, SpanRecord, StreamVerifierState } from '@decisiontrail/signing-exporter';
import type { IntegrityChecker } from './audit-pipeline.ts';
import type { KeysConfig } from './config.ts';
import { ProcessorError } from './errors.ts';

/** File name endings in `keys.dir` taken as trusted verifier keys when `keys.publicKeys` lists none. */
const PUBLIC_KEY_SUFFIXES = ['.pub', '.vkey'];

/** The trusted keys `decisiontrail.yaml` names (or every public key file in the keys directory). */
export async function loadTrustedKeys(keys: KeysConfig): Promise<NoteVerifierKey[]> {
  let files = keys.publicKeys;
  if (files.length === 0) {
    let names: string[] = [];
    try {
      names = await readdir(keys.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    files = names
      .filter((n) => PUBLIC_KEY_SUFFIXES.some((s) => n.endsWith(s)))
      .map((n) => path.join(keys.dir, n));
  }
  return Promise.all(files.map((file) => loadVerifierKey(file)));
}

/** A tamper finding about a span stored earlier: it can no longer be held back, only reported. */
export interface LateFinding {
  stream: string;
  code: string;
  message: string;
}

/**
 * The verify stage over the signing package's incremental `StreamVerifier`: one verifier per integrity
 * stream, fed in arrival order; its state travels with the write-ahead-log position.
 */
export class StreamIntegrityChecker implements IntegrityChecker {
  private readonly streams = new Map<string, StreamVerifier>();
  private readonly publicKeys: readonly NoteVerifierKey[];
  private readonly onLateFinding: (finding: LateFinding) => void;

  constructor(
    publicKeys: readonly NoteVerifierKey[],
    state: unknown,
    onLateFinding: (finding: LateFinding) => void,
  ) {
    this.publicKeys = publicKeys;
    this.onLateFinding = onLateFinding;
    if (state !== undefined && state !== null) {
      if (typeof state !== 'object')
        throw new ProcessorError('WAL_CORRUPT', 'verifier state is not an object');
      for (const [stream, json] of Object.entries(state as Record<string, unknown>)) {
        this.streams.set(stream, StreamVerifier.fromJSON(json as StreamVerifierState, { publicKeys }));
      }
    }
  }

  check(records: readonly SpanRecord[]): ({ code: string; reason: string } | undefined)[] {
    const results: ({ code: string; reason: string } | undefined)[] = records.map(() => undefined);
    // A finding may name an earlier span of the same batch (a checkpoint exposes a modified leaf): that span
    // is not stored yet, so it can still be quarantined.
    const inBatch = new Map<string, number>();
    records.forEach((record, i) => {
      inBatch.set(record.spanId, i);
      const stream = record.attributes[ATTR_AUDIT_INTEGRITY_STREAM]!;
      let verifier = this.streams.get(stream);
      if (verifier === undefined) {
        verifier = new StreamVerifier(stream, { publicKeys: this.publicKeys });
        this.streams.set(stream, verifier);
      }
      const isCheckpoint = record.attributes[ATTR_AUDIT_RECORD_TYPE] === AUDIT_RECORD_TYPE_VALUES.CHECKPOINT;
      for (const f of isCheckpoint ? verifier.addCheckpoint(record) : verifier.addSpan(record)) {
        if (!f.tamper) continue;
        const subject = f.spanId ?? f.checkpointSpanId;
        const index = subject === undefined ? undefined : inBatch.get(subject);
        if (index !== undefined) results[index] ??= { code: f.code, reason: f.message };
        else this.onLateFinding({ stream, code: f.code, message: f.message });
      }
    });
    return results;
  }

  snapshot(): unknown {
    return Object.fromEntries([...this.streams].map(([stream, verifier]) => [stream, verifier.toJSON()]));
  }
}

/** Builds the verify stage from the configured keys and the state saved with the queue. */
export async function createIntegrityChecker(
  keys: KeysConfig,
  state: unknown,
  onLateFinding: (finding: LateFinding) => void,
): Promise<IntegrityChecker> {
  return new StreamIntegrityChecker(await loadTrustedKeys(keys), state, onLateFinding);
}
