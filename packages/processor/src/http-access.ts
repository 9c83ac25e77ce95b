import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import type { TLSSocket } from 'node:tls';
import type { AuthConfig, ProcessorConfig, Scope } from './config.ts';
import { BearerTokenSet, grants, loadBearerTokens } from './credentials.ts';
import { ProcessorError } from './errors.ts';

/** Why a request is refused before its endpoint looks at it; each endpoint renders it in its own format. */
export interface AccessDenial {
  status: 401 | 403 | 421;
  /** Stable code for JSON error bodies. */
  code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'MISDIRECTED';
  message: string;
  headers: Record<string, string>;
}

/** What an endpoint needs from a request's credential. */
export interface AccessNeed {
  /** The scope required once authentication is configured; undefined: no credential needed (health probes). */
  scope: Scope | undefined;
  /**
   * Without authentication configured: whether any client may call (OTLP, metrics) rather than loopback
   * clients only (queries).
   */
  openWithoutAuth: boolean;
}

const REALM = 'Bearer realm="decisiontrail"';

/** Whether a bind address is loopback (the default: nothing outside this machine can connect). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '';
}

/** The host name of a `Host` header: no port, no brackets, no trailing dot, lower case. */
export function hostHeaderName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end < 0 ? undefined : value.slice(1, end);
  }
  const colon = value.indexOf(':');
  const name = (colon < 0 ? value : value.slice(0, colon)).replace(/\.$/, '');
  return name === '' ? undefined : name;
}

/** The names a server bound to `host` answers to: what `Host` may say. Undefined: any (the check is off). */
export function servedHostNames(host: string, allowedHosts: readonly string[]): Set<string> | undefined {
  if (allowedHosts.includes('*')) return undefined;
  const names = new Set(allowedHosts);
  const bound = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (isWildcardHost(host) || isLoopbackHost(host)) {
    for (const name of ['localhost', '127.0.0.1', '::1']) names.add(name);
  }
  if (isWildcardHost(host)) {
    // Every interface is bound: every address of this machine is a name it answers to.
    names.add(os.hostname().toLowerCase());
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const address of addresses ?? []) names.add(address.address.toLowerCase());
    }
  } else {
    names.add(bound);
  }
  return names;
}

function peerIsLoopback(address: string | undefined): boolean {
  return address !== undefined && isLoopbackHost(address);
}

function commonNameOf(socket: TLSSocket): string | undefined {
  const cn = (socket.getPeerCertificate().subject as Record<string, string | string[]> | undefined)?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/**
 * Every request's first checks, shared by the OTLP receiver and the query API: the `Host` it names (DNS
 * rebinding), the `Origin` a browser sends, then its credential (a bearer token, else a client certificate
 * verified against `receiver.tls.clientCa`) and that credential's scopes.
 */
export class HttpAccess {
  readonly #tokens: BearerTokenSet;
  readonly #auth: AuthConfig;
  readonly #mutualTls: boolean;
  readonly #hosts: Set<string> | undefined;
  readonly #origins: Set<string>;

  private constructor(config: ProcessorConfig, tokens: BearerTokenSet) {
    this.#tokens = tokens;
    this.#auth = config.auth;
    this.#mutualTls = config.receiver.tls?.clientCa !== undefined;
    this.#hosts = servedHostNames(config.receiver.host, config.receiver.allowedHosts);
    this.#origins = new Set(config.receiver.allowedOrigins);
  }

  /**
   * Reads the configured tokens and refuses an unsafe setup: a non-loopback bind with no credential
   * configured, unless `auth.allowUnauthenticated` says so.
   * @throws ProcessorError `CONFIG_INVALID` (unreadable token) or `UNSAFE_BIND`.
   */
  static async create(
    config: ProcessorConfig,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ): Promise<HttpAccess> {
    const access = new HttpAccess(config, new BearerTokenSet(await loadBearerTokens(config.auth, env)));
    if (!access.authenticates && !isLoopbackHost(config.receiver.host) && !config.auth.allowUnauthenticated) {
      throw new ProcessorError(
        'UNSAFE_BIND',
        `refusing to listen on ${config.receiver.host} without authentication: anyone who reaches it could ` +
          'send spans. Configure processor.auth.tokens (or processor.receiver.tls.clientCa), bind 127.0.0.1, ' +
          'or accept the risk with processor.auth.allowUnauthenticated (serve --insecure-no-auth)',
      );
    }
    return access;
  }

  /** Whether requests must carry a credential (a token or a client CA is configured). */
  get authenticates(): boolean {
    return this.#tokens.size > 0 || this.#mutualTls;
  }

  /** The checks of {@link AccessNeed} for one request; undefined when it may proceed. */
  check(req: IncomingMessage, need: AccessNeed): AccessDenial | undefined {
    return this.screen(req) ?? this.#authorize(req, need);
  }

  /** `Host` and `Origin` only: what even a health probe or a CORS preflight must pass. */
  screen(req: IncomingMessage): AccessDenial | undefined {
    if (this.#hosts !== undefined) {
      const name = hostHeaderName(req.headers.host);
      if (name === undefined || !this.#hosts.has(name)) {
        return {
          status: 421,
          code: 'MISDIRECTED',
          message: 'this server does not answer to the host the request names',
          headers: {},
        };
      }
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#origins.has(origin)) {
      return {
        status: 403,
        code: 'FORBIDDEN',
        message: 'cross-origin requests are refused (processor.receiver.allowedOrigins)',
        headers: {},
      };
    }
    return undefined;
  }

  #authorize(req: IncomingMessage, need: AccessNeed): AccessDenial | undefined {
    if (need.scope === undefined) return undefined;
    if (!this.authenticates) {
      if (need.openWithoutAuth || peerIsLoopback(req.socket.remoteAddress)) return undefined;
      return {
        status: 403,
        code: 'FORBIDDEN',
        message: 'without authentication configured this endpoint answers loopback clients only',
        headers: {},
      };
    }
    const scopes = this.#scopesOf(req);
    if (scopes === 'invalid') {
      return {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: 'the bearer token is not valid',
        headers: { 'www-authenticate': `${REALM}, error="invalid_token"` },
      };
    }
    if (scopes === undefined) {
      return {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: 'a bearer token or client certificate is required',
        headers: { 'www-authenticate': REALM },
      };
    }
    if (!grants(scopes, need.scope)) {
      return {
        status: 403,
        code: 'FORBIDDEN',
        message: `the credential lacks the ${need.scope} scope`,
        headers: { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="${need.scope}"` },
      };
    }
    return undefined;
  }

  #scopesOf(req: IncomingMessage): readonly Scope[] | 'invalid' | undefined {
    const header = req.headers.authorization;
    if (header !== undefined && /^bearer /i.test(header)) {
      return this.#tokens.scopesOf(header.slice(7).trim()) ?? 'invalid';
    }
    const socket = req.socket as TLSSocket;
    if (this.#mutualTls && socket.encrypted && socket.authorized) {
      const cn = commonNameOf(socket);
      const rule = this.#auth.clientCertificates.find(
        (r) => r.commonName === '*' || (cn !== undefined && r.commonName === cn),
      );
      return rule?.scopes ?? [];
    }
    return undefined;
  }

  /**
   * For a request from an allowed origin: its CORS headers on the response, and the answer to its preflight
   * (`OPTIONS`). Returns true when the request was a preflight and has been answered.
   */
  answerCors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || this.screen(req) !== undefined) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    if (req.method !== 'OPTIONS') return false;
    res
      .writeHead(204, {
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'authorization, content-type, content-encoding',
        'access-control-max-age': '600',
      })
      .end();
    return true;
  }
}
