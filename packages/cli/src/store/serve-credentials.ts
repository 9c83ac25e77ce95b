import { readFile } from 'node:fs/promises';
import type { Scope } from '@decisiontrail/processor';
import { CliError } from '../cli-error.ts';
import type { ResolvedSettings } from '../settings.ts';

/** How the CLI authenticates to a running serve and which CA it trusts for serve's certificate. */
export interface ServeCredentials {
  /** Sent as `Authorization: Bearer …`; never printed. */
  token: string | undefined;
  /** PEM of `processor.receiver.tls.ca`; undefined trusts the system's CAs. */
  ca: Buffer | undefined;
}

/** Token environment variables the CLI reads before the config's tokens, documented in the CLI README. */
export const TOKEN_ENV = 'DECISIONTRAIL_TOKEN';
export const TOKEN_FILE_ENV = 'DECISIONTRAIL_TOKEN_FILE';

// The CLI both reads and writes (incident, erase), so it prefers the token that covers most of that.
function rank(scopes: readonly Scope[]): number {
  if (scopes.includes('admin')) return 3;
  if (scopes.includes('read') && scopes.includes('write')) return 2;
  return scopes.includes('read') || scopes.includes('write') ? 1 : 0;
}

/**
 * The credential for serve's query endpoint: `DECISIONTRAIL_TOKEN`, else the file `DECISIONTRAIL_TOKEN_FILE`
 * names, else the readable token of `processor.auth.tokens` with the widest query scopes (the same file or
 * variable serve reads, through the processor's own loader). No token at all is fine: a serve without
 * authentication answers loopback clients.
 */
export async function resolveServeCredentials(settings: ResolvedSettings): Promise<ServeCredentials> {
  const { env, config } = settings;
  const tls = config.processor.receiver.tls;
  let ca: Buffer | undefined;
  if (tls?.ca !== undefined) {
    try {
      ca = await readFile(tls.ca);
    } catch (cause) {
      throw new CliError('STORE_UNREACHABLE', `cannot read processor.receiver.tls.ca ${tls.ca}`, { cause });
    }
  }
  const direct = env[TOKEN_ENV]?.trim();
  if (direct !== undefined && direct !== '') return { token: direct, ca };
  const file = env[TOKEN_FILE_ENV];
  if (file !== undefined && file !== '') {
    try {
      return { token: (await readFile(file, 'utf8')).trim(), ca };
    } catch (cause) {
      throw new CliError('USAGE', `cannot read ${TOKEN_FILE_ENV} ${file}`, { cause });
    }
  }
  const { loadBearerTokens } = await import('@decisiontrail/processor');
  let best: { token: string; rank: number } | undefined;
  for (const source of config.processor.auth.tokens) {
    const r = rank(source.scopes);
    if (r === 0 || (best !== undefined && best.rank >= r)) continue;
    // A token this user cannot read (another user's secret file) is skipped, not an error.
    const loaded = await loadBearerTokens({ ...config.processor.auth, tokens: [source] }, env).catch(
      () => [],
    );
    if (loaded[0] !== undefined) best = { token: loaded[0].secret, rank: r };
  }
  return { token: best?.token, ca };
}
