import { diag } from '@opentelemetry/api';
import type { SdkStream } from './internal-types.ts';

/** How an observed stream ended without an error. */
export type StreamEnd = 'complete' | 'break' | 'aborted';

/** Callbacks of {@link observeStream}; each is isolated so a failure inside one never reaches the consumer. */
export interface StreamObserver {
  onItem(item: unknown): void;
  onEnd(end: StreamEnd): void;
  onError(error: unknown): void;
}

/**
 * Observes an SDK stream (openai and @anthropic-ai/sdk share the Stainless `Stream` shape) by wrapping its
 * `iterator` factory, which direct iteration, `tee()` and `toReadableStream()` all go through. The first
 * iteration is observed, each item once even when `tee()` fans it out to two consumers; a second iteration is left
 * to the SDK, which rejects it, so it can neither end the span twice nor record a spurious error.
 * Exactly one of `onEnd` / `onError` is called, when the stream completes, errors, or the consumer breaks or aborts.
 */
export function observeStream(stream: SdkStream, observer: StreamObserver): void {
  const original = stream.iterator;
  const aborted = () => stream.controller?.signal.aborted === true;
  let observed = false;
  stream.iterator = function observedIterator(this: unknown): AsyncIterator<unknown> {
    const inner = original.call(this);
    if (observed) return inner;
    observed = true;
    return observe(inner, aborted, observer);
  };
}

/**
 * Observes any other async iterable an SDK returns (an async generator, a `ReadableStream` subclass, an AWS event
 * stream) the same way, by giving the object its own `Symbol.asyncIterator` that wraps the first iteration. Only
 * consumption through async iteration (`for await`, and what is built on it) is observed.
 */
export function observeAsyncIterable(
  iterable: AsyncIterable<unknown>,
  observer: StreamObserver,
  aborted: () => boolean = () => false,
): void {
  const original = iterable[Symbol.asyncIterator];
  let observed = false;
  Object.defineProperty(iterable, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: function observedAsyncIterator(this: unknown): AsyncIterator<unknown> {
      const inner = original.call(this);
      if (observed) return inner;
      observed = true;
      return observe(inner, aborted, observer);
    },
  });
}

/** True for an object with a `Symbol.asyncIterator` method. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

async function* observe(
  inner: AsyncIterator<unknown>,
  aborted: () => boolean,
  observer: StreamObserver,
): AsyncGenerator<unknown> {
  let settled = false;
  try {
    // A manual loop rather than for-await: on an early exit the end must be classified before the SDK's own
    // cleanup aborts its controller, or every break would look like an abort.
    for (;;) {
      const next = await inner.next();
      if (next.done) break;
      safely(() => observer.onItem(next.value));
      yield next.value;
    }
    settled = true;
    // The SDKs end an aborted stream quietly; only the controller tells it apart from a complete one.
    safely(() => observer.onEnd(aborted() ? 'aborted' : 'complete'));
  } catch (error) {
    settled = true;
    safely(() => observer.onError(error));
    throw error;
  } finally {
    // Reached unsettled only when the consumer stopped early (break, return, or a throw in its loop body).
    if (!settled) {
      safely(() => observer.onEnd(aborted() ? 'aborted' : 'break'));
      await inner.return?.();
    }
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    diag.error('@decisiontrail/instrumentation: stream observer failed', error);
  }
}
