import type { StreamHead, WitnessEvidence } from '@decisiontrail/clickhouse';
import {
  addCheckpoint,
  checkCosignatures,
  findingKind,
  formatCheckpoint,
  parseCheckpoint,
  parseCosignerKey,
  type Finding,
  type FindingCode,
  type WitnessEndpoint,
} from '@decisiontrail/core';
import type { WitnessesConfig } from '@decisiontrail/processor';

/** Per stream: what the independent witnesses say of its newest stored checkpoint. */
export interface CosignedStream {
  stream: string;
  /** Size of the newest stored checkpoint. */
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

function checkpointText(note: string): string {
  return note.slice(0, note.lastIndexOf('\n\n') + 1);
}

/**
 * Checks each stream's newest stored checkpoint against the independent witnesses: the stored cosignatures
 * against the trusted witness keys (a quorum of distinct witnesses, a forged line is a finding), and each witness
 * asked now, with an `add-checkpoint` of that very checkpoint from its own size (C2SP tlog-witness): a witness
 * at that size re-cosigns it, one that holds a larger size answers 409 with it — the store lost checkpoints the
 * witness cosigned, whatever happened to the producer's witness file — and one that holds another tree at that
 * size answers 422. The question changes nothing at the witness.
 */
export async function checkIndependentWitnesses(
  config: WitnessesConfig,
  evidence: WitnessEvidence,
  options: { online: boolean },
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
    report.streams.push(await checkStream(head, evidence, endpoints, keys, config, options, report.findings));
  }
  return report;
}

async function checkStream(
  head: StreamHead,
  evidence: WitnessEvidence,
  endpoints: readonly WitnessEndpoint[],
  keys: readonly WitnessEndpoint['key'][],
  config: WitnessesConfig,
  options: { online: boolean },
  findings: Finding[],
): Promise<CosignedStream> {
  const { stream } = head;
  const headRoot = Buffer.from(parseCheckpoint(checkpointText(head.note)).rootHash).toString('base64');
  const result: CosignedStream = {
    stream,
    newestSize: head.treeSize,
    storedCosigners: [],
    confirmedBy: [],
    cosignedSize: 0,
  };
  // Stored cosignatures, grouped by the checkpoint they name; each is checked over that checkpoint's body.
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
    if (checked.verified.length >= Math.max(1, config.quorum))
      result.cosignedSize = Math.max(result.cosignedSize, group.size);
    if (group.size === head.treeSize && group.root === headRoot && group.origin === head.origin)
      result.storedCosigners = checked.verified.map((v) => v.witness);
  }
  if (result.cosignedSize > head.treeSize) {
    findings.push(
      witnessFinding(
        'truncated',
        stream,
        `stream ${stream}: independent witnesses cosigned size ${result.cosignedSize} (stored cosignatures), but the store's newest checkpoint is size ${head.treeSize}`,
        result.cosignedSize,
      ),
    );
  }
  if (options.online) {
    for (const endpoint of endpoints) {
      const outcome = await addCheckpoint(
        endpoint,
        { oldSize: head.treeSize, proof: [], note: head.note },
        { timeoutMs: config.timeoutMs },
      );
      const name = endpoint.name;
      switch (outcome.kind) {
        case 'cosigned':
          result.confirmedBy.push(name);
          result.cosignedSize = Math.max(result.cosignedSize, head.treeSize);
          break;
        case 'conflict':
          if (outcome.witnessSize > head.treeSize) {
            result.cosignedSize = Math.max(result.cosignedSize, outcome.witnessSize);
            findings.push(
              witnessFinding(
                'truncated',
                stream,
                `stream ${stream}: witness ${name} cosigned size ${outcome.witnessSize}, but the store's newest checkpoint is size ${head.treeSize}: ${outcome.witnessSize - head.treeSize} leaves and their checkpoints are gone`,
                outcome.witnessSize,
              ),
            );
          }
          break;
        case 'bad-proof':
          findings.push(
            witnessFinding(
              'checkpoint-inconsistent',
              stream,
              `stream ${stream}: witness ${name} holds a different tree at size ${head.treeSize} than the store's checkpoint (${outcome.message}): the history was rewritten`,
              head.treeSize,
            ),
          );
          break;
        case 'unknown-log':
          findings.push(
            witnessFinding(
              'not-cosigned',
              stream,
              `witness ${name} does not know ${head.origin} (${outcome.message})`,
            ),
          );
          break;
        case 'refused':
          findings.push(
            witnessFinding(
              'not-cosigned',
              stream,
              `witness ${name} refused the checkpoint: HTTP ${outcome.status} ${outcome.message}`,
            ),
          );
          break;
        case 'failed':
          findings.push(
            witnessFinding(
              'not-cosigned',
              stream,
              `witness ${name} could not be asked (${outcome.reason}: ${outcome.message}): truncation past the producer's files is not checked against it`,
            ),
          );
          break;
      }
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
