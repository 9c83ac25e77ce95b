import { assertIdentifier } from './store-options.ts';
import { quoteIdentifier, quoteString } from './sql-template.ts';

/** Role layout to generate. */
export interface RbacOptions {
  database: string;
  cluster?: string;
  /**
   * Row policies: members of `role` see only rows of these services in every audit table and in
   * `otel_traces`. A role may be one of the three built-in roles or a per-tenant role of your own.
   */
  rowPolicies?: { role: string; services: string[] }[];
}

/** The roles every deployment gets. */
export const ROLES = {
  writer: 'decisiontrail_writer',
  auditor: 'decisiontrail_auditor',
  investigator: 'decisiontrail_investigator',
} as const;

/** Tables an auditor may read: typed audit data, never raw span content. */
const AUDITOR_TABLES = [
  'audit_decisions',
  'audit_oversight',
  'audit_feedback',
  'audit_deployments',
  'audit_checkpoints',
  'audit_incidents',
  'audit_erasures',
  'decision_timeline',
  // What `decisiontrail decisions --sort confidence` reads first: decision ids in confidence order, no content.
  'audit_decisions_by_confidence',
  // What `decisiontrail decisions --overridden --sort confidence` reads first: overridden ids and their keys.
  'audit_overrides',
  // The period report's rollups: counts and digests, no ids or content.
  'audit_decision_stats',
  'audit_confidence_stats',
  'audit_oversight_stats',
  'audit_feedback_stats',
];

/** Tables with a service column, and its name, for row policies. */
const SERVICE_COLUMNS: Record<string, string> = {
  otel_traces: 'ServiceName',
  audit_decisions: 'service',
  audit_oversight: 'service',
  audit_feedback: 'service',
  audit_deployments: 'service',
  audit_checkpoints: 'service',
  audit_checkpoint_spans: 'service',
  audit_decision_links: 'service',
  audit_decisions_by_confidence: 'service',
  // The decision's service (the record's while the decision is not stored yet).
  audit_overrides: 'service',
  audit_decision_stats: 'service',
  audit_confidence_stats: 'service',
};

/**
 * Tables without a service column: a role restricted to some services sees none of their rows (they
 * count across services), and its reports filter by its services, which reads the typed tables.
 */
const SERVICELESS_TABLES = ['audit_oversight_stats', 'audit_feedback_stats'];

/**
 * RBAC DDL for a server or cluster (the embedded engine has no access control):
 *
 * - `decisiontrail_writer` — INSERT into `otel_traces` (materialized views fill the audit tables
 *   as their definer) and `audit_quarantine`; nothing else, explicitly no ALTER DELETE/UPDATE,
 *   TRUNCATE or DROP, so a compromised ingest path cannot rewrite history.
 * - `decisiontrail_auditor` — SELECT on the typed audit tables and the `decision_timeline` view,
 *   not on `otel_traces`, whose attributes can hold captured input/output content. The view runs
 *   as its definer and strips content attributes, so auditors see timelines without content.
 * - `decisiontrail_investigator` — SELECT on the whole database, INSERT into incidents and erasure
 *   tombstones (the CLI's `incident` and `erase`).
 * - optional row policies restricting a role to some services.
 */
export function rbacStatements(options: RbacOptions): string[] {
  const db = quoteIdentifier(assertIdentifier(options.database, 'database'));
  const onCluster =
    options.cluster === undefined
      ? ''
      : ` ON CLUSTER ${quoteIdentifier(assertIdentifier(options.cluster, 'cluster'))}`;
  const table = (name: string): string => `${db}.${quoteIdentifier(name)}`;
  const { writer, auditor, investigator } = ROLES;
  const statements = [
    `CREATE ROLE IF NOT EXISTS ${writer}, ${auditor}, ${investigator}${onCluster}`,
    `GRANT${onCluster} INSERT ON ${table('otel_traces')} TO ${writer}`,
    `GRANT${onCluster} INSERT ON ${table('audit_quarantine')} TO ${writer}`,
    `REVOKE${onCluster} ALTER DELETE, ALTER UPDATE, TRUNCATE, DROP TABLE ON ${db}.* FROM ${writer}`,
    ...AUDITOR_TABLES.map((name) => `GRANT${onCluster} SELECT ON ${table(name)} TO ${auditor}`),
    `ALTER TABLE ${table('decision_timeline')}${onCluster} MODIFY SQL SECURITY DEFINER`,
    `GRANT${onCluster} SELECT ON ${db}.* TO ${investigator}`,
    `GRANT${onCluster} INSERT ON ${table('audit_incidents')} TO ${investigator}`,
    `GRANT${onCluster} INSERT ON ${table('audit_erasures')} TO ${investigator}`,
  ];
  for (const policy of options.rowPolicies ?? []) {
    const role = assertIdentifier(policy.role, 'rowPolicies[].role');
    const services = policy.services.map(quoteString).join(', ');
    for (const [name, column] of Object.entries(SERVICE_COLUMNS)) {
      statements.push(
        `CREATE ROW POLICY IF NOT EXISTS ${quoteIdentifier(`${role}_${name}`)} ON ${table(name)}${onCluster} ` +
          `FOR SELECT USING ${column} IN (${services}) TO ${role}`,
      );
    }
    for (const name of SERVICELESS_TABLES) {
      statements.push(
        `CREATE ROW POLICY IF NOT EXISTS ${quoteIdentifier(`${role}_${name}`)} ON ${table(name)}${onCluster} ` +
          `FOR SELECT USING 0 TO ${role}`,
      );
    }
  }
  return statements;
}
