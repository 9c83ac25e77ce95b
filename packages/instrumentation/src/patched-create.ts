import { context, diag, type Tracer } from '@opentelemetry/api';
import type { AuditSettings } from './config.ts';
import { type GenAiRequest, type GenAiResult, GenAiDecision } from './genai-decision.ts';
import { insideFrameworkDecision } from './framework-decision.ts';
import { refusalFor } from './record-admission.ts';
import type { JsonObject, ResourceMethod, ResourceThis, SdkStream } from './internal-types.ts';
import { isAsyncIterable, observeAsyncIterable, observeStream } from './stream-observer.ts';

/** Folds the items of a response stream into the result of the call. */
export interface StreamAccumulator {
  add(item: unknown): void;
  result(): GenAiResult;
}

/** How one SDK method maps onto a GenAI decision span. */
export interface CreateMethodSpec {
  describe(params: JsonObject, baseUrl: string | undefined): GenAiRequest;
  fromResponse(response: JsonObject): GenAiResult;
  /** Present for methods that stream. */
  accumulator?: () => StreamAccumulator;
  /** Whether a call with these parameters streams. @default `params.stream === true` (openai, anthropic) */
  streams?: (params: JsonObject) => boolean;
  /** The async iterable inside a streamed call's resolved value. @default the value itself */
  streamOf?: (value: unknown) => unknown;
}

/** One SDK call recognised as a decision: the spec that describes it, its parameters and the client's base URL. */
export interface RecognisedCall {
  spec: CreateMethodSpec;
  params: JsonObject;
  baseUrl: string | undefined;
}

/** Recognises the calls of one patched method; undefined leaves a call unrecorded (not an AI call). */
export type CallRecogniser = (self: unknown, args: unknown[]) => RecognisedCall | undefined;

/** Where a patched method gets its tracer and settings at call time (both can change after patching). */
export interface PatchHost {
  tracer(): Tracer;
  settings(): AuditSettings;
  isEnabled(): boolean;
}

/**
 * Wraps an SDK `create` method so each call becomes a GenAI decision span. The SDK's own return value (an
 * `APIPromise` with `withResponse()` and friends) is returned untouched; the span is finished from a side branch
 * of it. Any failure inside the instrumentation is reported through `diag` and the SDK call proceeds unchanged.
 * Under `recordLossPolicy: 'fail-closed'`, a call whose record cannot be kept returns a promise rejected with a
 * `DecisionRefusedError` and the request is never sent.
 */
export function patchCreate(host: PatchHost, spec: CreateMethodSpec) {
  return patchMethod(host, (self, args) => ({
    spec,
    params: (args[0] ?? {}) as JsonObject,
    baseUrl: (self as ResourceThis | undefined)?._client?.baseURL,
  }));
}

/**
 * The generic form of {@link patchCreate}: `recognise` picks the spec and parameters of each call (the Bedrock
 * client's one `send` method carries every operation).
 */
export function patchMethod(host: PatchHost, recognise: CallRecogniser) {
  return (original: ResourceMethod): ResourceMethod =>
    function patchedCreate(this: ResourceThis, ...args: unknown[]): unknown {
      // Inside a model call a framework integration records, the provider call is that same decision.
      if (!host.isEnabled() || insideFrameworkDecision()) return original.apply(this, args);
      let call: GenAiDecision;
      let params: JsonObject;
      let spec: CreateMethodSpec;
      try {
        const recognised = recognise(this, args);
        if (!recognised) return original.apply(this, args);
        ({ spec, params } = recognised);
        const settings = host.settings();
        const request = spec.describe(params, recognised.baseUrl);
        // Refused before the request is sent: nothing was decided, so there is nothing to record.
        const refusal = refusalFor(settings, request.model);
        if (refusal) return Promise.reject(refusal);
        call = GenAiDecision.start(host.tracer(), settings, request);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not start a decision span', error);
        return original.apply(this, args);
      }
      let returned: unknown;
      try {
        returned = context.with(call.context, () => original.apply(this, args));
      } catch (error) {
        call.fail(error);
        throw error;
      }
      try {
        observeResult(returned, params, spec, call);
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not observe an AI response', error);
        call.end({});
      }
      return returned;
    };
}

function observeResult(
  returned: unknown,
  params: JsonObject,
  spec: CreateMethodSpec,
  call: GenAiDecision,
): void {
  if (!isThenable(returned)) {
    call.end({});
    return;
  }
  returned.then(
    (value) => {
      try {
        const streams = spec.streams ? spec.streams(params) : params['stream'] === true;
        const stream = streams ? (spec.streamOf ? spec.streamOf(value) : value) : undefined;
        if (stream !== undefined && spec.accumulator && (isSdkStream(stream) || isAsyncIterable(stream))) {
          const accumulator = spec.accumulator();
          const observer = {
            onItem: (item: unknown) => accumulator.add(item),
            onEnd: () => call.end(accumulator.result()),
            onError: (error: unknown) => call.fail(error),
          };
          if (isSdkStream(stream)) observeStream(stream, observer);
          else observeAsyncIterable(stream, observer);
        } else {
          call.end(spec.fromResponse((value ?? {}) as JsonObject));
        }
      } catch (error) {
        diag.error('@decisiontrail/instrumentation: could not record an AI response', error);
        call.end({});
      }
    },
    (error: unknown) => call.fail(error),
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

function isSdkStream(value: unknown): value is SdkStream {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { iterator?: unknown }).iterator === 'function'
  );
}
