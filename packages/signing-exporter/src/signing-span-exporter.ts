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
}

/**
 * Wraps any `SpanExporter`: every exported span gets `audit.integrity.stream`/`seq`/`algorithm`/
 * `key_id` and becomes the next leaf of this instance's stream; after every batch a signed
 * C2SP checkpoint is exported with it as an `audit.checkpoint` span and handed to the witness.
 */
export class SigningSpanExporter implements SpanExporter {
  readonly #exporter: SpanExporter;
  readonly #signer: StreamSigner;
  readonly #witness: CheckpointWitness | null;
  readonly #pendingWitness = new Set<Promise<void>>();
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
    const signed = spans.map((span) => {
      const seq = this.#signer.append(leafHash(spanRecordFromReadableSpan(span)));
      return withExtraAttributes(span, integrityAttributes(this.#signer.streamId, seq, this.#signer.keyId));
    });
    const checkpoint = this.#signer.checkpoint() as SignedCheckpoint;
    signed.push(this.#checkpointSpan(checkpoint, spans[0]?.resource ?? emptyResource()));
    this.#witnessCheckpoint(checkpoint);
    this.#exporter.export(signed, resultCallback);
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
