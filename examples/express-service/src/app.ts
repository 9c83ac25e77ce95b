// The loan API: one request reads the applicant from the database and asks the credit policy for a decision.
// The HTTP server span, Express's middleware spans, the database spans and the audit decision all end up in one
// trace, so the decision's timeline shows where the time went and the trace view shows what was decided.
import type { Server } from 'node:http';
import express from 'express';
import { decision, withAuditContext } from '@decisiontrail/instrumentation';
import { ApplicantRepository } from './applicant-repository.ts';

export function createApp(repository = new ApplicantRepository()): express.Express {
  const app = express();
  app.use(express.json());

  app.post('/loans/decision', (request, response) => {
    const { applicantId, emailHash } = request.body as { applicantId?: string; emailHash?: string };
    const applicant =
      applicantId !== undefined ? repository.byId(applicantId) : repository.byEmailHash(emailHash ?? '');
    if (applicant === undefined) {
      response.status(404).json({ error: 'no such applicant' });
      return;
    }
    const result = withAuditContext(
      { subjectId: applicant.id, actorId: 'loan-api', actorType: 'service' },
      () =>
        decision(
          { modelId: 'credit-policy', version: '2026.02', decisionType: 'classification', input: applicant },
          (d) => {
            const score = applicant.income / 100_000 - applicant.debtToIncome - 0.15 * applicant.latePayments;
            const outcome = score > 0 ? 'approve' : 'reject';
            d.setOutcome(outcome);
            d.setConfidence(Math.min(0.99, 0.5 + Math.abs(score)));
            return { outcome, decisionId: d.reference.decisionId };
          },
        ),
    );
    response.json(result);
  });
  return app;
}

/** Starts the API on a free port. */
export function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        server,
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      });
    });
  });
}
