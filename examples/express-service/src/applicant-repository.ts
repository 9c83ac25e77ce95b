import { DatabaseSync } from 'node:sqlite';
import { SpanKind, trace } from '@opentelemetry/api';

/** What the credit policy needs to know about an applicant. */
export interface ApplicantRecord {
  id: string;
  income: number;
  debtToIncome: number;
  latePayments: number;
}

const tracer = trace.getTracer('loan-api-repository');

/**
 * Applicants in SQLite (node:sqlite, in memory). There is no OpenTelemetry instrumentation for node:sqlite, so
 * each query is wrapped in a CLIENT span with the database semantic conventions — which is what lets an SRE see
 * in the decision's trace that the lookup by e-mail hash scans the whole table (it has no index).
 */
export class ApplicantRepository {
  readonly #db = new DatabaseSync(':memory:');

  constructor(rows = 200_000) {
    this.#db.exec(
      'CREATE TABLE applicants (id TEXT PRIMARY KEY, email_hash TEXT, income REAL, debt_to_income REAL, late_payments INTEGER)',
    );
    const insert = this.#db.prepare('INSERT INTO applicants VALUES (?, ?, ?, ?, ?)');
    this.#db.exec('BEGIN');
    for (let i = 0; i < rows; i++) {
      insert.run(
        `app-${i}`,
        `eh-${(i * 2_654_435_761) % 4_294_967_296}`,
        20_000 + ((i * 37) % 90_000),
        ((i * 13) % 60) / 100,
        (i * 7) % 4,
      );
    }
    this.#db.exec('COMMIT');
  }

  /** By primary key: fast. */
  byId(id: string): ApplicantRecord | undefined {
    return this.#query(
      'SELECT id, income, debt_to_income, late_payments FROM applicants WHERE id = ?',
      id,
    )[0];
  }

  /** By e-mail hash: a full table scan, because nobody added the index. */
  byEmailHash(emailHash: string): ApplicantRecord | undefined {
    return this.#query(
      'SELECT id, income, debt_to_income, late_payments FROM applicants WHERE email_hash = ?',
      emailHash,
    )[0];
  }

  #query(sql: string, parameter: string): ApplicantRecord[] {
    return tracer.startActiveSpan(
      'SELECT applicants',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'sqlite',
          'db.operation.name': 'SELECT',
          'db.collection.name': 'applicants',
          'db.query.text': sql,
        },
      },
      (span) => {
        try {
          const rows = this.#db.prepare(sql).all(parameter) as {
            id: string;
            income: number;
            debt_to_income: number;
            late_payments: number;
          }[];
          span.setAttribute('db.response.returned_rows', rows.length);
          return rows.map((r) => ({
            id: r.id,
            income: r.income,
            debtToIncome: r.debt_to_income,
            latePayments: r.late_payments,
          }));
        } finally {
          span.end();
        }
      },
    );
  }
}
