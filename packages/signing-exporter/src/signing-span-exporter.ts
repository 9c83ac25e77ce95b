import { SPAN_NAME_AUDIT_CHECKPOINT } from '@decisiontrail/semconv';
import { diag } from '@opentelemetry/api';
import { ExportResultCode, millisToHrTime, type ExportResult } from '@opentelemetry/core';
import { emptyResource, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import {
  DEFAULT_WITNESS_PATH,
  FileCheckpointWitness,
  StreamSigner,
  leafHash,
  type CheckpointWitness,
  type SignedCheckpoint,
  type SigningKey,
} from '@decisiontrail/core';
import { checkpointAttributes, integrityAttributes } from './integrity-attributes.ts';
import { spanRecordFromReadableSpan } from './readable-span-record.ts';
import { DEFAULT_COUNT_INTERVAL_MILLIS, DecisionCounter } from './decision-counter.ts';
import { createInstantSpan, withExtraAttributes } from './synthetic-span.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

/** Options of {@link SigningSpanExporter}. */
export interface SigningSpanExporterOptions {
  /** The exporter that receives the signed spans and checkpoint spans (OTLP, in-memory, …). */
  exporter: SpanExporter;
  /** The Ed25519 key that signs checkpoints. */
  key: SigningKey;
  /**
   * Where checkpoints are witnessed outside the store. `null` turns witnessing off.
   * @default a {@link FileCheckpointWitness} at {@link DEFAULT_WITNESS_PATH}
   */
  witness?: CheckpointWitness | null;
  /**
   * The stream id. One exporter instance is one stream; reuse an id only to continue its state.
   * @default a random UUID
   */
  streamId?: string;
  /**
   * Prefix of the checkpoint origin `<prefix>/<stream id>`.
   * @default 'decisiontrail.dev/stream'
   */
  originPrefix?: string;
  /**
   * A signed `audit.count` record of each model's decisions goes out with a batch at most this often, and at
   * shutdown.
   * @default 60000
   */
  countIntervalMillis?: number;
}

/**
 * Wraps any `SpanExporter`: every exported span gets `audit.integrity.stream`/`seq`/`algorithm`/
 * `key_id` and becomes the next leaf of this instance's stream; after every batch a signed
 * C2SP checkpoint is exported with it as an `audit.checkpoint` span and handed to the witness.
 *
 * Decisions are counted per model as they are exported and the running totals go into the stream as
 * signed `audit.count` records (see {@link SigningSpanExporterOptions.countIntervalMillis}). The count
 * starts here: decisions that a `BatchSpanProcessor` in front of this exporter drops when its queue is
 * full never reach it and are not counted — the `DurableSpanProcessor` counts every decision that ends.
 */
export class SigningSpanExporter implements SpanExporter {
  readonly #exporter: SpanExporter;
  readonly #signer: StreamSigner;
  readonly #witness: CheckpointWitness | null;
  readonly #pendingWitness = new Set<Promise<void>>();
  readonly #counter: DecisionCounter;
  #shutdown = false;

  constructor(options: SigningSpanExporterOptions) {
    this.#exporter = options.exporter;
    this.#signer = new StreamSigner({
      key: options.key,
      ...(options.streamId !== undefined && { streamId: options.streamId }),
      ...(options.originPrefix !== undefined && { originPrefix: options.originPrefix }),
    });
    this.#witness =
      options.witness === undefined ? new FileCheckpointWitness(DEFAULT_WITNESS_PATH) : options.witness;
    this.#counter = new DecisionCounter(options.countIntervalMillis ?? DEFAULT_COUNT_INTERVAL_MILLIS);
  }

  /** This instance's stream id. */
  get streamId(): string {
    return this.#signer.streamId;
  }

  /** This stream's checkpoint origin. */
  get origin(): string {
    return this.#signer.origin;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#shutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('SigningSpanExporter is shut down') });
      return;
    }
    if (spans.length === 0) {
      this.#exporter.export(spans, resultCallback);
      return;
    }
    for (const span of spans) this.#counter.observe(span);
    this.#exportSigned(spans, false, resultCallback);
  }

  /** Signs `spans` and any count records due after them (`final`: every changed one), seals them with a checkpoint, and exports them. */
  #exportSigned(spans: ReadableSpan[], final: boolean, resultCallback: (result: ExportResult) => void): void {
    const signed = spans.map((span) => this.#sign(span));
    const now = Date.now();
    if (this.#counter.due(now, final)) {
      for (const record of this.#counter.records(now)) {
        signed.push(this.#sign(record.span));
        record.recorded();
      }
    }
    if (signed.length === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    const checkpoint = this.#signer.checkpoint() as SignedCheckpoint;
    signed.push(this.#checkpointSpan(checkpoint, signed[0]?.resource ?? emptyResource()));
    this.#witnessCheckpoint(checkpoint);
    this.#exporter.export(signed, resultCallback);
  }

  #sign(span: ReadableSpan): ReadableSpan {
    const seq = this.#signer.append(leafHash(spanRecordFromReadableSpan(span)));
    return withExtraAttributes(span, integrityAttributes(this.#signer.streamId, seq, this.#signer.keyId));
  }

  /** Exports the count records that changed since the last ones, with a checkpoint of their own (at shutdown). */
  #exportFinalCounts(): Promise<void> {
    if (!this.#counter.due(Date.now(), true)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#exportSigned([], true, (result) => {
        if (result.code !== ExportResultCode.SUCCESS)
          diag.error('signing-exporter: export of the decision count records failed', result.error);
        resolve();
      });
    });
  }

  /** Switches to a new signing key; spans and checkpoints after this carry its key id. */
  rotateKey(key: SigningKey): void {
    this.#signer.rotate(key);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#pendingWitness);
    await this.#exporter.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    if (this.#shutdown) return;
    await this.#exportFinalCounts();
    this.#shutdown = true;
    await Promise.all(this.#pendingWitness);
    await this.#exporter.shutdown();
  }

  #checkpointSpan(checkpoint: SignedCheckpoint, resource: Resource): ReadableSpan {
    return createInstantSpan({
      name: SPAN_NAME_AUDIT_CHECKPOINT,
      attributes: checkpointAttributes(checkpoint),
      resource,
      scope: { name: PACKAGE_NAME, version: PACKAGE_VERSION },
      time: millisToHrTime(Date.now()),
    });
  }

  #witnessCheckpoint(checkpoint: SignedCheckpoint): void {
    if (!this.#witness) return;
    const pending = this.#witness.witness(checkpoint.note).catch((error: unknown) => {
      diag.error(
        `signing-exporter: witness rejected checkpoint ${checkpoint.origin}@${checkpoint.size}`,
        error,
      );
    });
    this.#pendingWitness.add(pending);
    void pending.finally(() => this.#pendingWitness.delete(pending));
  }
}
