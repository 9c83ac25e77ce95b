import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { threadModule } from '@decisiontrail/core/internal';
import { StoreError, type StoreErrorCode } from './errors.ts';
import {
  decodeVerificationRows,
  unpackVerificationRows,
  type PackedVerificationRows,
  type VerificationRecord,
} from './verification-records.ts';

/** A result smaller than this is decoded on the calling thread: sending it would cost more than decoding it. */
const INLINE_BYTES = 1 << 20;

/** What a decoder thread is sent: one RowBinary result of the verification statement, its buffer transferred. */
export interface DecoderRequest {
  id: number;
  bytes: ArrayBuffer;
}

/** What it answers: the records `decodeVerificationRows` gives for those bytes, packed, or the error it threw. */
export type DecoderReply =
  | { id: number; packed: PackedVerificationRows }
  | { id: number; error: { code: StoreErrorCode; message: string } };

interface Pending {
  resolve: (records: VerificationRecord[]) => void;
  reject: (error: Error) => void;
}

/** One decoder thread and the requests it has not answered yet. */
class DecoderThread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();

  constructor(onFailure: (thread: DecoderThread, error: StoreError) => void) {
    const { url, execArgv } = threadModule(import.meta.url, 'verification-decoder-thread');
    this.worker = new Worker(url, { execArgv });
    // An idle thread does not keep the process alive; one with work does, so an awaited decode cannot be cut off.
    this.worker.unref();
    this.worker.on('message', (reply: DecoderReply) => {
      const call = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (call === undefined) return;
      if ('error' in reply) {
        call.reject(new StoreError(reply.error.code, reply.error.message));
        return;
      }
      let records: VerificationRecord[];
      try {
        records = unpackVerificationRows(reply.packed);
      } catch (error) {
        call.reject(
          new StoreError(
            'QUERY_FAILED',
            `verification decoder reply unreadable: ${(error as Error).message}`,
          ),
        );
        return;
      }
      call.resolve(records);
    });
    this.worker.on('error', (error) =>
      onFailure(
        this,
        new StoreError('QUERY_FAILED', `verification decoder thread failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    this.worker.on('exit', (code) =>
      onFailure(this, new StoreError('QUERY_FAILED', `verification decoder thread exited (code ${code})`)),
    );
  }

  decode(id: number, bytes: Buffer): Promise<VerificationRecord[]> {
    // The buffer is handed over, not copied, when it is a whole ArrayBuffer of its own.
    const own =
      bytes.buffer instanceof ArrayBuffer &&
      bytes.byteOffset === 0 &&
      bytes.byteLength === bytes.buffer.byteLength;
    const buffer = own
      ? (bytes.buffer as ArrayBuffer)
      : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice().buffer;
    return new Promise<VerificationRecord[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, bytes: buffer } satisfies DecoderRequest, [buffer]);
    });
  }
}

/**
 * Decodes the verification statement's RowBinary results (`decodeVerificationRows`) on worker threads, so the
 * thread that verifies is not also the one that decodes, encodes and hashes every stored row: `verify` reads the
 * next slices while it checks the current one, and their decoding runs beside it on the other cores. A result
 * comes back exactly as the calling thread would have decoded it (same records, same order, same errors). A
 * thread that fails fails every request it holds and every later one: a check that cannot run is an error.
 */
export class VerificationDecoders {
  readonly #size: number;
  readonly #threads: DecoderThread[] = [];
  #nextId = 1;
  #failure: StoreError | undefined;
  #closed = false;

  /** `threads`: at most this many decoder threads (default: the cores available, at most 4). */
  constructor(threads: number = Math.min(4, availableParallelism())) {
    if (!Number.isSafeInteger(threads) || threads < 1) {
      throw new StoreError('INVALID_ARGUMENT', 'decoder threads must be a positive integer');
    }
    this.#size = threads;
  }

  /** The records in `bytes`: small results on this thread, larger ones on the least busy decoder thread. */
  decode(bytes: Buffer, options: { inlineBelow?: number } = {}): Promise<VerificationRecord[]> {
    if (this.#closed) return Promise.reject(new StoreError('SINK_CLOSED', 'verification decoders closed'));
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (bytes.length < (options.inlineBelow ?? INLINE_BYTES)) {
      try {
        return Promise.resolve(decodeVerificationRows(bytes));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    return this.#thread().decode(this.#nextId++, bytes);
  }

  /** Stops the threads; requests they still held fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const threads = this.#threads.splice(0);
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  #thread(): DecoderThread {
    let idlest: DecoderThread | undefined;
    for (const thread of this.#threads) {
      if (idlest === undefined || thread.pending.size < idlest.pending.size) idlest = thread;
    }
    if (idlest !== undefined && (idlest.pending.size === 0 || this.#threads.length >= this.#size)) {
      return idlest;
    }
    const thread = new DecoderThread((failed, error) => this.#fail(failed, error));
    this.#threads.push(thread);
    return thread;
  }

  #fail(thread: DecoderThread, error: StoreError): void {
    const closing = this.#closed;
    if (!closing) this.#failure ??= error;
    for (const call of thread.pending.values()) {
      call.reject(closing ? new StoreError('SINK_CLOSED', 'verification decoders closed') : error);
    }
    thread.pending.clear();
  }
}
