import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WITNESS_FILE_NAME, parseCosignerKey } from '@decisiontrail/core';
import { DEFAULT_RETENTION } from '@decisiontrail/clickhouse';
import { parse as parseYaml } from 'yaml';
import {
  bool,
  byteSize,
  int,
  list,
  obj,
  oneOf,
  retentionPeriod,
  str,
  stringMap,
} from './config-validator.ts';
import { ConfigError, ProcessorError } from './errors.ts';
import type { ConfigIssue } from './errors.ts';

/** How content (prompts, inputs, outputs) is captured on audit spans. */
export type CaptureMode = 'hash' | 'redact' | 'full' | 'encrypt' | 'none';
const CAPTURE_MODES = ['hash', 'redact', 'full', 'encrypt', 'none'] as const;

/** The whole `decisiontrail.yaml`: the one file every component (instrumentation, serve, CLI) reads. */
export interface DecisionTrailConfig {
  storage: StorageConfig;
  /** Retention per `audit.retention.class`, in days; `null` keeps forever. */
  retention: {
    standard: number | null;
    highRisk: number | null;
    incident: number | null;
    permanent: number | null;
  };
  /** Default content capture of the instrumentation. */
  capture: { input: CaptureMode; output: CaptureMode };
  keys: KeysConfig;
  /** Exporter-side batching of the signing exporter. */
  batch: { maxSpans: number; flushIntervalMs: number };
  processor: ProcessorConfig;
  witnesses: WitnessesConfig;
}

/** One independent witness (C2SP tlog-witness) that cosigns the stored checkpoints. */
export interface WitnessConfig {
  /** The witness's name: the key name of its cosignature lines, e.g. `witness.example.org/w1`. */
  name: string;
  /** Its submission prefix (`<url>/add-checkpoint` is requested). */
  url: string;
  /** Its verifier key `<name>+<key id>+<base64(0x04 ‖ Ed25519 key)>` (litewitness prints it as `vkey`). */
  key: string;
}

/** Independent witnesses: `serve` submits each stream's newest stored checkpoint, `verify` checks their cosignatures. */
export interface WitnessesConfig {
  /** @default [] */
  list: WitnessConfig[];
  /** Distinct trusted witnesses whose cosignatures a stream's newest checkpoint needs. @default 1 with witnesses, else 0 */
  quorum: number;
  /** How often serve looks for checkpoints to submit. @default 5000 */
  intervalMs: number;
  /** One request to a witness, connection to last byte. @default 10000 */
  timeoutMs: number;
  /** Longest wait between attempts to a witness that fails (backoff doubles up to it). @default 300000 */
  retryMaxMs: number;
}

export interface StorageConfig {
  /**
   * Data directory of the embedded engine; used when `clickhouse.url` is unset.
   * @default './.decisiontrail/data'
   */
  dataDir: string;
  /** A ClickHouse server; when `url` is set it replaces the embedded engine. */
  clickhouse: { url: string | undefined; username: string; password: string; database: string };
}

export interface KeysConfig {
  /** @default './.decisiontrail/keys' */
  dir: string;
  /** Public key files (signed-note verifier keys) accepted by the verify stage; default: every `*.pub` in `dir`. */
  publicKeys: string[];
  /**
   * Witness file with the latest checkpoints kept outside the store: the signing exporter's and durable span
   * processor's default file, and the one `verify` checks truncation against.
   * @default '<dir>/checkpoints.witness.jsonl'
   */
  witness: string;
  /** HMAC key file (hex) used by the policy stage to hash plaintext attributes. @default '<dir>/hmac.key' */
  hmacKey: string;
}

/** What a credential may do: send spans, run read queries, record incidents and erasures, or everything. */
export type Scope = 'ingest' | 'read' | 'write' | 'admin';
/** Every {@link Scope}. */
export const SCOPES = ['ingest', 'read', 'write', 'admin'] as const;

/** A bearer token named in the config by where it is kept, never by its value. */
export interface BearerTokenSource {
  /** Names the token in messages (the secret itself is never logged or echoed). */
  name: string;
  /** What a request carrying this token may do; `admin` grants every scope. */
  scopes: Scope[];
  /** File holding the token (surrounding whitespace ignored); relative to the config file. Exactly one of `file`, `env`. */
  file: string | undefined;
  /** Environment variable holding the token. Exactly one of `file`, `env`. */
  env: string | undefined;
}

/** Scopes granted to a client certificate, matched by its subject common name. */
export interface ClientCertificateRule {
  /** The certificate's subject CN, or `*` for any certificate verified against `receiver.tls.clientCa`. */
  commonName: string;
  scopes: Scope[];
}

/** Who may call serve: every request needs a bearer token or a client certificate once either is configured. */
export interface AuthConfig {
  /** Accepted bearer tokens (`Authorization: Bearer <token>`). @default [] */
  tokens: BearerTokenSource[];
  /**
   * Scopes of client certificates verified against `processor.receiver.tls.clientCa`; the first rule whose
   * `commonName` matches applies, and a certificate no rule matches gets no scope.
   * @default [{ commonName: '*', scopes: ['admin'] }] — whoever holds a certificate from the client CA may do everything
   */
  clientCertificates: ClientCertificateRule[];
  /**
   * Lets serve bind a non-loopback address with no credential configured: anyone who reaches it may send
   * spans. Queries without a credential stay loopback-only. @default false
   */
  allowUnauthenticated: boolean;
}

/** TLS for the receiver and the query API (PEM files). */
export interface ReceiverTlsConfig {
  /** Server certificate chain. */
  cert: string;
  /** Private key of `cert`. */
  key: string;
  /** CA whose client certificates authenticate a request (mutual TLS); unset: no client certificates asked for. */
  clientCa: string | undefined;
  /** CA that issued `cert`, trusted by the CLI commands that talk to this serve. @default the system's CAs */
  ca: string | undefined;
}

export interface ProcessorConfig {
  receiver: {
    /** @default '127.0.0.1' — loopback unless an operator opens it deliberately. */
    host: string;
    /** @default 4318 */
    port: number;
    /** Largest request body, compressed or not. @default 4 MiB */
    maxBodyBytes: number;
    /** Requests decoded at once before 429. @default 64 */
    maxConcurrentRequests: number;
    /** HTTPS from these files; unset serves plain HTTP. @default undefined */
    tls: ReceiverTlsConfig | undefined;
    /**
     * Browser origins (`https://app.example:8443`) whose requests are answered, with CORS headers; a request
     * carrying any other `Origin` gets 403. @default [] — no browser requests, no CORS headers
     */
    allowedOrigins: string[];
    /**
     * Host names requests may address besides the bound address (and localhost, 127.0.0.1, ::1 and the
     * machine's addresses when bound to loopback or every interface); any other `Host` gets 421, which stops
     * DNS rebinding. `*` turns the check off (behind a proxy that checks it). @default []
     */
    allowedHosts: string[];
  };
  auth: AuthConfig;
  stages: {
    verify: {
      /** @default true */
      enabled: boolean;
      /** What to do with audit spans that carry no integrity attributes. @default 'accept' */
      unsigned: 'accept' | 'quarantine';
    };
    policy: {
      /** Attributes replaced by their HMAC-SHA-256 at receipt, before anything reaches disk. */
      hash: string[];
      /** Attributes whose value is replaced by a redaction marker at receipt, before anything reaches disk. */
      redact: string[];
      /**
       * A signed span carrying a hash/redact attribute cannot be changed without breaking its proof:
       * `quarantine` stores it in the quarantine with the attribute hashed/redacted, `keep` stores it unchanged.
       * @default 'quarantine'
       */
      signedPlaintext: 'quarantine' | 'keep';
    };
    completeness: {
      /** @default true */
      enabled: boolean;
    };
    route: {
      /** Where non-audit spans go. @default 'drop' */
      other: 'drop' | 'forward' | 'store';
      /** Where audit spans go besides the store. @default false */
      forwardAudit: boolean;
    };
  };
  queue: {
    /** Write-ahead log directory. @default '<storage.dataDir>/../queue' */
    dir: string;
    /** Size of one WAL segment file. @default 64 MiB */
    segmentBytes: number;
    /** Unsent bytes in the WAL above which the receiver answers 503. @default 1 GiB */
    maxBytes: number;
    /**
     * Spans per drained batch (and per ClickHouse insert). Each insert has a fixed cost in the engine
     * (new parts, every materialized view), so larger batches store more per second; smaller ones keep
     * each synchronous step of the drain shorter. @default 10000
     */
    drainBatchSpans: number;
    /** First retry delay after a sink failure; doubles to `retryMaxMs`. @default 200 */
    retryInitialMs: number;
    /** @default 30000 */
    retryMaxMs: number;
  };
  sinks: {
    clickhouse: { enabled: boolean };
    forward: { url: string | undefined; headers: Record<string, string>; timeoutMs: number };
  };
}

const DEFAULT_DATA_DIR = './.decisiontrail/data';
const DEFAULT_KEYS_DIR = './.decisiontrail/keys';

const schema = obj({
  storage: obj({
    dataDir: str({ nonEmpty: true }),
    clickhouse: obj({
      url: str({ nonEmpty: true }),
      username: str(),
      password: str(),
      database: str({ nonEmpty: true }),
    }),
  }),
  retention: obj({
    standard: retentionPeriod(),
    highRisk: retentionPeriod(),
    incident: retentionPeriod(),
    permanent: retentionPeriod(),
  }),
  capture: obj({ input: oneOf(CAPTURE_MODES), output: oneOf(CAPTURE_MODES) }),
  keys: obj({
    dir: str({ nonEmpty: true }),
    publicKeys: list(str({ nonEmpty: true })),
    witness: str({ nonEmpty: true }),
    hmacKey: str({ nonEmpty: true }),
  }),
  batch: obj({ maxSpans: int(1, 100_000), flushIntervalMs: int(1, 3_600_000) }),
  witnesses: obj({
    list: list(
      obj({ name: str({ nonEmpty: true }), url: str({ nonEmpty: true }), key: str({ nonEmpty: true }) }),
    ),
    quorum: int(0, 1000),
    intervalMs: int(10, 3_600_000),
    timeoutMs: int(10, 600_000),
    retryMaxMs: int(10, 86_400_000),
  }),
  processor: obj({
    receiver: obj({
      host: str({ nonEmpty: true }),
      port: int(0, 65_535),
      maxBodyBytes: byteSize(1024, 256 * 1024 ** 2),
      maxConcurrentRequests: int(1, 10_000),
      tls: obj({
        cert: str({ nonEmpty: true }),
        key: str({ nonEmpty: true }),
        clientCa: str({ nonEmpty: true }),
        ca: str({ nonEmpty: true }),
      }),
      allowedOrigins: list(str({ nonEmpty: true })),
      allowedHosts: list(str({ nonEmpty: true })),
    }),
    auth: obj({
      tokens: list(
        obj({
          name: str({ nonEmpty: true }),
          scopes: list(oneOf(SCOPES)),
          file: str({ nonEmpty: true }),
          env: str({ nonEmpty: true }),
        }),
      ),
      clientCertificates: list(obj({ commonName: str({ nonEmpty: true }), scopes: list(oneOf(SCOPES)) })),
      allowUnauthenticated: bool(),
    }),
    stages: obj({
      verify: obj({ enabled: bool(), unsigned: oneOf(['accept', 'quarantine']) }),
      policy: obj({
        hash: list(str({ nonEmpty: true })),
        redact: list(str({ nonEmpty: true })),
        signedPlaintext: oneOf(['quarantine', 'keep']),
      }),
      completeness: obj({ enabled: bool() }),
      route: obj({ other: oneOf(['drop', 'forward', 'store']), forwardAudit: bool() }),
    }),
    queue: obj({
      dir: str({ nonEmpty: true }),
      segmentBytes: byteSize(64 * 1024, 4 * 1024 ** 3),
      maxBytes: byteSize(1024 ** 2, 2 ** 50),
      drainBatchSpans: int(1, 1_000_000),
      retryInitialMs: int(1, 3_600_000),
      retryMaxMs: int(1, 3_600_000),
    }),
    sinks: obj({
      clickhouse: obj({ enabled: bool() }),
      forward: obj({ url: str({ nonEmpty: true }), headers: stringMap(), timeoutMs: int(1, 600_000) }),
    }),
  }),
});

/**
 * Environment variables that override the file, applied before validation so a bad value is reported
 * under the variable's name. Documented in the package README.
 */
export const CONFIG_ENV_OVERRIDES: Readonly<Record<string, string>> = {
  DECISIONTRAIL_DATA_DIR: 'storage.dataDir',
  DECISIONTRAIL_CLICKHOUSE_URL: 'storage.clickhouse.url',
  DECISIONTRAIL_CLICKHOUSE_USER: 'storage.clickhouse.username',
  DECISIONTRAIL_CLICKHOUSE_PASSWORD: 'storage.clickhouse.password',
  DECISIONTRAIL_CLICKHOUSE_DATABASE: 'storage.clickhouse.database',
  DECISIONTRAIL_KEYS_DIR: 'keys.dir',
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

/**
 * Parses and validates `decisiontrail.yaml` text, applies environment overrides and every default in one place.
 * @throws ConfigError naming each unknown key or bad value by its path.
 */
export function parseConfig(text: string, options: ParseConfigOptions = {}): DecisionTrailConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
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
  const overridden = structuredClone(raw) as Record<string, unknown>;
  for (const [variable, keyPath] of Object.entries(CONFIG_ENV_OVERRIDES)) {
    const value = env[variable];
    if (value !== undefined && value !== '') setPath(overridden, keyPath, value);
  }
  const issues: ConfigIssue[] = [];
  const parsed = schema(overridden, '', issues);
  if (issues.length > 0 || parsed === undefined) {
    // Name the variable when the bad value came from the environment.
    const named = issues.map((issue) => {
      const variable = Object.entries(CONFIG_ENV_OVERRIDES).find(
        ([v, p]) => p === issue.path && env[v] !== undefined && env[v] !== '',
      )?.[0];
      return variable === undefined ? issue : { ...issue, message: `${issue.message} (from ${variable})` };
    });
    throw new ConfigError(named, options.source);
  }
  return applyDefaults(parsed, options.baseDir ?? process.cwd());
}

type ParsedConfig = NonNullable<ReturnType<typeof schema>>;

function applyDefaults(c: ParsedConfig, baseDir: string): DecisionTrailConfig {
  const resolve = (p: string): string => path.resolve(baseDir, p);
  const dataDir = resolve(c.storage?.dataDir ?? DEFAULT_DATA_DIR);
  const keysDir = resolve(c.keys?.dir ?? DEFAULT_KEYS_DIR);
  const p = c.processor ?? {};
  const s = p.stages ?? {};
  const issues: ConfigIssue[] = [];
  const retryInitialMs = p.queue?.retryInitialMs ?? 200;
  const retryMaxMs = p.queue?.retryMaxMs ?? 30_000;
  if (retryMaxMs < retryInitialMs) {
    issues.push({
      path: 'processor.queue.retryMaxMs',
      message: 'must not be below processor.queue.retryInitialMs',
    });
  }
  const forwardUrl = p.sinks?.forward?.url;
  if (forwardUrl !== undefined && !URL.canParse(forwardUrl)) {
    issues.push({ path: 'processor.sinks.forward.url', message: `not a URL: ${JSON.stringify(forwardUrl)}` });
  }
  const clickhouseUrl = c.storage?.clickhouse?.url;
  if (clickhouseUrl !== undefined && !URL.canParse(clickhouseUrl)) {
    issues.push({ path: 'storage.clickhouse.url', message: `not a URL: ${JSON.stringify(clickhouseUrl)}` });
  }
  const other = s.route?.other ?? 'drop';
  const forwardAudit = s.route?.forwardAudit ?? false;
  if ((other === 'forward' || forwardAudit) && forwardUrl === undefined) {
    issues.push({
      path: 'processor.sinks.forward.url',
      message: 'required when the route stage forwards spans',
    });
  }
  const witnesses = witnessDefaults(c.witnesses ?? {}, issues);
  const receiver = receiverDefaults(p.receiver ?? {}, resolve, issues);
  const auth = authDefaults(p.auth ?? {}, receiver.tls, resolve, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    storage: {
      dataDir,
      clickhouse: {
        url: clickhouseUrl,
        username: c.storage?.clickhouse?.username ?? 'default',
        password: c.storage?.clickhouse?.password ?? '',
        database: c.storage?.clickhouse?.database ?? 'default',
      },
    },
    retention: {
      // The store's defaults, so a report says the same days whether serve or the CLI opened the store.
      standard: c.retention?.standard === undefined ? DEFAULT_RETENTION.standard : c.retention.standard,
      highRisk: c.retention?.highRisk === undefined ? DEFAULT_RETENTION.high_risk : c.retention.highRisk,
      incident: c.retention?.incident === undefined ? DEFAULT_RETENTION.incident : c.retention.incident,
      permanent: c.retention?.permanent === undefined ? DEFAULT_RETENTION.permanent : c.retention.permanent,
    },
    capture: { input: c.capture?.input ?? 'hash', output: c.capture?.output ?? 'hash' },
    keys: {
      dir: keysDir,
      publicKeys: (c.keys?.publicKeys ?? []).map(resolve),
      witness:
        c.keys?.witness === undefined ? path.join(keysDir, WITNESS_FILE_NAME) : resolve(c.keys.witness),
      hmacKey: c.keys?.hmacKey === undefined ? path.join(keysDir, 'hmac.key') : resolve(c.keys.hmacKey),
    },
    batch: { maxSpans: c.batch?.maxSpans ?? 512, flushIntervalMs: c.batch?.flushIntervalMs ?? 1000 },
    witnesses,
    processor: {
      receiver,
      auth,
      stages: {
        verify: { enabled: s.verify?.enabled ?? true, unsigned: s.verify?.unsigned ?? 'accept' },
        policy: {
          hash: s.policy?.hash ?? [],
          redact: s.policy?.redact ?? [],
          signedPlaintext: s.policy?.signedPlaintext ?? 'quarantine',
        },
        completeness: { enabled: s.completeness?.enabled ?? true },
        route: { other, forwardAudit },
      },
      queue: {
        dir: p.queue?.dir === undefined ? path.join(path.dirname(dataDir), 'queue') : resolve(p.queue.dir),
        segmentBytes: p.queue?.segmentBytes ?? 64 * 1024 ** 2,
        maxBytes: p.queue?.maxBytes ?? 1024 ** 3,
        drainBatchSpans: p.queue?.drainBatchSpans ?? 10_000,
        retryInitialMs,
        retryMaxMs,
      },
      sinks: {
        clickhouse: { enabled: p.sinks?.clickhouse?.enabled ?? true },
        forward: {
          url: forwardUrl,
          headers: p.sinks?.forward?.headers ?? {},
          timeoutMs: p.sinks?.forward?.timeoutMs ?? 10_000,
        },
      },
    },
  };
}

/** Each witness needs a URL and a cosignature key whose name is the witness's name; the quorum must be reachable. */
function witnessDefaults(w: NonNullable<ParsedConfig['witnesses']>, issues: ConfigIssue[]): WitnessesConfig {
  const entries = (w.list ?? []).map((entry, i) => {
    const at = `witnesses.list.${i}`;
    const { name = '', url = '', key = '' } = entry;
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
    return { name, url, key };
  });
  const names = entries.map((e) => e.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i)
      issues.push({ path: `witnesses.list.${i}.name`, message: `${name} is listed twice` });
  });
  const quorum = w.quorum ?? Math.min(1, entries.length);
  if (quorum > entries.length)
    issues.push({
      path: 'witnesses.quorum',
      message: `${quorum} is more than the ${entries.length} witness(es) listed`,
    });
  return {
    list: entries,
    quorum,
    intervalMs: w.intervalMs ?? 5000,
    timeoutMs: w.timeoutMs ?? 10_000,
    retryMaxMs: w.retryMaxMs ?? 300_000,
  };
}

type ParsedProcessor = NonNullable<ParsedConfig['processor']>;

function receiverDefaults(
  r: NonNullable<ParsedProcessor['receiver']>,
  resolve: (p: string) => string,
  issues: ConfigIssue[],
): ProcessorConfig['receiver'] {
  let tls: ReceiverTlsConfig | undefined;
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
  const allowedOrigins = (r.allowedOrigins ?? []).map((origin, i) => {
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
  const allowedHosts = (r.allowedHosts ?? []).map((host, i) => {
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
  return {
    host: r.host ?? '127.0.0.1',
    port: r.port ?? 4318,
    maxBodyBytes: r.maxBodyBytes ?? 4 * 1024 ** 2,
    maxConcurrentRequests: r.maxConcurrentRequests ?? 64,
    tls,
    allowedOrigins,
    allowedHosts,
  };
}

function authDefaults(
  a: NonNullable<ParsedProcessor['auth']>,
  tls: ReceiverTlsConfig | undefined,
  resolve: (p: string) => string,
  issues: ConfigIssue[],
): AuthConfig {
  const names = new Set<string>();
  const tokens: BearerTokenSource[] = [];
  (a.tokens ?? []).forEach((t, i) => {
    const at = `processor.auth.tokens[${i}]`;
    if (t.name === undefined) issues.push({ path: `${at}.name`, message: 'required' });
    else if (names.has(t.name))
      issues.push({ path: `${at}.name`, message: `${JSON.stringify(t.name)} is used twice` });
    else names.add(t.name);
    if (t.scopes === undefined || t.scopes.length === 0)
      issues.push({ path: `${at}.scopes`, message: `required: one or more of ${SCOPES.join(', ')}` });
    if ((t.file === undefined) === (t.env === undefined))
      issues.push({ path: at, message: 'set exactly one of file and env (a token is never written inline)' });
    tokens.push({
      name: t.name ?? `#${i}`,
      scopes: t.scopes ?? [],
      file: t.file === undefined ? undefined : resolve(t.file),
      env: t.file === undefined ? t.env : undefined,
    });
  });
  const clientCertificates = (a.clientCertificates ?? [{ commonName: '*', scopes: ['admin'] }]).map(
    (rule, i) => {
      const at = `processor.auth.clientCertificates[${i}]`;
      if (rule.commonName === undefined) issues.push({ path: `${at}.commonName`, message: 'required' });
      if (rule.scopes === undefined || rule.scopes.length === 0)
        issues.push({ path: `${at}.scopes`, message: `required: one or more of ${SCOPES.join(', ')}` });
      return { commonName: rule.commonName ?? '', scopes: rule.scopes ?? [] };
    },
  );
  if (a.clientCertificates !== undefined && tls?.clientCa === undefined) {
    issues.push({
      path: 'processor.auth.clientCertificates',
      message: 'needs processor.receiver.tls.clientCa (the CA that issues client certificates)',
    });
  }
  return { tokens, clientCertificates, allowUnauthenticated: a.allowUnauthenticated ?? false };
}

/** The configuration with nothing set: every default, paths relative to `baseDir`. */
export function defaultConfig(options: Omit<ParseConfigOptions, 'source'> = {}): DecisionTrailConfig {
  return parseConfig('{}', options);
}

/**
 * Reads `decisiontrail.yaml` (relative paths resolve against its directory) and validates it.
 * @throws ConfigError when invalid; ProcessorError `CONFIG_UNREADABLE` when the file cannot be read.
 */
export async function loadConfig(
  file: string,
  options: Omit<ParseConfigOptions, 'baseDir' | 'source'> = {},
): Promise<DecisionTrailConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ProcessorError(
      'CONFIG_UNREADABLE',
      `cannot read config file ${file}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return parseConfig(text, { ...options, baseDir: path.dirname(path.resolve(file)), source: file });
}
