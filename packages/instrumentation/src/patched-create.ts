import { context, diag, type Tracer } from '@opentelemetry/api';
import type { AuditSettings } from './config.ts';
import { type GenAiRequest, type GenAiResult, GenAiDecision } from './genai-decision.ts';
import { refusalFor } from './record-admission.ts';
import type { JsonObject, ResourceMethod, ResourceThis, SdkStream } from './internal-types.ts';
import { observeStream } from './stream-observer.ts';

/** Folds the items of a response stream into the result of the call. */
export interface StreamAccumulator {
  add(item: unknown): void;
  result(): GenAiResult;
}

/** How one SDK method maps onto a GenAI decision span. */
export interface CreateMethodSpec {
  describe(params: JsonObject, baseUrl: string | undefined): GenAiRequest;
  fromResponse(response: JsonObject): GenAiResult;
  /** Present for methods that stream when called with `stream: true`. */
  accumulator?: () => StreamAccumulator;
}

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
  return (original: ResourceMethod): ResourceMethod =>
    function patchedCreate(this: ResourceThis, ...args: unknown[]): unknown {
      if (!host.isEnabled()) return original.apply(this, args);
      const params = (args[0] ?? {}) as JsonObject;
      let call: GenAiDecision;
      try {
        const settings = host.settings();
        const request = spec.describe(params, this?._client?.baseURL);
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
        if (params['stream'] === true && spec.accumulator && isSdkStream(value)) {
          const accumulator = spec.accumulator();
          observeStream(value, {
            onItem: (item) => accumulator.add(item),
            onEnd: () => call.end(accumulator.result()),
            onError: (error) => call.fail(error),
          });
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
