import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Incident } from '@decisiontrail/clickhouse';
import { STORE_QUERY_NAMES, reviveStoreQueryResult } from '@decisiontrail/core';
import { CliError } from '../cli-error.ts';
import type { AuditBackend, AuditQueries, StoreQueryName } from './audit-backend.ts';
import type { ServeCredentials } from './serve-credentials.ts';
import type { ServeState } from './serve-state.ts';

interface QueryErrorBody {
  error?: { code?: string; message?: string };
}

/**
 * The store reached through the query endpoint of a running `decisiontrail serve`: `POST <url>/v1/query/<name>` with
 * the Store method's argument as JSON, `{ result }` back (CONTRACTS.md). Used whenever serve holds the embedded
 * store, because the engine binds its data directory to one process.
 */
class ServeBackend implements AuditBackend {
  readonly via: string;
  readonly queries: AuditQueries;
  readonly #url: string;
  readonly #credentials: ServeCredentials;

  constructor(state: ServeState, credentials: ServeCredentials) {
    this.#url = state.url.replace(/\/+$/, '');
    this.#credentials = credentials;
    this.via = `decisiontrail serve (pid ${state.pid}, ${this.#url})`;
    // Every query is one POST with the Store method's argument as JSON; its dates come back as the table says.
    const call = (name: StoreQueryName) => async (params: unknown) =>
      reviveStoreQueryResult(name, await this.#query(name, params));
    this.queries = {
      // A JSON boundary: what serve returns is the Store method's result, as STORE_QUERIES describes it.
      ...(Object.fromEntries(STORE_QUERY_NAMES.map((name) => [name, call(name)])) as unknown as AuditQueries),
      // The endpoint answers an unknown incident with NOT_FOUND; the Store method returns null.
      getIncident: async (incidentId) => {
        try {
          return (await call('getIncident')({ incidentId })) as Incident;
        } catch (error) {
          if (error instanceof CliError && error.code === 'NOT_FOUND') return null;
          throw error;
        }
      },
      // updateIncident takes two arguments; the endpoint receives them as one object.
      updateIncident: async (incidentId, update) =>
        (await call('updateIncident')({ incidentId, ...update })) as Incident,
    };
  }

  /**
   * One POST over HTTP, or HTTPS trusting the configured CA (fetch takes no CA of its own).
   *
   * Node's default agent keeps connections alive, and serve closes one that stayed idle for its keep-alive
   * timeout. When this process was busy past that timeout (verify between two slices, a command on a loaded
   * machine), it has not yet seen the close and sends the next query on the dead connection, which is reset.
   * serve never read that request (it only closes connections with no request in progress), so a reset on a
   * reused connection is retried once, on a new one. A reset on a new connection is an error, as is anything
   * else.
   */
  #post(url: URL, body: string): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    };
    if (this.#credentials.token !== undefined) headers.authorization = `Bearer ${this.#credentials.token}`;
    const https = url.protocol === 'https:';
    const options = {
      method: 'POST',
      headers,
      ...(https && this.#credentials.ca ? { ca: this.#credentials.ca } : {}),
    };
    const attempt = (retried: boolean): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          const stale = req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
          if (stale && !retried) resolve(attempt(true));
          else reject(error);
        });
        req.end(body);
      });
    return attempt(false);
  }

  async #query(name: StoreQueryName, params: unknown): Promise<unknown> {
    let response: { status: number; text: string };
    try {
      response = await this.#post(new URL(`${this.#url}/v1/query/${name}`), JSON.stringify(params ?? {}));
    } catch (cause) {
      throw new CliError('STORE_UNREACHABLE', `cannot reach ${this.via}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const { text } = response;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new CliError(
        'STORE_UNREACHABLE',
        `${this.via} answered HTTP ${response.status} with a body that is not JSON`,
      );
    }
    if (response.status < 200 || response.status > 299) {
      const error = (body as QueryErrorBody).error;
      const message = (error?.message ?? `query ${name} failed with HTTP ${response.status}`).split('\n')[0]!;
      if (error?.code === 'NOT_FOUND') throw new CliError('NOT_FOUND', message);
      if (error?.code === 'QUERY_INVALID' || error?.code === 'INVALID_ARGUMENT')
        throw new CliError('USAGE', message);
      if (response.status === 401 || response.status === 403) {
        const hint =
          this.#credentials.token === undefined
            ? 'set DECISIONTRAIL_TOKEN or DECISIONTRAIL_TOKEN_FILE to a token with the read (and write) scope'
            : 'the token sent (from DECISIONTRAIL_TOKEN, DECISIONTRAIL_TOKEN_FILE or processor.auth.tokens) is refused';
        throw new CliError('STORE_UNREACHABLE', `${this.via}: ${message}; ${hint}`);
      }
      throw new CliError('STORE_UNREACHABLE', `${this.via}: ${message}`);
    }
    return (body as { result: unknown }).result;
  }

  async close(): Promise<void> {
    // Nothing is held between queries: each is one HTTP request.
  }
}

/** Connects to the serve that holds the store, with the token and CA of {@link ServeCredentials}. */
export function openServeBackend(state: ServeState, credentials: ServeCredentials): AuditBackend {
  return new ServeBackend(state, credentials);
}
