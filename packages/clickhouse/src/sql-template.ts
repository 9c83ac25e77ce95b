import { readFileSync } from 'node:fs';
import * as semconv from '@decisiontrail/semconv';
import { StoreError } from './errors.ts';
import type { ResolvedRetention } from './store-options.ts';

/** Where the package's `.sql` files live (next to `src/` and `dist/`, so both resolve it). */
const SQL_DIR = new URL('../sql/', import.meta.url);

/** Everything a template needs besides its text. */
export interface RenderContext {
  database: string;
  /** Cluster name; when set, tables become Replicated `<name>_local` plus a Distributed `<name>`. */
  cluster: string | undefined;
  retention: ResolvedRetention;
  /** Names of the tables this package creates (the ones that get a `_local` twin on a cluster). */
  tables: ReadonlySet<string>;
  /**
   * What `{{source:x}}` reads instead of table `x`: a parenthesised subquery. The audit
   * reconciliation renders a view's own SELECT over rows derived from `otel_traces` this way
   * (audit-reconciliation.ts); without an entry, `{{source:x}}` is `{{table:x}}`.
   */
  sources?: Readonly<Record<string, string>>;
}

/** Reads a statement template from `sql/`. */
export function readSqlFile(file: string): string {
  return readFileSync(new URL(file, SQL_DIR), 'utf8');
}

/** Backquoted identifier; callers validated it is a plain identifier already. */
export function quoteIdentifier(name: string): string {
  return `\`${name}\``;
}

/** A ClickHouse string literal. Only used for names from semconv constants and validated options. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function semconvConstant(name: string): string {
  const value = (semconv as Record<string, unknown>)[name];
  if (typeof value !== 'string') {
    throw new StoreError('MIGRATION_FAILED', `@decisiontrail/semconv has no string constant ${name}`);
  }
  return value;
}

function semconvEnumValue(path: string): string {
  const [group, member] = path.split('.');
  const values = (semconv as Record<string, unknown>)[group ?? ''];
  const value =
    values !== null && typeof values === 'object'
      ? (values as Record<string, unknown>)[member ?? '']
      : undefined;
  if (typeof value !== 'string') {
    throw new StoreError('MIGRATION_FAILED', `@decisiontrail/semconv has no enum value ${path}`);
  }
  return value;
}

/** Attribute key from semconv: `AUDIT_DECISION_ID` → `ATTR_AUDIT_DECISION_ID`. */
export function attributeKey(name: string): string {
  return semconvConstant(`ATTR_${name}`);
}

/**
 * The retention class of a span: its `audit.retention.class`, else `high_risk` for a high-risk
 * decision, else `standard`.
 */
export function retentionClassExpression(attributes: string): string {
  const cls = `${attributes}[${quoteString(attributeKey('AUDIT_RETENTION_CLASS'))}]`;
  const risk = `${attributes}[${quoteString(attributeKey('AUDIT_DECISION_RISK_LEVEL'))}]`;
  return (
    `multiIf(${cls} != '', ${cls}, ` +
    `${risk} = ${quoteString(semconvEnumValue('AUDIT_DECISION_RISK_LEVEL_VALUES.HIGH'))}, ` +
    `${quoteString(semconvEnumValue('AUDIT_RETENTION_CLASS_VALUES.HIGH_RISK'))}, ` +
    `${quoteString(semconvEnumValue('AUDIT_RETENTION_CLASS_VALUES.STANDARD'))})`
  );
}

/** The latest instant a DateTime can hold, used for "never expires". */
const NEVER = "toDateTime('2106-01-01 00:00:00', 'UTC')";

function expiry(time: string, days: number | null): string {
  return days === null ? NEVER : `${time} + toIntervalDay(${days})`;
}

/**
 * `TTL …` clause that expires a row by its retention class. Classes map to days from the options;
 * an unknown class is treated as `standard`.
 */
export function retentionTtl(time: string, classExpression: string, retention: ResolvedRetention): string {
  const branches: string[] = [];
  for (const member of ['HIGH_RISK', 'INCIDENT', 'PERMANENT'] as const) {
    const value = semconvEnumValue(`AUDIT_RETENTION_CLASS_VALUES.${member}`);
    branches.push(
      `${classExpression} = ${quoteString(value)}`,
      expiry(time, retention[value as keyof ResolvedRetention]),
    );
  }
  return `TTL multiIf(${branches.join(', ')}, ${expiry(time, retention.standard)})`;
}

/** The `TTL …` clause of one of this package's tables ('' for none). */
export function ttlFor(table: string, retention: ResolvedRetention): string {
  switch (table) {
    case 'otel_traces':
      return retentionTtl('toDateTime(Timestamp)', retentionClassExpression('SpanAttributes'), retention);
    case 'otel_traces_trace_id_ts': {
      // The lookup row does not know its trace's class: keep it as long as the longest class.
      const days = Object.values(retention);
      return days.includes(null)
        ? ''
        : `TTL toDateTime(Start) + toIntervalDay(${Math.max(...(days as number[]))})`;
    }
    case 'audit_decision_stats':
    case 'audit_oversight_stats':
    case 'audit_feedback_stats':
      return retentionTtl('hour', 'retention_class', retention);
    case 'audit_confidence_stats':
      return retentionTtl('start', 'retention_class', retention);
    case 'audit_decisions':
    case 'audit_oversight':
    case 'audit_feedback':
    case 'audit_decision_links':
    case 'audit_decisions_by_confidence':
      return retentionTtl('toDateTime(time)', 'retention_class', retention);
    // An override's row expires with the oversight record it was derived from.
    case 'audit_overrides':
      return retentionTtl('toDateTime(record_time)', 'retention_class', retention);
    case 'audit_quarantine':
      return retention.standard === null
        ? ''
        : `TTL toDateTime(received_at) + toIntervalDay(${retention.standard})`;
    default:
      throw new StoreError('MIGRATION_FAILED', `no retention rule for table ${table}`);
  }
}

function replicatedEngine(engine: string): string {
  const match = /^(\w+)\((.*)\)$/.exec(engine);
  if (match === null) throw new StoreError('MIGRATION_FAILED', `cannot replicate engine ${engine}`);
  const args = ["'/clickhouse/tables/{shard}/{database}/{table}'", "'{replica}'"];
  if (match[2] !== '') args.push(match[2] as string);
  return `Replicated${match[1] as string}(${args.join(', ')})`;
}

/** Storage name of a table: `<name>_local` on a cluster (under a Distributed `<name>`). */
export function storageTableName(name: string, context: RenderContext): string {
  return context.cluster !== undefined && context.tables.has(name) ? `${name}_local` : name;
}

/**
 * Expands a template. Placeholders: `{{db}}`, `{{cluster}}`, `{{table:x}}` (storage name),
 * `{{read:x}}` (name to query), `{{engine:X(args)}}`, `{{ttl:x}}`, `{{attr:NAME}}` (semconv
 * `ATTR_NAME` as a literal), `{{value:GROUP.MEMBER}}` (semconv enum value as a literal) and
 * `{{retention_class:column}}`, `{{include:file.sql}}` (another template of `sql/`, rendered in
 * place, so two statements that must agree share one text) and `{{source:x}}` (the table a
 * materialized view's SELECT reads: `{{table:x}}`, or the context's substitute for it). Query
 * parameters (`{name:Type}`) are left for the engine to bind.
 */
export function renderSql(template: string, context: RenderContext): string {
  const db = quoteIdentifier(context.database);
  return template.replace(/\{\{(\w+)(?::([^}]*))?\}\}/g, (_match, kind: string, arg: string | undefined) => {
    const argument = arg ?? '';
    switch (kind) {
      case 'db':
        return db;
      case 'cluster':
        return context.cluster === undefined ? '' : `ON CLUSTER ${quoteIdentifier(context.cluster)}`;
      case 'table':
        return `${db}.${quoteIdentifier(storageTableName(argument, context))}`;
      case 'read':
        return `${db}.${quoteIdentifier(argument)}`;
      case 'source':
        return context.sources?.[argument] ?? `${db}.${quoteIdentifier(storageTableName(argument, context))}`;
      case 'engine':
        return context.cluster === undefined ? argument : replicatedEngine(argument);
      case 'ttl':
        return ttlFor(argument, context.retention);
      case 'attr':
        return quoteString(attributeKey(argument));
      case 'value':
        return quoteString(semconvEnumValue(argument));
      case 'retention_class':
        return retentionClassExpression(argument);
      case 'include':
        if (!/^[\w-]+\.sql$/.test(argument)) {
          throw new StoreError('MIGRATION_FAILED', `template include must name a file of sql/: ${argument}`);
        }
        // The included text is indented like the placeholder's line already; trim its own.
        return renderSql(readSqlFile(argument).trim(), context);
      default:
        throw new StoreError('MIGRATION_FAILED', `unknown template placeholder {{${kind}}}`);
    }
  });
}
