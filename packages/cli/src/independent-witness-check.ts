import type { StreamHead, WitnessEvidence } from '@decisiontrail/clickhouse';
import {
  addCheckpoint,
  checkCosignatures,
  findingKind,
  formatCheckpoint,
  noteText,
  parseCheckpoint,
  parseCosignerKey,
  type AddCheckpointOutcome,
  type Finding,
  type FindingCode,
  type WitnessEndpoint,
} from '@decisiontrail/core';
import type { WitnessesConfig } from '@decisiontrail/processor';

/** Per stream: what the independent witnesses say of its newest stored checkpoint. */
export interface CosignedStream {
  stream: string;
  /** Size of the newest stored checkpoint (0: none is stored, the stream is known only by its cosignatures). */
  newestSize: number;
  /** Trusted witnesses whose stored cosignature of that checkpoint verifies. */
  storedCosigners: string[];
  /** Trusted witnesses that, asked now, hold exactly that checkpoint. */
  confirmedBy: string[];
  /** The largest size a trusted witness cosigned or holds for this stream (stored cosignatures and answers). */
  cosignedSize: number;
}

/** What `verify` adds from the independent witnesses of `decisiontrail.yaml`. */
export interface IndependentWitnessReport {
  witnesses: string[];
  quorum: number;
  streams: CosignedStream[];
  findings: Finding[];
}

function witnessFinding(code: FindingCode, stream: string, message: string, size?: number): Finding {
  return {
    code,
    tamper: findingKind(code) === 'tamper',
    message,
    stream,
    ...(size !== undefined && { size }),
  };
}

/** How the check reaches the store beyond the evidence: the signed note of a stream's stored checkpoint of one size. */
export interface IndependentWitnessOptions {
  storedCheckpoint(stream: string, size: number): Promise<string | undefined>;
}

/**
 * Checks each stream's newest stored checkpoint against the independent witnesses: the stored cosignatures
 * against the trusted witness keys (a quorum of distinct witnesses, a forged line is a finding), and each witness
 * asked now, with an `add-checkpoint` of that very checkpoint from its own size (C2SP tlog-witness): a witness
 * at that size re-cosigns it, one that holds a larger size answers 409 with it — the store lost checkpoints the
 * witness cosigned, whatever happened to the producer's witness file — and one that holds another tree at that
 * size answers 422. A witness that holds a smaller size is asked about the store's checkpoint of that size the
 * same way, so a rewritten history is named however far the store's newest checkpoint has moved past it. The
 * questions change nothing at the witness. A stream whose cosignatures are stored but none of its checkpoints is
 * a stream removed from the store: `truncated` with the size the witnesses cosigned.
 */
export async function checkIndependentWitnesses(
  config: WitnessesConfig,
  evidence: WitnessEvidence,
  options: IndependentWitnessOptions,
): Promise<IndependentWitnessReport> {
  const endpoints: WitnessEndpoint[] = config.list.map((w) => ({
    name: w.name,
    url: w.url,
    key: parseCosignerKey(w.key),
  }));
  const keys = endpoints.map((e) => e.key);
  const report: IndependentWitnessReport = {
    witnesses: endpoints.map((e) => e.name),
    quorum: config.quorum,
    streams: [],
    findings: [],
  };
  for (const head of evidence.heads) {
    report.streams.push(await checkStream(head, evidence, endpoints, config, options, report.findings));
  }
  const gone = [...new Set(evidence.cosignatures.map((c) => c.stream))].filter(
    (stream) => !evidence.heads.some((head) => head.stream === stream),
  );
  for (const stream of gone) {
    const stored = checkStoredCosignatures(stream, evidence, keys, config.quorum, report.findings);
    report.streams.push({
      stream,
      newestSize: 0,
      storedCosigners: [],
      confirmedBy: [],
      cosignedSize: stored.cosignedSize,
    });
    // The stream's first checkpoint may have been stored (and cosigned) after the heads were read.
    if (
      stored.cosignedSize > 0 &&
      (await options.storedCheckpoint(stream, stored.cosignedSize)) === undefined
    )
      report.findings.push(
        witnessFinding(
          'truncated',
          stream,
          `stream ${stream}: independent witnesses cosigned size ${stored.cosignedSize} (stored cosignatures), but the store holds no checkpoint of this stream: the stream was removed`,
          stored.cosignedSize,
        ),
      );
  }
  return report;
}

/**
 * The stored cosignatures of one stream, grouped by the checkpoint they name and each checked over that
 * checkpoint's body: findings for lines that name a trusted witness and do not verify, the largest size with the
 * quorum, and per checkpoint the trusted witnesses whose line verified.
 */
function checkStoredCosignatures(
  stream: string,
  evidence: WitnessEvidence,
  keys: readonly WitnessEndpoint['key'][],
  quorum: number,
  findings: Finding[],
): { cosignedSize: number; groups: { size: number; root: string; origin: string; witnesses: string[] }[] } {
  const result = {
    cosignedSize: 0,
    groups: [] as { size: number; root: string; origin: string; witnesses: string[] }[],
  };
  const bySize = new Map<string, { origin: string; size: number; root: string; lines: string[] }>();
  for (const c of evidence.cosignatures.filter((row) => row.stream === stream)) {
    const id = `${c.treeSize} ${c.root} ${c.origin}`;
    const group = bySize.get(id) ?? { origin: c.origin, size: c.treeSize, root: c.root, lines: [] };
    group.lines.push(c.line);
    bySize.set(id, group);
  }
  for (const group of bySize.values()) {
    let checked;
    try {
      const rootHash = Buffer.from(group.root, 'base64');
      checked = checkCosignatures(
        formatCheckpoint({ origin: group.origin, size: group.size, rootHash }),
        group.lines,
        keys,
      );
    } catch (error) {
      findings.push(
        witnessFinding(
          'cosignature-invalid',
          stream,
          `stored cosignature row of size ${group.size} is not a checkpoint: ${(error as Error).message}`,
          group.size,
        ),
      );
      continue;
    }
    for (const bad of checked.invalid) {
      findings.push(
        witnessFinding(
          'cosignature-invalid',
          stream,
          `a stored cosignature of size ${group.size} does not verify: ${bad.reason}`,
          group.size,
        ),
      );
    }
    if (checked.verified.length >= Math.max(1, quorum))
      result.cosignedSize = Math.max(result.cosignedSize, group.size);
    result.groups.push({
      size: group.size,
      root: group.root,
      origin: group.origin,
      witnesses: checked.verified.map((v) => v.witness),
    });
  }
  return result;
}

async function checkStream(
  head: StreamHead,
  evidence: WitnessEvidence,
  endpoints: readonly WitnessEndpoint[],
  config: WitnessesConfig,
  options: IndependentWitnessOptions,
  findings: Finding[],
): Promise<CosignedStream> {
  const { stream } = head;
  const headRoot = Buffer.from(parseCheckpoint(noteText(head.note)).rootHash).toString('base64');
  const stored = checkStoredCosignatures(
    stream,
    evidence,
    endpoints.map((e) => e.key),
    config.quorum,
    findings,
  );
  const result: CosignedStream = {
    stream,
    newestSize: head.treeSize,
    storedCosigners:
      stored.groups.find((g) => g.size === head.treeSize && g.root === headRoot && g.origin === head.origin)
        ?.witnesses ?? [],
    confirmedBy: [],
    cosignedSize: stored.cosignedSize,
  };
  // A cosignature of a size the store holds now was stored after the head was read (serve is running): no cut.
  if (
    result.cosignedSize > head.treeSize &&
    (await options.storedCheckpoint(stream, result.cosignedSize)) === undefined
  ) {
    findings.push(
      witnessFinding(
        'truncated',
        stream,
        `stream ${stream}: independent witnesses cosigned size ${result.cosignedSize} (stored cosignatures), but the store's newest checkpoint is size ${head.treeSize}`,
        result.cosignedSize,
      ),
    );
  }
  // Offline, without asking anyone: the largest size trusted witnesses cosigned within the store's range must be
  // the tree the store holds at that size.
  const cosigned = stored.groups.filter(
    (g) => g.witnesses.length > 0 && g.origin === head.origin && g.size <= head.treeSize,
  );
  const largest = Math.max(0, ...cosigned.map((g) => g.size));
  if (largest > 0) {
    const note = largest === head.treeSize ? head.note : await options.storedCheckpoint(stream, largest);
    const storedRoot = note === undefined ? undefined : rootOf(note);
    for (const group of cosigned.filter(
      (g) => g.size === largest && storedRoot !== undefined && g.root !== storedRoot,
    ))
      findings.push(
        witnessFinding(
          'checkpoint-inconsistent',
          stream,
          `stream ${stream}: ${group.witnesses.join(', ')} cosigned size ${largest} with root ${group.root} (stored cosignatures), but the store's checkpoint of that size has root ${storedRoot}: the history was rewritten after they cosigned it`,
          largest,
        ),
      );
  }
  for (const endpoint of endpoints) {
    const outcome = await addCheckpoint(
      endpoint,
      { oldSize: head.treeSize, proof: [], note: head.note },
      { timeoutMs: config.timeoutMs },
    );
    const name = endpoint.name;
    if (outcome.kind === 'cosigned') {
      result.confirmedBy.push(name);
      result.cosignedSize = Math.max(result.cosignedSize, head.treeSize);
    } else if (outcome.kind === 'conflict' && outcome.witnessSize > head.treeSize) {
      const size = outcome.witnessSize;
      result.cosignedSize = Math.max(result.cosignedSize, size);
      // Serve may have stored and submitted a newer checkpoint since the store was read: then ask about that one.
      const note = await options.storedCheckpoint(stream, size);
      if (note === undefined) {
        findings.push(
          witnessFinding(
            'truncated',
            stream,
            `stream ${stream}: witness ${name} cosigned size ${size}, but the store's newest checkpoint is size ${head.treeSize}: ${size - head.treeSize} leaves and their checkpoints are gone`,
            size,
          ),
        );
        continue;
      }
      const later = await addCheckpoint(
        endpoint,
        { oldSize: size, proof: [], note },
        { timeoutMs: config.timeoutMs },
      );
      findings.push(
        later.kind === 'bad-proof'
          ? inconsistent(stream, name, size, later.message)
          : witnessFinding(
              'not-cosigned',
              stream,
              `stream ${stream}: witness ${name} holds size ${size}, which the store reached while verify ran (its newest checkpoint read was size ${head.treeSize}): run verify again to check it`,
              size,
            ),
      );
    } else if (outcome.kind === 'conflict' && outcome.witnessSize > 0) {
      // The witness is behind the store: ask it about the store's checkpoint at its own size.
      const size = outcome.witnessSize;
      const note = await options.storedCheckpoint(stream, size);
      if (note === undefined) {
        findings.push(
          witnessFinding(
            'not-cosigned',
            stream,
            `stream ${stream}: witness ${name} holds size ${size}, and the store has no checkpoint of that size to compare with it (removed, or another store fed this witness)`,
            size,
          ),
        );
        continue;
      }
      const earlier = await addCheckpoint(
        endpoint,
        { oldSize: size, proof: [], note },
        { timeoutMs: config.timeoutMs },
      );
      if (earlier.kind === 'cosigned') result.cosignedSize = Math.max(result.cosignedSize, size);
      else if (earlier.kind === 'bad-proof') findings.push(inconsistent(stream, name, size, earlier.message));
      else if (earlier.kind !== 'conflict') findings.push(notAsked(stream, head, name, earlier));
    } else if (outcome.kind === 'bad-proof') {
      findings.push(inconsistent(stream, name, head.treeSize, outcome.message));
    } else if (outcome.kind !== 'conflict') {
      findings.push(notAsked(stream, head, name, outcome));
    }
  }
  const cosigners = new Set([...result.storedCosigners, ...result.confirmedBy]);
  if (cosigners.size < config.quorum) {
    findings.push(
      witnessFinding(
        'not-cosigned',
        stream,
        `stream ${stream}: its newest checkpoint (size ${head.treeSize}) is cosigned by ${cosigners.size} of the ${config.quorum} trusted witness(es) the quorum needs${cosigners.size > 0 ? ` (${[...cosigners].join(', ')})` : ''}`,
        head.treeSize,
      ),
    );
  }
  return result;
}

function rootOf(note: string): string | undefined {
  try {
    return Buffer.from(parseCheckpoint(noteText(note)).rootHash).toString('base64');
  } catch {
    return undefined;
  }
}

function inconsistent(stream: string, witness: string, size: number, message: string): Finding {
  return witnessFinding(
    'checkpoint-inconsistent',
    stream,
    `stream ${stream}: witness ${witness} holds a different tree at size ${size} than the store's checkpoint (${message}): the history was rewritten`,
    size,
  );
}

function notAsked(
  stream: string,
  head: StreamHead,
  witness: string,
  outcome: Exclude<AddCheckpointOutcome, { kind: 'cosigned' | 'conflict' | 'bad-proof' }>,
): Finding {
  const message =
    outcome.kind === 'unknown-log'
      ? `witness ${witness} does not know ${head.origin} (${outcome.message})`
      : outcome.kind === 'refused'
        ? `witness ${witness} refused the checkpoint: HTTP ${outcome.status} ${outcome.message}`
        : `witness ${witness} could not be asked (${outcome.reason}: ${outcome.message}): truncation past the producer's files is not checked against it`;
  return witnessFinding('not-cosigned', stream, message);
}
