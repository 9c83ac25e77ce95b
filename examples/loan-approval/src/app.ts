// A loan desk: a scoring model decides, underwriters review what the policy flags and override what they find
// wrong, and months later the loan ledger tells which decisions were right. Every step is one audit record.
import {
  AiAuditInstrumentation,
  AuditSampler,
  decision,
  recordDeployment,
  recordFeedback,
  recordOversight,
  withAuditContext,
  type DecisionReference,
} from '@decisiontrail/instrumentation';
import { DurableSpanProcessor, loadSigningKey } from '@decisiontrail/signing-exporter';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler } from '@opentelemetry/sdk-trace';

const sdk = new NodeSDK({
  serviceName: 'loan-desk',
  sampler: new AuditSampler(new AlwaysOnSampler()),
  instrumentations: [
    new AiAuditInstrumentation({
      hmacKey: process.env['DECISIONTRAIL_HMAC_KEY'],
      models: {
        'credit-scorecard': {
          riskLevel: 'high', // EU AI Act Annex III 5(b): creditworthiness of natural persons
          purpose: 'consumer credit underwriting',
          automation: 'human_in_the_loop',
          retentionClass: 'high_risk',
          decisionType: 'classification',
        },
      },
    }),
  ],
  // The durable path: each span is signed and written to a spool on disk before the app moves on, and shipped
  // with retries; a crash or a processor outage loses nothing.
  spanProcessors: [
    new DurableSpanProcessor({
      exporter: new OTLPTraceExporter(),
      key: await loadSigningKey('.decisiontrail/keys/signing.key'),
      spoolDir: '.decisiontrail/spool',
      // Checkpoints also go to the witness at its default path, .decisiontrail/keys/checkpoints.witness.jsonl.
    }),
  ],
});
sdk.start();

interface Application {
  applicant: string; // a pseudonym, never a name
  group: 'under-40' | '40-plus';
  income: number;
  debtToIncome: number;
  latePayments: number;
  repaid: boolean; // what the ledger will say later
}

const applications: Application[] = [
  {
    applicant: 'app-7f3a',
    group: 'under-40',
    income: 61_000,
    debtToIncome: 0.22,
    latePayments: 0,
    repaid: true,
  },
  {
    applicant: 'app-19c2',
    group: '40-plus',
    income: 38_000,
    debtToIncome: 0.48,
    latePayments: 2,
    repaid: false,
  },
  {
    applicant: 'app-a4e0',
    group: 'under-40',
    income: 29_000,
    debtToIncome: 0.41,
    latePayments: 1,
    repaid: true,
  },
  {
    applicant: 'app-55d1',
    group: '40-plus',
    income: 74_000,
    debtToIncome: 0.18,
    latePayments: 0,
    repaid: true,
  },
  {
    applicant: 'app-c90b',
    group: 'under-40',
    income: 45_000,
    debtToIncome: 0.52,
    latePayments: 3,
    repaid: false,
  },
  {
    applicant: 'app-3b77',
    group: '40-plus',
    income: 33_000,
    debtToIncome: 0.36,
    latePayments: 0,
    repaid: true,
  },
];

/** The model: a logistic scorecard over income, debt and payment history. */
function approvalProbability(a: Application): number {
  const z = -0.5 + 0.35 * (a.income / 10_000) - 4.0 * a.debtToIncome - 1.2 * a.latePayments;
  return 1 / (1 + Math.exp(-z));
}

recordDeployment({
  modelId: 'credit-scorecard',
  version: '3.2.0',
  previousVersion: '3.1.0',
  environment: 'production',
});

const decided: {
  application: Application;
  reference: DecisionReference;
  outcome: string;
  review?: string;
}[] = [];
for (const application of applications) {
  const { applicant, group, repaid: _hidden, ...features } = application;
  const made = withAuditContext(
    { subjectId: applicant, fairnessGroup: group, actorId: 'loan-portal', actorType: 'service' },
    () =>
      decision(
        { modelId: 'credit-scorecard', version: '3.2.0', modelType: 'classifier', input: features },
        (d) => {
          const p = approvalProbability(application);
          const outcome = p >= 0.5 ? 'approve' : 'reject';
          d.setOutcome(outcome);
          d.setConfidence(Math.max(p, 1 - p));
          d.setExplanation(
            `p(approve)=${p.toFixed(3)}; debt-to-income ${features.debtToIncome}; late payments ${features.latePayments}`,
          );
          return { reference: d.reference, outcome, confidence: Math.max(p, 1 - p) };
        },
      ),
  );
  const entry: (typeof decided)[number] = { application, reference: made.reference, outcome: made.outcome };
  decided.push(entry);
  // Policy: an underwriter reviews every decision the model is unsure about.
  if (made.confidence < 0.75) {
    const wrong = (made.outcome === 'approve') !== application.repaid;
    entry.review = wrong ? 'override' : 'approve';
    recordOversight(
      wrong
        ? {
            decision: made.reference,
            action: 'override',
            reviewer: 'underwriter-jonas',
            reason: 'stable employment and savings not captured by the score',
            newOutcome: application.repaid ? 'approve' : 'reject',
          }
        : { decision: made.reference, action: 'approve', reviewer: 'underwriter-jonas' },
    );
  }
}

// Months later: ground truth from the loan ledger, for accuracy monitoring (EU AI Act Art. 72).
for (const { application, reference, outcome } of decided) {
  const actual = application.repaid ? 'approve' : 'reject';
  recordFeedback({
    decision: reference,
    correct: outcome === actual,
    actualOutcome: actual,
    source: 'loan-ledger',
  });
}

await sdk.shutdown();

/** The decisions made, for the runner to show. */
export const decisions = decided.map(({ reference, outcome, review }) => ({
  decisionId: reference.decisionId,
  outcome,
  review,
}));
