/**
 * Exponential backoff between attempts at something that failed: the first wait is `initialMs`, each later one
 * doubles, up to `maxMs` (a first wait above `maxMs` is followed by `maxMs`); `reset()` after a success starts again
 * from `initialMs`. With `jitter`, each wait is drawn from the upper half of its step ([½, 1] × step), so producers
 * that lost the same target at the same moment do not all come back at once. The one retry rule of the exporter's spool, serve's queue drainer, the ClickHouse sink and
 * witness submission.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #jitter: boolean;
  #stepMs: number;

  constructor(options: { initialMs: number; maxMs: number; jitter?: boolean }) {
    if (!(options.initialMs >= 0) || !(options.maxMs >= 0)) {
      throw new RangeError(
        `backoff waits must not be negative, got ${options.initialMs} and ${options.maxMs}`,
      );
    }
    this.#initialMs = options.initialMs;
    this.#maxMs = options.maxMs;
    this.#jitter = options.jitter ?? false;
    this.#stepMs = options.initialMs;
  }

  /** The step the next wait is drawn from, in milliseconds (for messages such as "retrying in about …"). */
  get stepMs(): number {
    return this.#stepMs;
  }

  /** The wait before the next attempt, in milliseconds; the step doubles (up to the maximum) for the one after. */
  next(): number {
    const wait = this.#jitter ? this.#stepMs * (0.5 + Math.random() / 2) : this.#stepMs;
    this.#stepMs = Math.min(this.#stepMs * 2, this.#maxMs);
    return wait;
  }

  /** After a success: the next wait is `initialMs` again. */
  reset(): void {
    this.#stepMs = this.#initialMs;
  }
}
