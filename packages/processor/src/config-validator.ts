import { yearsInDays } from '@decisiontrail/clickhouse';
import type { ConfigIssue } from './errors.ts';

/**
 * A tiny schema checker for the YAML config: every node either returns its parsed value or records an
 * issue naming the key path. Unknown keys are issues too, so a typo never silently falls back to a default.
 */
export type Check<T> = (value: unknown, path: string, issues: ConfigIssue[]) => T | undefined;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value;
}

export function str(options: { nonEmpty?: boolean } = {}): Check<string> {
  return (value, path, issues) => {
    if (typeof value !== 'string') {
      issues.push({ path, message: `expected a string, got ${typeName(value)}` });
      return undefined;
    }
    if (options.nonEmpty === true && value.length === 0) {
      issues.push({ path, message: 'must not be empty' });
      return undefined;
    }
    return value;
  };
}

export function bool(): Check<boolean> {
  return (value, path, issues) => {
    if (typeof value !== 'boolean') {
      issues.push({ path, message: `expected true or false, got ${typeName(value)}` });
      return undefined;
    }
    return value;
  };
}

export function int(min: number, max: number): Check<number> {
  return (value, path, issues) => {
    // Environment overrides arrive as strings; accept a plain decimal integer there.
    const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      issues.push({ path, message: `expected an integer, got ${typeName(value)}` });
      return undefined;
    }
    if (n < min || n > max) {
      issues.push({ path, message: `must be between ${min} and ${max}, got ${n}` });
      return undefined;
    }
    return n;
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (value, path, issues) => {
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      issues.push({ path, message: `expected one of ${values.join(', ')}, got ${JSON.stringify(value)}` });
      return undefined;
    }
    return value as T;
  };
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
};

/** A byte size: an integer or a string such as `4MiB`. */
export function byteSize(min: number, max: number): Check<number> {
  return (value, path, issues) => {
    let n: number | undefined;
    if (typeof value === 'number' && Number.isInteger(value)) n = value;
    if (typeof value === 'string') {
      const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(value);
      const unit = m === null ? undefined : SIZE_UNITS[m[2]!.toLowerCase()];
      if (m !== null && unit !== undefined) n = Number(m[1]) * unit;
    }
    if (n === undefined) {
      issues.push({ path, message: `expected a byte size such as 4MiB, got ${JSON.stringify(value)}` });
      return undefined;
    }
    if (n < min || n > max) {
      issues.push({ path, message: `must be between ${min} and ${max} bytes, got ${n}` });
      return undefined;
    }
    return n;
  };
}

const DURATION_DAYS: Record<string, (n: number) => number> = { d: (n) => n, w: (n) => n * 7, y: yearsInDays };

/**
 * A retention period: `never`, or a count of days, weeks or years (`30d`, `7y`), returned in days (`null` = never);
 * years as the store counts them ({@link yearsInDays}: `7y` is 2557 days).
 */
export function retentionPeriod(): Check<number | null> {
  return (value, path, issues) => {
    if (value === 'never') return null;
    const m = typeof value === 'string' ? /^(\d+)([dwy])$/.exec(value) : null;
    if (m === null || Number(m[1]) === 0) {
      issues.push({
        path,
        message: `expected "never" or a period such as 30d, 12w, 7y, got ${JSON.stringify(value)}`,
      });
      return undefined;
    }
    return DURATION_DAYS[m[2]!]!(Number(m[1]));
  };
}

export function list<T>(item: Check<T>): Check<T[]> {
  return (value, path, issues) => {
    if (!Array.isArray(value)) {
      issues.push({ path, message: `expected a list, got ${typeName(value)}` });
      return undefined;
    }
    const out: T[] = [];
    value.forEach((v, i) => {
      const parsed = item(v, `${path}[${i}]`, issues);
      if (parsed !== undefined) out.push(parsed);
    });
    return out;
  };
}

/** A map with free-form string keys (HTTP headers). */
export function stringMap(): Check<Record<string, string>> {
  return (value, path, issues) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ path, message: `expected a mapping, got ${typeName(value)}` });
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      const parsed = str()(v, `${path}.${k}`, issues);
      if (parsed !== undefined) out[k] = parsed;
    }
    return out;
  };
}

type Fields = Record<string, Check<unknown>>;
type Parsed<F extends Fields> = { [K in keyof F]?: F[K] extends Check<infer T> ? T : never };

/** A mapping with a fixed set of keys; absent keys stay absent (defaults are applied in one place later). */
export function obj<F extends Fields>(fields: F): Check<Parsed<F>> {
  return (value, path, issues) => {
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ path: path || '(root)', message: `expected a mapping, got ${typeName(value)}` });
      return undefined;
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (field === undefined) {
        issues.push({
          path: childPath,
          message: `unknown key (expected one of ${Object.keys(fields).join(', ')})`,
        });
        continue;
      }
      // An explicit null means "use the default", as an absent key would.
      if (v === null) continue;
      const parsed = field(v, childPath, issues);
      if (parsed !== undefined) out[key] = parsed;
    }
    return out as Parsed<F>;
  };
}
