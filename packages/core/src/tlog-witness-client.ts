import {
  checkCosignatures,
  parseSignatureLines,
  type CosignerKey,
  type VerifiedCosignature,
} from './cosignature.ts';
import { noteText } from './signed-note.ts';

/** A witness as `decisiontrail.yaml` names it: who it is, where it listens, and the key its cosignatures carry. */
export interface WitnessEndpoint {
  /** The witness's name: the key name of its cosignature lines (litewitness `-name`). */
  name: string;
  /** Its submission prefix; `add-checkpoint` is requested below it. */
  url: string;
  key: CosignerKey;
}

/** One `add-checkpoint` request (C2SP tlog-witness). */
export interface AddCheckpointRequest {
  /** The size the submitter believes the witness holds for this log (0: none yet). */
  oldSize: number;
  /** RFC 9162 consistency proof from `oldSize` to the checkpoint's size. */
  proof: readonly Uint8Array[];
  /** The checkpoint as a signed note (body, blank line, the log's signature lines). */
  note: string;
}

/** What the witness answered, classified; nothing here is trusted before it was checked. */
export type AddCheckpointOutcome =
  /** 200 with at least one cosignature that verified against the configured key. */
  | { kind: 'cosigned'; cosignatures: VerifiedCosignature[] }
  /** 409: the witness holds another size for this log; retry with a proof from there. */
  | { kind: 'conflict'; witnessSize: number }
  /** 422: the proof does not connect the witness's checkpoint to this one — a rewritten history, or a bad proof. */
  | { kind: 'bad-proof'; message: string }
  /** 404 (C2SP) or litewitness's 403 "unknown log": the witness does not know this origin. */
  | { kind: 'unknown-log'; message: string }
  /** 400 or 403 for another reason (the log's signature is not trusted by the witness). */
  | { kind: 'refused'; status: number; message: string }
  /**
   * No usable answer: `unreachable` (connection failed), `timeout`, `garbage` (a body that is not what the
   * status promises), `wrong-key` (200 whose cosignatures do not verify against the configured key) or `http`
   * (any other status).
   */
  | { kind: 'failed'; reason: 'unreachable' | 'timeout' | 'garbage' | 'wrong-key' | 'http'; message: string };

/** Options of {@link addCheckpoint}. */
export interface AddCheckpointOptions {
  /** The whole exchange, connection to last byte. @default 10000 */
  timeoutMs?: number;
  /** Largest answer body read. @default 65536 */
  maxResponseBytes?: number;
}

/** The request URL: `<prefix>/add-checkpoint`, whether or not the prefix ends in a slash. */
export function addCheckpointUrl(prefix: string): string {
  return `${prefix.replace(/\/+$/u, '')}/add-checkpoint`;
}

/** Formats the request body: `old <size>`, one base64 proof hash per line, a blank line, the signed note. */
export function formatAddCheckpointBody(request: AddCheckpointRequest): string {
  const proof = request.proof.map((hash) => `${Buffer.from(hash).toString('base64')}\n`).join('');
  return `old ${request.oldSize}\n${proof}\n${request.note}`;
}

async function readLimited(response: Response, limit: number): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describe(body: string): string {
  const text = body.trim().slice(0, 200);
  return text.length === 0 ? 'no message' : JSON.stringify(text);
}

/**
 * Sends one checkpoint to one witness over C2SP tlog-witness and classifies the answer. Never throws: a witness
 * that is down, slow, or answers garbage is an outcome like any other, and a 200 counts as `cosigned` only when a
 * returned cosignature verifies against the configured key over this very checkpoint.
 */
export async function addCheckpoint(
  witness: WitnessEndpoint,
  request: AddCheckpointRequest,
  options: AddCheckpointOptions = {},
): Promise<AddCheckpointOutcome> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const limit = options.maxResponseBytes ?? 65_536;
  const checkpointText = noteText(request.note);
  let status: number;
  let body: string | undefined;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(addCheckpointUrl(witness.url), {
      method: 'POST',
      body: formatAddCheckpointBody(request),
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      signal,
      redirect: 'error',
    });
    status = response.status;
    body = await readLimited(response, limit);
  } catch (error) {
    if (signal.aborted)
      return { kind: 'failed', reason: 'timeout', message: `no answer within ${timeoutMs} ms` };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return {
      kind: 'failed',
      reason: 'unreachable',
      message: cause?.code ?? cause?.message ?? (error as Error).message,
    };
  }
  if (body === undefined) return { kind: 'failed', reason: 'garbage', message: `answer over ${limit} bytes` };
  switch (status) {
    case 200: {
      const lines = parseSignatureLines(body);
      if (lines === undefined)
        return {
          kind: 'failed',
          reason: 'garbage',
          message: `200 without signature lines: ${describe(body)}`,
        };
      let checked;
      try {
        checked = checkCosignatures(checkpointText, lines, [witness.key]);
      } catch (error) {
        return { kind: 'failed', reason: 'garbage', message: (error as Error).message };
      }
      if (checked.verified.length === 0) {
        const why = checked.invalid[0]?.reason ?? `no cosignature by ${witness.name}`;
        return { kind: 'failed', reason: 'wrong-key', message: why };
      }
      return { kind: 'cosigned', cosignatures: checked.verified };
    }
    case 409: {
      const match = /^(0|[1-9][0-9]{0,15})\n?$/u.exec(body);
      const size = match ? Number(match[1]) : Number.NaN;
      if (!Number.isSafeInteger(size))
        return { kind: 'failed', reason: 'garbage', message: `409 without a tree size: ${describe(body)}` };
      return { kind: 'conflict', witnessSize: size };
    }
    case 422:
      return { kind: 'bad-proof', message: describe(body) };
    case 404:
      return { kind: 'unknown-log', message: describe(body) };
    case 403:
      return /unknown log/iu.test(body)
        ? { kind: 'unknown-log', message: describe(body) }
        : { kind: 'refused', status, message: describe(body) };
    case 400:
      return { kind: 'refused', status, message: describe(body) };
    default:
      return { kind: 'failed', reason: 'http', message: `HTTP ${status}: ${describe(body)}` };
  }
}
