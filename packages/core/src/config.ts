import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AUDIT_INPUT_CAPTURE_MODE_VALUES } from '@decisiontrail/semconv';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WITNESS_FILE_NAME } from './checkpoint-witness.ts';
import { parseCosignerKey } from './cosignature.ts';

// `decisiontrail.yaml`: the one file every component reads — the instrumentation (`capture`, `batch`),
// `serve` (`processor`, `witnesses`), the store (`storage`, `retention`) and the CLI (`keys`). This module is
// its only description: the zod schema below gives the type, every default, and the key path of each error.

/** One problem found in a configuration, named by its key path (`processor.receiver.port`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Stable codes of {@link ConfigError}. */
export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_UNREADABLE';

/** A configuration that cannot be used: `issues` names every bad or unknown key by its path. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  readonly issues: readonly ConfigIssue[];

  constructor(
    issues: readonly ConfigIssue[],
    source?: string,
    options?: { cause?: unknown; code?: ConfigErrorCode },
  ) {
    const where = source === undefined ? '' : ` in ${source}`;
    super(
      options?.code === 'CONFIG_UNREADABLE'
        ? (issues[0]?.message ?? `cannot read ${source ?? 'the configuration'}`)
        : `invalid configuration${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      options,
    );
    this.code = options?.code ?? 'CONFIG_INVALID';
    this.issues = issues;
  }
}

/**
 * How a field (the input or the output of a decision) is recorded — the values `audit.*.capture_mode` records.
 * - `hash`: HMAC-SHA-256 under the configured key, with its key id (the default).
 * - `redact`: the text with built-in and custom PII patterns replaced, plus the HMAC when a key is configured.
 * - `full`: the plain content (opt-in), plus the HMAC when a key is configured.
 * - `encrypt`: AES-256-GCM ciphertext under the data subject's key, plus the HMAC when a key is configured.
 * - `none`: only the size.
 */
export type CaptureMode =
  (typeof AUDIT_INPUT_CAPTURE_MODE_VALUES)[keyof typeof AUDIT_INPUT_CAPTURE_MODE_VALUES];
/** Every {@link CaptureMode}, from the semantic conventions. */
export const CAPTURE_MODES = Object.values(AUDIT_INPUT_CAPTURE_MODE_VALUES) as [
  CaptureMode,
  ...CaptureMode[],
];

/** What a credential may do: send spans, run read queries, record incidents and erasures, or everything. */
export const SCOPES = ['ingest', 'read', 'write', 'admin'] as const;
/** One of {@link SCOPES}. */
export type Scope = (typeof SCOPES)[number];

/**
 * Days that keep a record for `years` whole calendar years wherever the period starts: 365 a year plus the most
 * leap days any such run of years holds (one in every four, rounded up), so a period set in years never expires a
 * record a day early. `7y` in decisiontrail.yaml and the default retention both count this way.
 */
export function yearsInDays(years: number): number {
  return years * 365 + Math.ceil(years / 4);
}

/** Retention in days when nothing is configured: 7 years, 10 for high-risk records, incidents and `permanent` forever. */
export const DEFAULT_RETENTION_DAYS = {
  standard: yearsInDays(7),
  highRisk: yearsInDays(10),
  incident: null,
  permanent: null,
} as const;

/** The default keys directory, relative to the configuration file (or the working directory without one). */
export const DEFAULT_KEYS_DIR = './.decisiontrail/keys';
/** The default data directory of the embedded engine. */
export const DEFAULT_DATA_DIR = './.decisiontrail/data';
/** Name of the configuration file looked up in the working directory when none is named. */
export const DEFAULT_CONFIG_FILE = 'decisiontrail.yaml';
/** Environment variable naming the configuration file. */
export const CONFIG_FILE_VARIABLE = 'DECISIONTRAIL_CONFIG';

// ---- value types, each with the message a person reads --------------------------------------------------------

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value;
}

const str = (): z.ZodString =>
  z.string({ error: (issue) => `expected a string, got ${typeName(issue.input)}` });
const text = (): z.ZodString => str().min(1, { error: 'must not be empty' });
const bool = (): z.ZodBoolean =>
  z.boolean({ error: (issue) => `expected true or false, got ${typeName(issue.input)}` });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (issue) => `expected one of ${values.join(', ')}, got ${JSON.stringify(issue.input)}`,
  });
const list = <T extends z.ZodType>(item: T) =>
  z.array(item, { error: (issue) => `expected a list, got ${typeName(issue.input)}` });
/** A mapping with a fixed set of keys (an unknown key is an error, so a typo never falls back to a default). */
function mapping<S extends z.ZodRawShape>(shape: S) {
  const object = z.strictObject(shape, {
    error: (issue) => `expected a mapping, got ${typeName(issue.input)}`,
  });
  // Absent, it is read as empty: every key inside takes its default.
  return object.prefault({} as z.input<typeof object>);
}

/** An integer in `[min, max]`; a decimal string is read as one (environment overrides are strings). */
function int(min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value),
    z
      .number({ error: (issue) => `expected an integer, got ${typeName(issue.input)}` })
      .int({ error: (issue) => `expected an integer, got ${String(issue.input)}` })
      .min(min, { error: (issue) => `must be between ${min} and ${max}, got ${String(issue.input)}` })
      .max(max, { error: (issue) => `must be between ${min} and ${max}, got ${String(issue.input)}` }),
  );
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

/** A byte size in `[min, max]`: an integer or a string such as `4MiB`. */
function byteSize(min: number, max: number) {
  return z.unknown().transform((value, ctx): number => {
    let n: number | undefined;
    if (typeof value === 'number' && Number.isInteger(value)) n = value;
    if (typeof value === 'string') {
      const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(value);
      const unit = m === null ? undefined : SIZE_UNITS[m[2]!.toLowerCase()];
      if (m !== null && unit !== undefined) n = Number(m[1]) * unit;
    }
    if (n === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `expected a byte size such as 4MiB, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    if (n < min || n > max) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `must be between ${min} and ${max} bytes, got ${n}`,
      });
      return z.NEVER;
    }
    return n;
  });
}

const PERIOD_DAYS: Record<string, (n: number) => number> = { d: (n) => n, w: (n) => n * 7, y: yearsInDays };

/** A retention period: `never`, or a count of days, weeks or years (`30d`, `12w`, `7y`), in days (`null`: never). */
function retentionPeriod() {
  return z.unknown().transform((value, ctx): number | null => {
    if (value === 'never') return null;
    const m = typeof value === 'string' ? /^(\d+)([dwy])$/.exec(value) : null;
    if (m === null || Number(m[1]) === 0) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `expected "never" or a period such as 30d, 12w, 7y, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return PERIOD_DAYS[m[2]!]!(Number(m[1]));
  });
}

/**
 * Words that make a feature name read as an identifier or a direct personal detail rather than a feature; a name
 * made of any of them (split at `_`, `-`, `.` and lower-to-upper case) is refused.
 */
const IDENTIFYING_WORDS = new Set([
  'id',
  'uuid',
  'guid',
  'name',
  'surname',
  'email',
  'mail',
  'phone',
  'ssn',
  'address',
  'ip',
  'dob',
  'birthdate',
  'passport',
  'iban',
  'postcode',
  'zip',
]);

/** A numeric input feature allow-listed for drift monitoring: a plain name, not one that reads as an identifier. */
function featureName() {
  return text().superRefine((name, ctx) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a feature name (letters, digits, _ . -), got ${JSON.stringify(name)}`,
      });
      return;
    }
    const words = name
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .split(/[\s_.-]+/)
      .map((word) => word.toLowerCase());
    const identifying = words.find((word) => IDENTIFYING_WORDS.has(word));
    if (identifying !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message:
          `${JSON.stringify(name)} reads as an identifier or personal detail (${JSON.stringify(identifying)}): ` +
          'drift features are recorded whatever the capture mode, so list only non-identifying numbers',
      });
    }
  });
}

/** Per model id, the distinct features its decisions record for input drift (at least one each). */
function driftFeatureLists() {
  return z
    .record(text(), list(featureName()).min(1, { error: 'must name at least one feature' }), {
      error: (issue) => `expected a mapping of model id to feature names, got ${typeName(issue.input)}`,
    })
    .superRefine((models, ctx) => {
      for (const [model, names] of Object.entries(models)) {
        const repeated = names.find((name, i) => names.indexOf(name) !== i);
        if (repeated !== undefined) {
          ctx.addIssue({ code: 'custom', path: [model], message: `lists ${JSON.stringify(repeated)} twice` });
        }
      }
    });
}

// ---- the file --------------------------------------------------------------------------------------------------

/** What the file says, with the defaults that do not depend on other keys. Paths are still as written. */
const fileSchema = mapping({
  storage: mapping({
    /** Data directory of the embedded engine; used when `clickhouse.url` is unset. */
    dataDir: text().default(DEFAULT_DATA_DIR),
    /** A ClickHouse server; when `url` is set it replaces the embedded engine. */
    clickhouse: mapping({
      url: text().optional(),
      username: str().default('default'),
      password: str().default(''),
      database: text().default('default'),
    }),
  }),
  /** Retention per `audit.retention.class`, in days; `null` keeps forever. */
  retention: mapping({
    standard: retentionPeriod().default(DEFAULT_RETENTION_DAYS.standard),
    highRisk: retentionPeriod().default(DEFAULT_RETENTION_DAYS.highRisk),
    incident: retentionPeriod().default(DEFAULT_RETENTION_DAYS.incident),
    permanent: retentionPeriod().default(DEFAULT_RETENTION_DAYS.permanent),
  }),
  /**
   * Content capture of the instrumentation, read by the zero-code `register` entry (an application that sets up
   * its own SDK passes them as `captureInput` / `captureOutput`): `hash` records only keyed hashes.
   */
  capture: mapping({
    input: oneOf(CAPTURE_MODES).default('hash'),
    output: oneOf(CAPTURE_MODES).default('hash'),
  }),
  /**
   * Input drift monitoring, opted into per model: by model id (`audit.model.id`), the numeric input features its
   * decisions record as `audit.input.features` (read by the zero-code `register` entry, which passes them as each
   * model's `driftFeatures`). Recorded whatever the capture mode: non-identifying features only.
   */
  driftFeatures: driftFeatureLists().default({}),
  keys: mapping({
    dir: text().default(DEFAULT_KEYS_DIR),
    /** Public key files trusted by `serve`'s verify stage and the CLI; default: every `*.pub`/`*.vkey` in `dir`. */
    publicKeys: list(text()).default([]),
    /** Witness file of the latest checkpoints, outside the store. Default `<dir>/checkpoints.witness.jsonl`. */
    witness: text().optional(),
    /** HMAC key file (hex) of the policy stage. Default `<dir>/hmac.key`. */
    hmacKey: text().optional(),
  }),
  /**
   * Batching of the signing span processor the zero-code `register` entry starts: a checkpoint is signed after
   * `maxSpans` spans or `flushIntervalMs`, whichever comes first (`DurableSpanProcessor` `batchSize` /
   * `sealIntervalMillis`, which an application that builds its own processor sets from these).
   */
  batch: mapping({
    maxSpans: int(1, 100_000).default(512),
    flushIntervalMs: int(1, 3_600_000).default(1000),
  }),
  /** Independent witnesses: `serve` submits each stream's newest stored checkpoint, `verify` checks their cosignatures. */
  witnesses: mapping({
    list: list(mapping({ name: text(), url: text(), key: text() })).default([]),
    /** Distinct trusted witnesses whose cosignatures a stream's newest checkpoint needs. Default 1 with witnesses, else 0. */
    quorum: int(0, 1000).optional(),
    /** How often serve looks for checkpoints to submit. */
    intervalMs: int(10, 3_600_000).default(5000),
    /** One request to a witness, connection to last byte. */
    timeoutMs: int(10, 600_000).default(10_000),
    /** Longest wait between attempts to a witness that fails (backoff doubles up to it). */
    retryMaxMs: int(10, 86_400_000).default(300_000),
  }),
  processor: mapping({
    receiver: mapping({
      /** Loopback unless an operator opens it deliberately. */
      host: text().default('127.0.0.1'),
      port: int(0, 65_535).default(4318),
      /** Largest request body, compressed or not. */
      maxBodyBytes: byteSize(1024, 256 * 1024 ** 2).default(4 * 1024 ** 2),
      /** Requests decoded at once before 429. */
      maxConcurrentRequests: int(1, 10_000).default(64),
      /** HTTPS from these PEM files; absent serves plain HTTP. */
      tls: z
        .strictObject(
          {
            cert: text().optional(),
            key: text().optional(),
            clientCa: text().optional(),
            ca: text().optional(),
          },
          { error: (issue) => `expected a mapping, got ${typeName(issue.input)}` },
        )
        .optional(),
      /** Browser origins whose requests are answered, with CORS headers; any other `Origin` gets 403. */
      allowedOrigins: list(text()).default([]),
      /** Host names requests may address besides the bound address; `*` turns the check off. */
      allowedHosts: list(text()).default([]),
    }),
    auth: mapping({
      /** Accepted bearer tokens, each kept in a file or an environment variable, never inline. */
      tokens: list(
        z.strictObject(
          {
            name: text().optional(),
            scopes: list(oneOf(SCOPES)).optional(),
            file: text().optional(),
            env: text().optional(),
          },
          { error: (issue) => `expected a mapping, got ${typeName(issue.input)}` },
        ),
      ).default([]),
      /** Scopes of client certificates by subject CN; default: any certificate of the client CA may do everything. */
      clientCertificates: list(
        z.strictObject(
          { commonName: text().optional(), scopes: list(oneOf(SCOPES)).optional() },
          { error: (issue) => `expected a mapping, got ${typeName(issue.input)}` },
        ),
      ).optional(),
      /** Lets serve bind a non-loopback address with no credential configured. */
      allowUnauthenticated: bool().default(false),
    }),
    stages: mapping({
      verify: mapping({
        enabled: bool().default(true),
        unsigned: oneOf(['accept', 'quarantine']).default('accept'),
      }),
      policy: mapping({
        /** Attributes replaced by their HMAC-SHA-256 at receipt, before anything reaches disk. */
        hash: list(text()).default([]),
        /** Attributes replaced by a redaction marker at receipt. */
        redact: list(text()).default([]),
        /** A signed span carrying such an attribute: quarantined with it hashed/redacted, or kept unchanged. */
        signedPlaintext: oneOf(['quarantine', 'keep']).default('quarantine'),
      }),
      completeness: mapping({ enabled: bool().default(true) }),
      route: mapping({
        /** Where non-audit spans go. */
        other: oneOf(['drop', 'forward', 'store']).default('drop'),
        /** Whether audit spans are also forwarded. */
        forwardAudit: bool().default(false),
      }),
    }),
    queue: mapping({
      /** Write-ahead log directory. Default: `queue` beside the data directory. */
      dir: text().optional(),
      segmentBytes: byteSize(64 * 1024, 4 * 1024 ** 3).default(64 * 1024 ** 2),
      /** Unsent bytes above which the receiver answers 503. */
      maxBytes: byteSize(1024 ** 2, 2 ** 50).default(1024 ** 3),
      /**
       * Spans per drained batch and per ClickHouse insert (a batch is what the log holds when the drain gets to
       * it, up to this). Each insert has a fixed cost in the engine (every materialized view, a part per table,
       * its merges): 20,000 spans per insert took about half the engine CPU per span of 10,000; larger batches
       * save a little more CPU but the span worker holds a whole batch decoded (25,000: peak RSS over 1 GiB).
       */
      drainBatchSpans: int(1, 1_000_000).default(20_000),
      /** First retry delay after a sink failure; doubles up to `retryMaxMs`. */
      retryInitialMs: int(1, 3_600_000).default(200),
      retryMaxMs: int(1, 3_600_000).default(30_000),
    }),
    sinks: mapping({
      clickhouse: mapping({ enabled: bool().default(true) }),
      forward: mapping({
        url: text().optional(),
        headers: z
          .record(z.string(), str(), { error: (issue) => `expected a mapping, got ${typeName(issue.input)}` })
          .default({}),
        timeoutMs: int(1, 600_000).default(10_000),
      }),
    }),
  }),
});

type FileConfig = z.output<typeof fileSchema>;

/** A zod issue path as people write it: `processor.auth.tokens[0].scopes`. */
function pathText(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Every value that depends on another key or on where the file lives: paths resolved against `baseDir`, the
 * defaults derived from other keys, and the rules that span keys. Issues go to `issues` under their key path.
 */
function derive(c: FileConfig, baseDir: string, issues: ConfigIssue[]) {
  const resolve = (p: string): string => path.resolve(baseDir, p);
  const dataDir = resolve(c.storage.dataDir);
  const keysDir = resolve(c.keys.dir);
  const p = c.processor;
  if (p.queue.retryMaxMs < p.queue.retryInitialMs) {
    issues.push({
      path: 'processor.queue.retryMaxMs',
      message: 'must not be below processor.queue.retryInitialMs',
    });
  }
  const forwardUrl = p.sinks.forward.url;
  if (forwardUrl !== undefined && !URL.canParse(forwardUrl)) {
    issues.push({ path: 'processor.sinks.forward.url', message: `not a URL: ${JSON.stringify(forwardUrl)}` });
  }
  if (c.storage.clickhouse.url !== undefined && !URL.canParse(c.storage.clickhouse.url)) {
    issues.push({
      path: 'storage.clickhouse.url',
      message: `not a URL: ${JSON.stringify(c.storage.clickhouse.url)}`,
    });
  }
  if ((p.stages.route.other === 'forward' || p.stages.route.forwardAudit) && forwardUrl === undefined) {
    issues.push({
      path: 'processor.sinks.forward.url',
      message: 'required when the route stage forwards spans',
    });
  }
  const receiver = deriveReceiver(p.receiver, resolve, issues);
  return {
    storage: { dataDir, clickhouse: c.storage.clickhouse },
    retention: c.retention,
    capture: c.capture,
    driftFeatures: c.driftFeatures,
    keys: {
      dir: keysDir,
      publicKeys: c.keys.publicKeys.map(resolve),
      witness: c.keys.witness === undefined ? path.join(keysDir, WITNESS_FILE_NAME) : resolve(c.keys.witness),
      hmacKey: c.keys.hmacKey === undefined ? path.join(keysDir, 'hmac.key') : resolve(c.keys.hmacKey),
    },
    batch: c.batch,
    witnesses: deriveWitnesses(c.witnesses, issues),
    processor: {
      receiver,
      auth: deriveAuth(p.auth, receiver.tls, resolve, issues),
      stages: p.stages,
      queue: {
        ...p.queue,
        dir: p.queue.dir === undefined ? path.join(path.dirname(dataDir), 'queue') : resolve(p.queue.dir),
      },
      sinks: p.sinks,
    },
  };
}

/** Each witness needs an http(s) URL and a cosignature key named as the witness; the quorum must be reachable. */
function deriveWitnesses(w: FileConfig['witnesses'], issues: ConfigIssue[]) {
  w.list.forEach(({ name, url, key }, i) => {
    const at = `witnesses.list[${i}]`;
    if (!URL.canParse(url) || !/^https?:$/u.test(new URL(url).protocol))
      issues.push({ path: `${at}.url`, message: `not an http(s) URL: ${JSON.stringify(url)}` });
    try {
      const parsed = parseCosignerKey(key);
      if (parsed.name !== name)
        issues.push({
          path: `${at}.key`,
          message: `the key is named ${parsed.name}, not the witness name ${name}`,
        });
    } catch (error) {
      issues.push({ path: `${at}.key`, message: (error as Error).message });
    }
    if (w.list.findIndex((other) => other.name === name) !== i)
      issues.push({ path: `${at}.name`, message: `${name} is listed twice` });
  });
  if (w.retryMaxMs < w.intervalMs)
    issues.push({
      path: 'witnesses.retryMaxMs',
      message: `${w.retryMaxMs} is less than witnesses.intervalMs (${w.intervalMs}), the first wait of the backoff`,
    });
  const quorum = w.quorum ?? Math.min(1, w.list.length);
  if (quorum > w.list.length)
    issues.push({
      path: 'witnesses.quorum',
      message: `${quorum} is more than the ${w.list.length} witness(es) listed`,
    });
  return { ...w, quorum };
}

function deriveReceiver(
  r: FileConfig['processor']['receiver'],
  resolve: (p: string) => string,
  issues: ConfigIssue[],
) {
  let tls: { cert: string; key: string; clientCa: string | undefined; ca: string | undefined } | undefined;
  if (r.tls !== undefined && Object.keys(r.tls).length > 0) {
    const { cert, key, clientCa, ca } = r.tls;
    if (cert === undefined || key === undefined) {
      issues.push({ path: 'processor.receiver.tls', message: 'cert and key are both required' });
    } else {
      tls = {
        cert: resolve(cert),
        key: resolve(key),
        clientCa: clientCa === undefined ? undefined : resolve(clientCa),
        ca: ca === undefined ? undefined : resolve(ca),
      };
    }
  }
  const allowedOrigins = r.allowedOrigins.map((origin, i) => {
    // An origin is scheme, host and port only (what a browser sends), so a path never matches silently.
    const url = URL.canParse(origin) ? new URL(origin) : undefined;
    if (url === undefined || url.origin === 'null' || `${url.origin}/` !== url.href) {
      issues.push({
        path: `processor.receiver.allowedOrigins[${i}]`,
        message: `expected an origin such as https://app.example:8443, got ${JSON.stringify(origin)}`,
      });
    }
    return url?.origin ?? origin;
  });
  const allowedHosts = r.allowedHosts.map((host, i) => {
    if (host !== '*' && !/^(\[[0-9a-fA-F:.]+\]|[^\s/:@[\]]+|[0-9a-fA-F:]+)$/.test(host)) {
      issues.push({
        path: `processor.receiver.allowedHosts[${i}]`,
        message: `expected a host name or address without port, got ${JSON.stringify(host)}`,
      });
    }
    return host
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '')
      .toLowerCase();
  });
  return { ...r, tls, allowedOrigins, allowedHosts };
}

function deriveAuth(
  a: FileConfig['processor']['auth'],
  tls: { clientCa: string | undefined } | undefined,
  resolve: (p: string) => string,
  issues: ConfigIssue[],
) {
  const names = new Set<string>();
  const tokens = a.tokens.map((t, i) => {
    const at = `processor.auth.tokens[${i}]`;
    if (t.name === undefined) issues.push({ path: `${at}.name`, message: 'required' });
    else if (names.has(t.name))
      issues.push({ path: `${at}.name`, message: `${JSON.stringify(t.name)} is used twice` });
    else names.add(t.name);
    if (t.scopes === undefined || t.scopes.length === 0)
      issues.push({ path: `${at}.scopes`, message: `required: one or more of ${SCOPES.join(', ')}` });
    if ((t.file === undefined) === (t.env === undefined))
      issues.push({ path: at, message: 'set exactly one of file and env (a token is never written inline)' });
    return {
      /** Names the token in messages (the secret itself is never logged or echoed). */
      name: t.name ?? `#${i}`,
      scopes: t.scopes ?? [],
      file: t.file === undefined ? undefined : resolve(t.file),
      env: t.file === undefined ? t.env : undefined,
    };
  });
  const rules = a.clientCertificates ?? [{ commonName: '*', scopes: ['admin' as Scope] }];
  const clientCertificates = rules.map((rule, i) => {
    const at = `processor.auth.clientCertificates[${i}]`;
    if (rule.commonName === undefined) issues.push({ path: `${at}.commonName`, message: 'required' });
    if (rule.scopes === undefined || rule.scopes.length === 0)
      issues.push({ path: `${at}.scopes`, message: `required: one or more of ${SCOPES.join(', ')}` });
    return { commonName: rule.commonName ?? '', scopes: rule.scopes ?? [] };
  });
  if (a.clientCertificates !== undefined && tls?.clientCa === undefined) {
    issues.push({
      path: 'processor.auth.clientCertificates',
      message: 'needs processor.receiver.tls.clientCa (the CA that issues client certificates)',
    });
  }
  return { tokens, clientCertificates, allowUnauthenticated: a.allowUnauthenticated };
}

/** The whole `decisiontrail.yaml` after defaults, environment overrides and path resolution. */
export type DecisionTrailConfig = ReturnType<typeof derive>;
/** `storage`: where the store is. */
export type StorageConfig = DecisionTrailConfig['storage'];
/** `keys`: the keys directory, trusted public keys, the witness file and the HMAC key. */
export type KeysConfig = DecisionTrailConfig['keys'];
/** `witnesses`: the independent witnesses and their quorum. */
export type WitnessesConfig = DecisionTrailConfig['witnesses'];
/** One entry of `witnesses.list`. */
export type WitnessConfig = WitnessesConfig['list'][number];
/** `processor`: everything `serve` does. */
export type ProcessorConfig = DecisionTrailConfig['processor'];
/** `processor.auth`. */
export type AuthConfig = ProcessorConfig['auth'];
/** A bearer token of `processor.auth.tokens`, named by where it is kept. */
export type BearerTokenSource = AuthConfig['tokens'][number];
/** A rule of `processor.auth.clientCertificates`. */
export type ClientCertificateRule = AuthConfig['clientCertificates'][number];
/** `processor.receiver.tls` with its paths resolved. */
export type ReceiverTlsConfig = NonNullable<ProcessorConfig['receiver']['tls']>;

/**
 * Environment variables that override the file, applied before validation so a bad value is reported under the
 * variable's name.
 */
export const CONFIG_ENV_OVERRIDES: Readonly<Record<string, string>> = {
  DECISIONTRAIL_DATA_DIR: 'storage.dataDir',
  DECISIONTRAIL_CLICKHOUSE_URL: 'storage.clickhouse.url',
  DECISIONTRAIL_CLICKHOUSE_USER: 'storage.clickhouse.username',
  DECISIONTRAIL_CLICKHOUSE_PASSWORD: 'storage.clickhouse.password',
  DECISIONTRAIL_CLICKHOUSE_DATABASE: 'storage.clickhouse.database',
  DECISIONTRAIL_KEYS_DIR: 'keys.dir',
  DECISIONTRAIL_CAPTURE_INPUT: 'capture.input',
  DECISIONTRAIL_CAPTURE_OUTPUT: 'capture.output',
  DECISIONTRAIL_PROCESSOR_HOST: 'processor.receiver.host',
  DECISIONTRAIL_PROCESSOR_PORT: 'processor.receiver.port',
  DECISIONTRAIL_QUEUE_DIR: 'processor.queue.dir',
  DECISIONTRAIL_FORWARD_URL: 'processor.sinks.forward.url',
};

/** Options of {@link parseConfig} and {@link loadConfig}. */
export interface ParseConfigOptions {
  /** Relative paths in the file resolve against this directory. @default process.cwd() */
  baseDir?: string;
  /** Environment used for overrides. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Name of the source, for error messages. */
  source?: string;
}

/** An explicit `null` means "the default", as an absent key does. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

function setPath(root: Record<string, unknown>, dotted: string, value: string): void {
  const keys = dotted.split('.');
  let node = root;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

/** The keys a mapping of the schema accepts at `segments`, for naming them beside an unknown one. */
function keysAt(schema: z.ZodType, segments: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  const unwrap = (s: unknown): unknown => {
    for (;;) {
      const def = (s as { _zod?: { def?: { innerType?: unknown; in?: unknown; type?: string } } })._zod?.def;
      if (def?.innerType !== undefined) s = def.innerType;
      else if (def?.type === 'pipe' && def.in !== undefined) s = def.in;
      else return s;
    }
  };
  for (const segment of segments) {
    node = unwrap(node);
    if (typeof segment === 'number') node = (node as { element?: unknown }).element;
    else node = (node as { shape?: Record<string, unknown> }).shape?.[String(segment)];
    if (node === undefined) return [];
  }
  return Object.keys((unwrap(node) as { shape?: object }).shape ?? {});
}

/**
 * Parses and validates `decisiontrail.yaml` text: environment overrides, every default, and paths resolved
 * against `baseDir`.
 * @throws ConfigError naming each unknown key or bad value by its path (and the variable, for an override).
 */
export function parseConfig(source: string, options: ParseConfigOptions = {}): DecisionTrailConfig {
  let raw: unknown;
  try {
    raw = parseYaml(source) ?? {};
  } catch (cause) {
    throw new ConfigError(
      [{ path: '(root)', message: `not valid YAML: ${(cause as Error).message}` }],
      options.source,
      {
        cause,
      },
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      [{ path: '(root)', message: 'expected a mapping at the top level' }],
      options.source,
    );
  }
  const env = options.env ?? process.env;
  const overridden = withoutNulls(raw) as Record<string, unknown>;
  const fromEnv = new Map<string, string>();
  for (const [variable, keyPath] of Object.entries(CONFIG_ENV_OVERRIDES)) {
    const value = env[variable];
    if (value !== undefined && value !== '') {
      setPath(overridden, keyPath, value);
      fromEnv.set(keyPath, variable);
    }
  }
  const result = fileSchema.safeParse(overridden);
  if (!result.success) {
    const issues = result.error.issues.flatMap((issue): ConfigIssue[] => {
      if (issue.code === 'unrecognized_keys') {
        const known = keysAt(fileSchema, issue.path);
        return issue.keys.map((key) => ({
          path: pathText([...issue.path, key]),
          message: `unknown key${known.length > 0 ? ` (expected one of ${known.join(', ')})` : ''}`,
        }));
      }
      const at = pathText(issue.path);
      const variable = fromEnv.get(at);
      return [
        { path: at, message: variable === undefined ? issue.message : `${issue.message} (from ${variable})` },
      ];
    });
    throw new ConfigError(issues, options.source);
  }
  const issues: ConfigIssue[] = [];
  const config = derive(result.data, options.baseDir ?? process.cwd(), issues);
  if (issues.length > 0) throw new ConfigError(issues, options.source);
  return config;
}

/** The configuration with nothing set: every default, paths relative to `baseDir`. */
export function defaultConfig(options: Omit<ParseConfigOptions, 'source'> = {}): DecisionTrailConfig {
  return parseConfig('{}', options);
}

function unreadable(file: string, cause: unknown): ConfigError {
  return new ConfigError(
    [{ path: '(root)', message: `cannot read config file ${file}: ${(cause as Error).message}` }],
    file,
    { cause, code: 'CONFIG_UNREADABLE' },
  );
}

function parseConfigFile(
  file: string,
  source: string,
  options: Omit<ParseConfigOptions, 'baseDir' | 'source'>,
): DecisionTrailConfig {
  return parseConfig(source, { ...options, baseDir: path.dirname(path.resolve(file)), source: file });
}

/**
 * Reads `decisiontrail.yaml` (relative paths resolve against its directory) and validates it.
 * @throws ConfigError `CONFIG_INVALID` when invalid, `CONFIG_UNREADABLE` when the file cannot be read.
 */
export async function loadConfig(
  file: string,
  options: Omit<ParseConfigOptions, 'baseDir' | 'source'> = {},
): Promise<DecisionTrailConfig> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (cause) {
    throw unreadable(file, cause);
  }
  return parseConfigFile(file, source, options);
}

/** {@link loadConfig} for start-up code that cannot wait (the `node --import` register entry). */
export function loadConfigSync(
  file: string,
  options: Omit<ParseConfigOptions, 'baseDir' | 'source'> = {},
): DecisionTrailConfig {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (cause) {
    throw unreadable(file, cause);
  }
  return parseConfigFile(file, source, options);
}

/**
 * The configuration file in effect: the one named (a flag, else DECISIONTRAIL_CONFIG) resolved against `cwd`, else
 * `decisiontrail.yaml` in `cwd` when it exists, else none. The one rule the CLI, `serve` and the zero-code
 * instrumentation share.
 */
export function findConfigFile(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  named?: string,
): string | undefined {
  const given = named ?? (env[CONFIG_FILE_VARIABLE] || undefined);
  if (given !== undefined) return path.resolve(cwd, given);
  const implicit = path.join(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(implicit) ? implicit : undefined;
}
