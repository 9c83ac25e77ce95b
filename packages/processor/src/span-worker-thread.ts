// A span worker thread (started by span-worker.ts), answering the processor thread's requests one message at a
// time: the receipt thread checks requests and applies the policy; the drain's thread owns the verifier state and
// the remembered span ids, and prepares the drained batches.
import { parentPort, workerData } from 'node:worker_threads';
import { parseVerifierKey } from '@decisiontrail/core';
import { nameThread } from '@decisiontrail/core/internal';
import { AuditPipeline } from './audit-pipeline.ts';
import { BatchPreparer, type PreparedBatch } from './batch-preparer.ts';
import { StreamIntegrityChecker } from './integrity-checker.ts';
import { ProcessorMetrics } from './metrics.ts';
import { PolicyStage } from './policy-stage.ts';
import {
  ownBuffer,
  type SerializedError,
  type SpanWorkerInit,
  type SpanWorkerMessage,
  type SpanWorkerRequest,
} from './span-worker.ts';

function serialize(error: unknown): SerializedError {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, code: typeof code === 'string' ? code : undefined, message: e.message };
}

function post(message: SpanWorkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

/** The store's block moves to the processor thread instead of being copied, when it owns its memory. */
function transferable(batch: PreparedBatch): ArrayBuffer[] {
  const own = batch.store === undefined ? undefined : ownBuffer(batch.store.block);
  return own === undefined ? [] : [own];
}

function start(init: SpanWorkerInit): BatchPreparer {
  const metrics = new ProcessorMetrics();
  const integrity =
    init.verifierKeys === undefined
      ? undefined
      : new StreamIntegrityChecker(init.verifierKeys.map(parseVerifierKey), init.verifierState, (finding) =>
          post({ op: 'finding', finding }),
        );
  const policy = new PolicyStage(init.policy);
  const pipeline = new AuditPipeline({ stages: init.stages, integrity, policy, metrics });
  return new BatchPreparer({ pipeline, policy, metrics, store: init.store });
}

let preparer: BatchPreparer | undefined;
try {
  const { threadName } = workerData as SpanWorkerInit;
  if (threadName !== undefined) nameThread(threadName);
  preparer = start(workerData as SpanWorkerInit);
  post({ op: 'ready' });
} catch (error) {
  post({ op: 'failed', error: serialize(error) });
}

if (preparer !== undefined) {
  const ready = preparer;
  parentPort?.on('message', (request: SpanWorkerRequest) => {
    switch (request.op) {
      case 'decode':
        try {
          const verdict = ready.decode(request.body, request.encoding);
          // The post-policy form, or the body moved here, is written by the processor thread: moved there,
          // not copied.
          const transfer = new Set<ArrayBuffer>();
          if (verdict.logged !== undefined) transfer.add(verdict.logged.buffer as ArrayBuffer);
          const body = request.moved ? ownBuffer(request.body) : undefined;
          if (body !== undefined) transfer.add(body);
          post(
            {
              op: 'reply',
              id: request.id,
              value: request.moved ? { ...verdict, body: request.body } : verdict,
            },
            [...transfer],
          );
        } catch (error) {
          post({ op: 'error', id: request.id, error: serialize(error) });
        }
        return;
      case 'prepare':
        ready.prepare(request.entries, request.replayDrops).then(
          (batch) => post({ op: 'reply', id: request.id, value: batch }, transferable(batch)),
          (error: unknown) => post({ op: 'error', id: request.id, error: serialize(error) }),
        );
    }
  });
}
