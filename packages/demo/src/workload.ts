import { createHash } from 'node:crypto';
import {
  recordDeployment,
  recordFeedback,
  recordOversight,
  withAuditContext,
  type DecisionReference,
} from '@decisiontrail/instrumentation';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Applicant } from './applicants.ts';
import { CREDIT_LABELS, CREDIT_MODEL_ID, type CreditModelVersion } from './credit-model.ts';

/** The LLM the assistant asks for (the local server answers for any name). */
export const ASSISTANT_MODEL = 'gpt-4o-mini';

/** The part of onnxruntime-node the workload uses. */
export interface OnnxRuntime {
  InferenceSession: { create(model: Uint8Array): Promise<OnnxSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}
interface OnnxSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
}

/** The part of the `openai` client the workload uses. */
export interface ChatClient {
  chat: {
    completions: {
      create(body: {
        model: string;
        messages: { role: 'system' | 'user'; content: string }[];
        stream?: boolean;
        stream_options?: { include_usage: boolean };
      }): Promise<unknown>;
    };
  };
}

/** Options of {@link runWorkload}. */
export interface WorkloadOptions {
  applicants: readonly Applicant[];
  ort: OnnxRuntime;
  /** ONNX bytes of each version. */
  models: Record<CreditModelVersion, Uint8Array>;
  openai: ChatClient;
  /** Receives the reference of every decision the instrumentation records (wire to `onDecision`). */
  decisions: DecisionCapture;
  /** Share of applicants decided by v1 before v2 is deployed. @default 0.5 */
  v1Share?: number;
  /** Share of decisions whose ground truth (loan outcome) is known by the end. @default 0.7 */
  feedbackShare?: number;
  /**
   * Letters for plain rejections stop after this many; a rejection an underwriter made by overriding the model
   * always gets one (it is the case a regulator asks about). @default 150
   */
  maxLetters?: number;
  /** Called after every applicant. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the workload between applicants (Ctrl-C). */
  signal?: AbortSignal;
}

/** One credit decision as the workload made it: what the demo counts and picks its example decision from. */
export interface DemoDecision {
  reference: DecisionReference;
  modelVersion: CreditModelVersion;
  /** The model's outcome, as stored on the decision span. */
  outcome: string;
  /** Human oversight: `override` changed the outcome. */
  oversight: 'approve' | 'override' | undefined;
  /** Ground truth when the loan has matured, else undefined. */
  feedbackCorrect: boolean | undefined;
  /** The assistant's letter decision, when one was drafted. */
  letter: DecisionReference | undefined;
}

/** What the workload did. */
export interface WorkloadResult {
  decisions: DemoDecision[];
  deployments: { version: CreditModelVersion; deploymentId: string; at: Date }[];
  letters: number;
  startedAt: Date;
  endedAt: Date;
}

/** Collects decision references from the instrumentation's `onDecision` hook. */
export class DecisionCapture {
  #last: DecisionReference | undefined;
  /** The hook to put into the instrumentation config. */
  readonly onDecision = (reference: DecisionReference): void => {
    this.#last = reference;
  };
  /**
   * The reference of the decision the call just awaited recorded. The hook runs in the instrumentation's own
   * continuation, before the caller's await resumes; the workload runs one call at a time, so it is that call's.
   */
  take(): DecisionReference {
    const reference = this.#last;
    if (reference === undefined)
      throw new Error('the instrumentation recorded no decision for the last AI call');
    this.#last = undefined;
    return reference;
  }
}

const REVIEWERS = ['underwriter-ana', 'underwriter-jonas', 'underwriter-mei'];
const [REJECT, APPROVE] = CREDIT_LABELS;

/**
 * A lending team's day: v1 of the credit model is deployed and decides for the first applicants; underwriters
 * review borderline and policy-flagged decisions and override the ones they find wrong; the assistant drafts
 * rejection letters (always when an underwriter made the rejection); then v2 is deployed and, because it ignores
 * late payments and rewards debt, approves risky applicants the underwriters keep overriding. At the end the loan ledger reports which loans were
 * repaid: ground truth, recorded as feedback.
 */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const { applicants, ort } = options;
  const tracer = trace.getTracer('decisiontrail-demo');
  const v1Count = Math.round(applicants.length * (options.v1Share ?? 0.5));
  const maxLetters = options.maxLetters ?? 150;
  const startedAt = new Date();
  const deployments: WorkloadResult['deployments'] = [];
  const decisions: DemoDecision[] = [];
  let letters = 0;
  let plainLetters = 0;
  let session: OnnxSession | undefined;
  let version: CreditModelVersion | undefined;

  const deploy = async (next: CreditModelVersion, changelog: string): Promise<void> => {
    session = await ort.InferenceSession.create(options.models[next]);
    const deploymentId = recordDeployment({
      modelId: CREDIT_MODEL_ID,
      version: next,
      ...(version !== undefined ? { previousVersion: version } : {}),
      environment: 'production',
      changelog,
      // The artefact that went live: the report's deployments table and `reproduce` name it.
      weightsHash: `sha256:${createHash('sha256').update(options.models[next]).digest('hex')}`,
    });
    deployments.push({ version: next, deploymentId, at: new Date() });
    version = next;
  };

  await deploy('1.0.0', 'initial release, trained on loans-2024q4');
  for (const [index, applicant] of applicants.entries()) {
    options.signal?.throwIfAborted();
    if (index === v1Count) await deploy('2.0.0', 'retrained on loans-2025q2 for more approvals');
    const decided = await tracer.startActiveSpan('loan-application', { kind: SpanKind.SERVER }, (span) =>
      withAuditContext(
        {
          subjectId: applicant.subjectId,
          fairnessGroup: applicant.fairnessGroup,
          actorId: 'loan-portal',
          actorType: 'service',
        },
        async () => {
          try {
            const outputs = await session!.run({
              features: new ort.Tensor('float32', Float32Array.from(applicant.features), [1, 4]),
            });
            const reference = options.decisions.take();
            const probabilities = outputs['probabilities']!.data as Float32Array;
            const approve = probabilities[1]! >= probabilities[0]!;
            const outcome = approve ? APPROVE : REJECT;
            const confidence = Math.max(probabilities[0]!, probabilities[1]!);
            const correctOutcome = applicant.repays ? APPROVE : REJECT;
            const oversight = review(applicant, outcome, confidence, correctOutcome, index);
            if (oversight !== undefined) {
              recordOversight({
                decision: reference,
                action: oversight,
                reviewer: REVIEWERS[index % REVIEWERS.length]!,
                ...(oversight === 'override'
                  ? { reason: overrideReason(applicant, outcome), newOutcome: correctOutcome }
                  : {}),
              });
            }
            const finalOutcome = oversight === 'override' ? correctOutcome : outcome;
            let letter: DecisionReference | undefined;
            const overridden = oversight === 'override';
            if (finalOutcome === REJECT && (overridden || plainLetters < maxLetters)) {
              if (!overridden) plainLetters++;
              letters++;
              await draftLetter(options.openai, applicant, letters % 2 === 0);
              letter = options.decisions.take();
            }
            return {
              reference,
              modelVersion: version!,
              outcome,
              oversight,
              feedbackCorrect: undefined,
              letter,
            } satisfies DemoDecision;
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
            throw error;
          } finally {
            span.end();
          }
        },
      ),
    );
    decisions.push(decided);
    options.onProgress?.(index + 1, applicants.length);
  }

  // Months later the ledger knows which loans were repaid. Feedback carries the ground truth of the model's own
  // outcome (was the model right?), independent of what the reviewers did.
  const feedbackShare = options.feedbackShare ?? 0.7;
  for (const [index, decided] of decisions.entries()) {
    if ((index * 7919) % 100 >= feedbackShare * 100) continue;
    const applicant = applicants[index]!;
    const actual = applicant.repays ? APPROVE : REJECT;
    decided.feedbackCorrect = decided.outcome === actual;
    recordFeedback({
      decision: decided.reference,
      correct: decided.feedbackCorrect,
      actualOutcome: actual,
      source: 'loan-ledger',
    });
  }
  return { decisions, deployments, letters, startedAt, endedAt: new Date() };
}

/**
 * The underwriters' policy: every borderline decision (confidence below 0.65) and every approval of an applicant
 * with two or more late payments or a debt-to-income ratio above 0.45 is reviewed. A reviewer overrides a wrong
 * outcome most of the time and misses one in seven.
 */
function review(
  applicant: Applicant,
  outcome: string,
  confidence: number,
  correctOutcome: string,
  index: number,
): 'approve' | 'override' | undefined {
  const [, debtToIncome, , latePayments] = applicant.features;
  const flagged = outcome === APPROVE && (latePayments >= 2 || debtToIncome > 0.45);
  if (confidence >= 0.65 && !flagged) return undefined;
  if (outcome !== correctOutcome && index % 7 !== 0) return 'override';
  return 'approve';
}

function overrideReason(applicant: Applicant, outcome: string): string {
  const [, debtToIncome, , latePayments] = applicant.features;
  if (outcome === REJECT) return 'stable income history outweighs the score';
  if (latePayments >= 2) return `${latePayments} late payments in the last two years`;
  if (debtToIncome > 0.45) return `debt-to-income ratio ${debtToIncome} above policy limit 0.45`;
  return 'affordability check failed';
}

async function draftLetter(openai: ChatClient, applicant: Applicant, stream: boolean): Promise<void> {
  const messages = [
    {
      role: 'system' as const,
      content: 'You draft short, plain-language adverse action notices for a consumer lender.',
    },
    {
      role: 'user' as const,
      content: `Draft the notice for applicant ${applicant.subjectId}. Main factors: debt-to-income ${applicant.features[1]}, late payments ${applicant.features[3]}.`,
    },
  ];
  if (!stream) {
    await openai.chat.completions.create({ model: ASSISTANT_MODEL, messages });
    return;
  }
  const chunks = (await openai.chat.completions.create({
    model: ASSISTANT_MODEL,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  })) as AsyncIterable<unknown>;
  // Reading the stream to its end is what ends the instrumentation's span (and records the letter).
  let received = 0;
  for await (const _chunk of chunks) received++;
  if (received === 0) throw new Error('the assistant streamed nothing');
}
