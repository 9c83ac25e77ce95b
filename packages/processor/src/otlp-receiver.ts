import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { OtlpDecodeError } from './errors.ts';
import type { DecodeVerdict } from './batch-preparer.ts';
import type { AccessDenial } from './http-access.ts';
import type { ProcessorMetrics } from './metrics.ts';
import { decodeJsonRequest } from './otlp-decoder.ts';
import { checkProtobufRequest, decodeProtobufRequest, type RequestCheck } from './otlp-protobuf-decoder.ts';
import type { DecodedRequest } from './otlp-decoder.ts';
import { ExportTraceServiceResponseType, RpcStatusType } from './otlp-proto-schema.ts';

const gunzipAsync = promisify(gunzip);

/** How a request body is encoded; stored with it in the write-ahead log. */
export const BODY_ENCODING = { PROTOBUF: 1, JSON: 2 } as const;
export type BodyEncoding = (typeof BODY_ENCODING)[keyof typeof BODY_ENCODING];

/** Decodes a stored body of either encoding. */
export function decodeBody(body: Uint8Array, encoding: number): DecodedRequest {
  return encoding === BODY_ENCODING.JSON ? decodeJsonRequest(body) : decodeProtobufRequest(body);
}

/** What {@link decodeBody} would accept and reject, without keeping the records (protobuf builds none). */
export function checkBody(body: Uint8Array, encoding: number): RequestCheck {
  if (encoding !== BODY_ENCODING.JSON) return checkProtobufRequest(body);
  const decoded = decodeJsonRequest(body);
  return { spans: decoded.records.length, rejected: decoded.rejected, rejectReasons: decoded.rejectReasons };
}

/** What the receiver needs from the rest of the processor. */
export interface OtlpReceiverOptions {
  maxBodyBytes: number;
  maxConcurrentRequests: number;
  metrics: ProcessorMetrics;
  /** Decodes a (decompressed) body; rejects with `OtlpDecodeError` when it is not a request. */
  decode(body: Uint8Array, encoding: BodyEncoding): Promise<DecodeVerdict>;
  /** Stores the body durably; resolves once it is on disk. */
  persist(body: Uint8Array, encoding: BodyEncoding, verdict: DecodeVerdict): Promise<void>;
  /** Shared count of requests being handled; the drain gives way to them. */
  load: { inFlight: number };
  /** Seconds to wait before retrying when the durable queue cannot take more, else undefined. */
  unavailable(): number | undefined;
  /** Host, Origin and the `ingest` scope; undefined when the request may proceed. */
  authorize(req: IncomingMessage): AccessDenial | undefined;
}

// google.rpc.Code values used in error bodies.
const RPC_INVALID_ARGUMENT = 3;
const RPC_PERMISSION_DENIED = 7;
const RPC_RESOURCE_EXHAUSTED = 8;
const RPC_UNAVAILABLE = 14;
const RPC_UNAUTHENTICATED = 16;

class HttpFailure extends Error {
  readonly status: number;
  readonly rpcCode: number;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    rpcCode: number,
    message: string,
    retryAfter?: number,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.rpcCode = rpcCode;
    this.retryAfter = retryAfter;
    this.headers = headers;
  }
}

function mediaType(header: string | undefined): BodyEncoding | undefined {
  const type = (header ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf') return BODY_ENCODING.PROTOBUF;
  if (type === 'application/json') return BODY_ENCODING.JSON;
  return undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpFailure(
      413,
      RPC_INVALID_ARGUMENT,
      `body of ${declared} bytes exceeds the limit of ${limit}`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit)
      throw new HttpFailure(413, RPC_INVALID_ARGUMENT, `body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

async function decompress(body: Buffer, encodingHeader: string | undefined, limit: number): Promise<Buffer> {
  const coding = (encodingHeader ?? 'identity').trim().toLowerCase();
  if (coding === 'identity' || coding === '') return body;
  if (coding !== 'gzip')
    throw new HttpFailure(415, RPC_INVALID_ARGUMENT, `unsupported Content-Encoding ${coding}`);
  try {
    return await gunzipAsync(body, { maxOutputLength: limit });
  } catch (error) {
    // A small body that inflates past the limit is treated as oversized, not as undecodable.
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new HttpFailure(
        413,
        RPC_INVALID_ARGUMENT,
        `decompressed body exceeds the limit of ${limit} bytes`,
      );
    }
    throw new HttpFailure(400, RPC_INVALID_ARGUMENT, `invalid gzip body: ${(error as Error).message}`);
  }
}

function encodeSuccess(encoding: BodyEncoding, decoded: DecodeVerdict): Uint8Array | string {
  const partial =
    decoded.rejected > 0
      ? {
          rejectedSpans: decoded.rejected,
          errorMessage: `rejected ${decoded.rejected} invalid spans: ${decoded.rejectReasons.join('; ')}`,
        }
      : undefined;
  if (encoding === BODY_ENCODING.JSON) {
    // int64 fields are strings in OTLP/JSON.
    return JSON.stringify(
      partial === undefined
        ? {}
        : {
            partialSuccess: {
              rejectedSpans: String(partial.rejectedSpans),
              errorMessage: partial.errorMessage,
            },
          },
    );
  }
  return ExportTraceServiceResponseType.encode(
    partial === undefined ? {} : { partialSuccess: partial },
  ).finish();
}

function send(
  res: ServerResponse,
  status: number,
  encoding: BodyEncoding | undefined,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
): void {
  const contentType =
    encoding === BODY_ENCODING.PROTOBUF
      ? 'application/x-protobuf'
      : encoding === BODY_ENCODING.JSON
        ? 'application/json'
        : 'text/plain';
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function sendFailure(res: ServerResponse, encoding: BodyEncoding | undefined, failure: HttpFailure): void {
  const headers: Record<string, string> = { ...failure.headers };
  if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
  // The rest of an oversized body is not read; closing the connection stops the client from sending it.
  if (failure.status === 413) headers.connection = 'close';
  const body =
    encoding === BODY_ENCODING.PROTOBUF
      ? RpcStatusType.encode({ code: failure.rpcCode, message: failure.message }).finish()
      : encoding === BODY_ENCODING.JSON
        ? JSON.stringify({ code: failure.rpcCode, message: failure.message })
        : failure.message;
  send(res, failure.status, encoding, body, headers);
}

/**
 * The OTLP/HTTP `/v1/traces` endpoint. A request is answered 200 only after its spans are durable; invalid
 * spans in an otherwise valid request are reported through `partial_success`, never stored; an undecodable
 * body is answered 400 and nothing of it is stored.
 */
export function createOtlpTraceHandler(
  options: OtlpReceiverOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { metrics } = options;
  return async (req, res) => {
    const started = performance.now();
    const encoding = mediaType(req.headers['content-type']);
    let status = 200;
    try {
      if (req.method !== 'POST') {
        status = 405;
        res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('use POST');
        return;
      }
      const denied = options.authorize(req);
      if (denied !== undefined) {
        const rpcCode = denied.status === 401 ? RPC_UNAUTHENTICATED : RPC_PERMISSION_DENIED;
        throw new HttpFailure(denied.status, rpcCode, denied.message, undefined, denied.headers);
      }
      if (encoding === undefined) {
        throw new HttpFailure(
          415,
          RPC_INVALID_ARGUMENT,
          'Content-Type must be application/x-protobuf or application/json',
        );
      }
      if (options.load.inFlight >= options.maxConcurrentRequests) {
        throw new HttpFailure(429, RPC_RESOURCE_EXHAUSTED, 'too many concurrent requests', 1);
      }
      const retryAfter = options.unavailable();
      if (retryAfter !== undefined)
        throw new HttpFailure(503, RPC_UNAVAILABLE, 'durable queue is full', retryAfter);
      options.load.inFlight += 1;
      try {
        const raw = await readBody(req, options.maxBodyBytes);
        const body = await decompress(raw, req.headers['content-encoding'], options.maxBodyBytes);
        let decoded: DecodeVerdict;
        try {
          decoded = await options.decode(body, encoding);
        } catch (error) {
          if (error instanceof OtlpDecodeError)
            throw new HttpFailure(400, RPC_INVALID_ARGUMENT, error.message);
          throw error;
        }
        metrics.spansReceived.inc(decoded.spans + decoded.rejected);
        if (decoded.rejected > 0) metrics.spansRejected.inc(decoded.rejected, { reason: 'invalid_span' });
        if (decoded.spans > 0) {
          try {
            // The body may have been moved to the check's thread and back (the verdict carries it then).
            await options.persist(decoded.body ?? body, encoding, decoded);
          } catch (error) {
            throw new HttpFailure(
              503,
              RPC_UNAVAILABLE,
              `could not persist spans: ${(error as Error).message}`,
              5,
            );
          }
          metrics.spansAccepted.inc(decoded.spans);
        }
        send(res, 200, encoding, encodeSuccess(encoding, decoded));
        metrics.ackLatency.observe((performance.now() - started) / 1000);
      } finally {
        options.load.inFlight -= 1;
      }
    } catch (error) {
      const failure =
        error instanceof HttpFailure
          ? error
          : new HttpFailure(500, 13, `internal error: ${(error as Error).message}`);
      status = failure.status;
      if (!res.headersSent) sendFailure(res, encoding, failure);
    } finally {
      metrics.requests.inc(1, { code: String(status) });
    }
  };
}
