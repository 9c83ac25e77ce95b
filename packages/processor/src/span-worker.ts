import { Worker } from 'node:worker_threads';
import { threadModule } from '@decisiontrail/core/internal';
import type { PreparedBatch, PrepareEntry, DecodeVerdict } from './batch-preparer.ts';
import type { ProcessorConfig } from './config.ts';
import { OtlpDecodeError, ProcessorError, type ProcessorErrorCode } from './errors.ts';
import type { LateFinding } from './integrity-checker.ts';
import type { PolicyStageOptions } from './policy-stage.ts';

/** What the span worker thread is started with (structured-clone data only). */
export interface SpanWorkerInit {
  stages: ProcessorConfig['stages'];
  /** Trusted verifier keys as `name+keyid+base64` strings; undefined when verification is off. */
  verifierKeys: string[] | undefined;
  /** The verifier state persisted with the log position. */
  verifierState: unknown;
  policy: PolicyStageOptions;
  /** Whether there is a store to encode spans for. */
  store: boolean;
  /** The thread's name as the OS shows it (`top -H`, /proc), at most 15 bytes; Linux only. */
  threadName?: string;
}

/** A message from the processor thread to the span worker thread. */
export type SpanWorkerRequest =
  | { op: 'decode'; id: number; body: Uint8Array; encoding: number; moved: boolean }
  | { op: 'prepare'; id: number; entries: PrepareEntry[]; replayDrops: readonly number[] | undefined };

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  name: string;
  code: string | undefined;
  message: string;
}

/** A message from the span worker thread. */
export type SpanWorkerMessage =
  | { op: 'ready' }
  | { op: 'failed'; error: SerializedError }
  | { op: 'finding'; finding: LateFinding }
  | { op: 'reply'; id: number; value: unknown }
  | { op: 'error'; id: number; error: SerializedError };

/** The `ArrayBuffer` that `bytes` is the whole of (so it can move between threads), else undefined. */
export function ownBuffer(bytes: Uint8Array): ArrayBuffer | undefined {
  const { buffer } = bytes;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
    ? buffer
    : undefined;
}

const PROCESSOR_ERROR_CODES: ReadonlySet<string> = new Set<ProcessorErrorCode>([
  'CONFIG_INVALID',
  'CONFIG_UNREADABLE',
  'OTLP_DECODE',
  'WAL_CORRUPT',
  'WAL_FULL',
  'SINK_FAILED',
  'QUERY_UNKNOWN',
  'QUERY_INVALID',
  'CLOSED',
]);

/** Turns an error of the worker thread back into the processor's typed errors. */
function revive(error: SerializedError): Error {
  if (error.name === 'OtlpDecodeError') return new OtlpDecodeError(error.message);
  if (error.code !== undefined && PROCESSOR_ERROR_CODES.has(error.code)) {
    return new ProcessorError(error.code as ProcessorErrorCode, error.message);
  }
  return new Error(`span worker: ${error.message}`);
}

/**
 * The processor's handle on a span worker thread (see `BatchPreparer`): decoding, verification, policy and
 * the store's encoding run there, so the processor thread is left to answer requests, write the log and send
 * batches to the sinks. The processor starts two: one checks requests at receipt (no verifier, no store), the
 * other prepares the drained batches; so an acknowledgement never queues behind a batch.
 */
export class SpanWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<
    number,
    { resolve: (value: never) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private failed: Error | undefined;

  private constructor(worker: Worker) {
    this.worker = worker;
  }

  /** Why the thread stopped answering (it failed, exited or was closed); undefined while it works. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** Starts the thread; resolves once it has loaded its keys and state, rejects with its start error. */
  static start(init: SpanWorkerInit, onFinding: (finding: LateFinding) => void): Promise<SpanWorker> {
    const { url, execArgv } = threadModule(import.meta.url, 'span-worker-thread');
    const worker = new Worker(url, { workerData: init, execArgv });
    const handle = new SpanWorker(worker);
    return new Promise<SpanWorker>((resolve, reject) => {
      worker.on('message', (message: SpanWorkerMessage) => {
        switch (message.op) {
          case 'ready':
            resolve(handle);
            return;
          case 'failed':
            reject(revive(message.error));
            void worker.terminate();
            return;
          case 'finding':
            onFinding(message.finding);
            return;
          case 'reply':
          case 'error': {
            const call = handle.pending.get(message.id);
            handle.pending.delete(message.id);
            if (message.op === 'reply') call?.resolve(message.value as never);
            else call?.reject(revive(message.error));
          }
        }
      });
      const fail = (error: Error): void => {
        handle.failed ??= error;
        reject(error);
        for (const call of handle.pending.values()) call.reject(error);
        handle.pending.clear();
      };
      worker.on('error', (error) =>
        fail(new Error(`span worker failed: ${error.message}`, { cause: error })),
      );
      worker.on('exit', (code) => fail(new ProcessorError('CLOSED', `span worker exited (code ${code})`)));
    });
  }

  private call<T>(request: SpanWorkerRequest, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise<T>((resolve, reject) => {
      this.pending.set((request as { id: number }).id, {
        resolve: resolve as (value: never) => void,
        reject,
      });
      try {
        this.worker.postMessage(request, transfer);
      } catch (error) {
        // A buffer the runtime will not move (DataCloneError) is copied instead.
        if (transfer.length === 0) throw error;
        this.worker.postMessage(request);
      }
    });
  }

  /**
   * Checks a request body on the worker and applies the policy (see `BatchPreparer.decode`); throws
   * `OtlpDecodeError` for a body that is not a request. With `moveBody`, a body that is the whole of its own
   * `ArrayBuffer` (as the receiver's are) goes to the thread and comes back in the verdict's `body` instead of
   * being copied there, and is empty here afterwards; a body sharing its memory is copied and comes back too.
   */
  decode(body: Uint8Array, encoding: number, moveBody = false): Promise<DecodeVerdict> {
    const own = moveBody ? ownBuffer(body) : undefined;
    return this.call<DecodeVerdict>(
      { op: 'decode', id: this.nextId++, body, encoding, moved: moveBody },
      own === undefined ? [] : [own],
    );
  }

  /**
   * Prepares one drained batch for the sinks (see `BatchPreparer.prepare`). With `moveBodies`, a body that is
   * the whole of its own `ArrayBuffer` (as the write-ahead log's reads are) is moved to the thread instead of
   * copied, and is empty here afterwards; a body sharing its memory (a slice of Node's pool of small Buffers,
   * say) is always copied.
   */
  prepare(
    entries: PrepareEntry[],
    replayDrops: readonly number[] | undefined,
    moveBodies = false,
  ): Promise<PreparedBatch> {
    const transfer = new Set<ArrayBuffer>();
    for (const { body } of moveBodies ? entries : []) {
      const own = ownBuffer(body);
      if (own !== undefined) transfer.add(own);
    }
    return this.call<PreparedBatch>({ op: 'prepare', id: this.nextId++, entries, replayDrops }, [
      ...transfer,
    ]);
  }

  /** Stops the thread; calls still waiting fail with `CLOSED`. */
  async close(): Promise<void> {
    this.failed ??= new ProcessorError('CLOSED', 'the span worker is closed');
    await this.worker.terminate();
  }
}
