import type { CheckpointLink, StoredCosignature, WitnessEvidence } from '@decisiontrail/clickhouse';
import {
  Backoff,
  addCheckpoint,
  consistencyProofFromCheckpoints,
  noteText,
  parseCheckpoint,
  parseCosignerKey,
  type AddCheckpointOutcome,
  type WitnessEndpoint,
} from '@decisiontrail/core';
import type { WitnessesConfig } from './config.ts';
import type { ProcessorMetrics } from './metrics.ts';

/** The store reads and the one write the submitter makes. */
export interface WitnessStore {
  witnessEvidence(query?: { stream?: string }): Promise<WitnessEvidence>;
  checkpointLinks(query: { stream: string; fromSize: number; toSize: number }): Promise<CheckpointLink[]>;
  recordCosignatures(rows: readonly StoredCosignature[]): Promise<void>;
}

/** Options of {@link WitnessSubmitter}. */
export interface WitnessSubmitterOptions {
  witnesses: WitnessesConfig;
  store: WitnessStore;
  metrics: ProcessorMetrics;
  log: (message: string) => void;
}

interface WitnessState {
  endpoint: WitnessEndpoint;
  /** Per stream: the size this witness holds, as its last answer said. */
  sizes: Map<string, number>;
  /** Per stream: the head size an answer was final for (refused, unknown log, no proof), so it is not resent. */
  settled: Map<string, number>;
  /** Not asked again before this time (ms since the epoch) after a failure. */
  retryAt: number;
  backoff: Backoff;
}

/** Tries per stream and round: the first guess of the witness's size, then the size its 409 names. */
const ATTEMPTS = 2;

/**
 * Submits each stream's newest stored checkpoint to every configured witness over C2SP tlog-witness and stores
 * the cosignatures beside it. It runs in serve, beside the store, on its own timer: it reads what is stored (the
 * checkpoint spans carry their leaves and the compact range where those begin, so a consistency proof from any
 * stored checkpoint size the witness holds can be built), never what is being ingested, so a witness that is down,
 * slow or hostile never delays an acknowledgement or a store write. A witness that fails is retried with doubling
 * delays; every outcome is counted in `decisiontrail_processor_witness_submissions_total` and what needs a person
 * is logged. What a witness did not cosign shows later as a `verify` finding.
 */
export class WitnessSubmitter {
  readonly #options: WitnessSubmitterOptions;
  readonly #witnesses: WitnessState[];
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: WitnessSubmitterOptions) {
    this.#options = options;
    this.#witnesses = options.witnesses.list.map((w) => ({
      endpoint: { name: w.name, url: w.url, key: parseCosignerKey(w.key) },
      sizes: new Map(),
      settled: new Map(),
      retryAt: 0,
      // Waits drawn from the upper half of each step, so witnesses that failed together do not return together.
      backoff: new Backoff({
        initialMs: options.witnesses.intervalMs,
        maxMs: options.witnesses.retryMaxMs,
        jitter: true,
      }),
    }));
  }

  /** Starts the rounds (none when no witness is configured). */
  start(): void {
    if (this.#witnesses.length === 0 || this.#stopped) return;
    this.#schedule(0);
  }

  /** Stops the timer and waits for the round under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  /** One round over every witness that is not waiting out a failure; never rejects. */
  runOnce(): Promise<void> {
    this.#round = this.#round
      .then(() => this.#runRound())
      .catch((error: unknown) => {
        this.#options.log(`witness submitter: round failed: ${(error as Error).message}`);
      });
    return this.#round;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      void this.runOnce().then(() => {
        if (!this.#stopped) this.#schedule(this.#options.witnesses.intervalMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #runRound(): Promise<void> {
    const evidence = await this.#options.store.witnessEvidence();
    const now = Date.now();
    for (const witness of this.#witnesses) {
      if (this.#stopped) return;
      if (witness.retryAt > now) continue;
      let failed = false;
      for (const head of evidence.heads) {
        if (this.#stopped || failed) break;
        failed = !(await this.#submitHead(witness, head, evidence));
      }
      if (failed) witness.retryAt = Date.now() + witness.backoff.next();
      else witness.backoff.reset();
    }
  }

  /** Submits one stream's newest checkpoint; false when the witness could not be reached or answered nonsense. */
  async #submitHead(
    witness: WitnessState,
    head: WitnessEvidence['heads'][number],
    evidence: WitnessEvidence,
  ): Promise<boolean> {
    const { name } = witness.endpoint;
    if (witness.settled.get(head.stream) === head.treeSize) return true;
    const stored = evidence.cosignatures.filter((c) => c.stream === head.stream && c.witness === name);
    const root = Buffer.from(parseCheckpoint(noteText(head.note)).rootHash).toString('base64');
    // Cosigned already: a stored line over this very checkpoint (same size and root: a rewritten history at a
    // cosigned size is submitted, so the witness can refuse it).
    if (stored.some((c) => c.treeSize === head.treeSize && c.root === root && c.origin === head.origin))
      return true;
    // The witness's size: its last answer, else the largest size it cosigned that is stored, else none.
    let oldSize = witness.sizes.get(head.stream) ?? stored.reduce((max, c) => Math.max(max, c.treeSize), 0);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (oldSize > head.treeSize) {
        this.#count(name, 'conflict');
        this.#options.log(
          `witness ${name} holds size ${oldSize} of stream ${head.stream}, more than its newest stored checkpoint (${head.treeSize}): the store lacks checkpoints the witness cosigned — run decisiontrail verify`,
        );
        witness.settled.set(head.stream, head.treeSize);
        return true;
      }
      const proof = await this.#proof(head.stream, oldSize, head.treeSize);
      if (proof === undefined) {
        this.#count(name, 'no-proof');
        this.#options.log(
          `witness ${name}: no stored checkpoint chain proves stream ${head.stream} from size ${oldSize} to ${head.treeSize}; not submitted`,
        );
        witness.settled.set(head.stream, head.treeSize);
        return true;
      }
      const outcome = await addCheckpoint(
        witness.endpoint,
        { oldSize, proof, note: head.note },
        { timeoutMs: this.#options.witnesses.timeoutMs },
      );
      this.#count(name, outcome.kind === 'failed' ? outcome.reason : outcome.kind);
      if (outcome.kind === 'conflict') {
        witness.sizes.set(head.stream, outcome.witnessSize);
        oldSize = outcome.witnessSize;
        continue;
      }
      return this.#settle(witness, head, outcome);
    }
    return true;
  }

  async #settle(
    witness: WitnessState,
    head: WitnessEvidence['heads'][number],
    outcome: Exclude<AddCheckpointOutcome, { kind: 'conflict' }>,
  ): Promise<boolean> {
    const { name } = witness.endpoint;
    switch (outcome.kind) {
      case 'cosigned': {
        const checkpoint = parseCheckpoint(noteText(head.note));
        await this.#options.store.recordCosignatures(
          outcome.cosignatures.map((c) => ({
            stream: head.stream,
            treeSize: head.treeSize,
            origin: head.origin,
            root: Buffer.from(checkpoint.rootHash).toString('base64'),
            witness: c.witness,
            keyId: c.keyId,
            cosignedAt: c.time,
            line: c.line,
          })),
        );
        witness.sizes.set(head.stream, head.treeSize);
        return true;
      }
      case 'bad-proof':
        this.#options.log(
          `witness ${name} refused stream ${head.stream} at size ${head.treeSize}: ${outcome.message} — the stored checkpoint does not extend what the witness cosigned (a rewritten history); run decisiontrail verify`,
        );
        witness.settled.set(head.stream, head.treeSize);
        return true;
      case 'unknown-log':
        this.#options.log(
          `witness ${name} does not know ${head.origin} (${outcome.message}): its operator adds it with witnessctl add-log -origin ${head.origin} and add-key`,
        );
        witness.settled.set(head.stream, head.treeSize);
        return true;
      case 'refused':
        this.#options.log(
          `witness ${name} refused ${head.origin} at size ${head.treeSize}: HTTP ${outcome.status} ${outcome.message}`,
        );
        witness.settled.set(head.stream, head.treeSize);
        return true;
      case 'failed':
        this.#options.log(`witness ${name}: ${outcome.reason}: ${outcome.message}; retrying later`);
        return false;
    }
  }

  /** The consistency proof from `oldSize` to `newSize` from the stored checkpoint spans between them. */
  async #proof(stream: string, oldSize: number, newSize: number): Promise<Uint8Array[] | undefined> {
    if (oldSize === 0 || oldSize === newSize) return [];
    const links = await this.#options.store.checkpointLinks({ stream, fromSize: oldSize, toSize: newSize });
    return consistencyProofFromCheckpoints(links, oldSize, newSize);
  }

  #count(witness: string, outcome: string): void {
    this.#options.metrics.witnessSubmissions.inc(1, { witness, outcome });
  }
}
