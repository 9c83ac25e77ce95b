import { createHash } from 'node:crypto';

/** What an ONNX file says about itself, plus the hash of its bytes. */
export interface OnnxModelInfo {
  /** SHA-256 (hex) of the model file: graph and weights. */
  weightsHash: string;
  producerName: string | undefined;
  producerVersion: string | undefined;
  /** ModelProto.model_version, when set (non-zero). */
  modelVersion: string | undefined;
  /** ModelProto.metadata_props. */
  metadata: Record<string, string>;
}

// ModelProto field numbers (onnx/onnx.proto3).
const PRODUCER_NAME = 2;
const PRODUCER_VERSION = 3;
const MODEL_VERSION = 5;
const METADATA_PROPS = 14;

/**
 * Reads the top-level fields of an ONNX ModelProto that identify the model, skipping the graph. A small
 * protobuf walker suffices: onnxruntime-node does not expose metadata_props, and pulling in a protobuf runtime and
 * the ONNX schema for five fields would cost more than it saves.
 */
export function readOnnxModelInfo(bytes: Uint8Array): OnnxModelInfo {
  const info: OnnxModelInfo = {
    weightsHash: createHash('sha256').update(bytes).digest('hex'),
    producerName: undefined,
    producerVersion: undefined,
    modelVersion: undefined,
    metadata: {},
  };
  const reader = new ProtoReader(bytes, 0, bytes.length);
  while (!reader.done()) {
    const { field, wireType } = reader.tag();
    if (field === MODEL_VERSION && wireType === 0) {
      const version = reader.varint();
      if (version !== 0n) info.modelVersion = version.toString();
    } else if (field === PRODUCER_NAME && wireType === 2) {
      info.producerName = reader.string();
    } else if (field === PRODUCER_VERSION && wireType === 2) {
      info.producerVersion = reader.string();
    } else if (field === METADATA_PROPS && wireType === 2) {
      const entry = reader.message();
      let key = '';
      let value = '';
      while (!entry.done()) {
        const inner = entry.tag();
        if (inner.field === 1 && inner.wireType === 2) key = entry.string();
        else if (inner.field === 2 && inner.wireType === 2) value = entry.string();
        else entry.skip(inner.wireType);
      }
      info.metadata[key] = value;
    } else {
      reader.skip(wireType);
    }
  }
  return info;
}

class ProtoReader {
  readonly #bytes: Uint8Array;
  #offset: number;
  readonly #end: number;

  constructor(bytes: Uint8Array, offset: number, end: number) {
    this.#bytes = bytes;
    this.#offset = offset;
    this.#end = end;
  }

  done(): boolean {
    return this.#offset >= this.#end;
  }

  tag(): { field: number; wireType: number } {
    const tag = Number(this.varint());
    return { field: tag >>> 3, wireType: tag & 7 };
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.#offset >= this.#end) throw new RangeError('truncated varint in ONNX model');
      const byte = this.#bytes[this.#offset++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  string(): string {
    const length = Number(this.varint());
    const start = this.#take(length);
    return Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + start, length).toString('utf8');
  }

  message(): ProtoReader {
    const length = Number(this.varint());
    const start = this.#take(length);
    return new ProtoReader(this.#bytes, start, start + length);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.#take(8);
        return;
      case 2:
        this.#take(Number(this.varint()));
        return;
      case 5:
        this.#take(4);
        return;
      default:
        throw new RangeError(`unsupported protobuf wire type ${wireType} in ONNX model`);
    }
  }

  #take(length: number): number {
    const start = this.#offset;
    if (start + length > this.#end) throw new RangeError('truncated field in ONNX model');
    this.#offset += length;
    return start;
  }
}
