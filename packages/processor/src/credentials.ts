import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AuthConfig, BearerTokenSource, Scope } from './config.ts';
import { ProcessorError } from './errors.ts';

/** Shortest bearer token accepted: a guessable secret makes authentication decorative. */
export const MIN_TOKEN_LENGTH = 16;

/** A bearer token read from its file or environment variable. */
export interface LoadedToken {
  /** The token's `name` from the config, for messages (never the secret). */
  name: string;
  scopes: readonly Scope[];
  secret: string;
}

function describeSource(source: BearerTokenSource): string {
  return source.file !== undefined ? `file ${source.file}` : `environment variable ${source.env}`;
}

/**
 * Reads every configured bearer token. Errors name the token and where it was looked for, never its value.
 * @throws ProcessorError `CONFIG_INVALID` when a token cannot be read, is empty or is too short.
 */
export async function loadBearerTokens(
  auth: AuthConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<LoadedToken[]> {
  const loaded: LoadedToken[] = [];
  for (const source of auth.tokens) {
    let secret: string | undefined;
    if (source.file !== undefined) {
      try {
        secret = (await readFile(source.file, 'utf8')).trim();
      } catch (cause) {
        throw new ProcessorError(
          'CONFIG_INVALID',
          `processor.auth token ${JSON.stringify(source.name)}: cannot read ${describeSource(source)}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`,
          { cause },
        );
      }
    } else {
      secret = env[source.env!]?.trim();
    }
    if (secret === undefined || secret.length < MIN_TOKEN_LENGTH || /\s/.test(secret)) {
      throw new ProcessorError(
        'CONFIG_INVALID',
        `processor.auth token ${JSON.stringify(source.name)}: ${describeSource(source)} must hold a token of at least ${MIN_TOKEN_LENGTH} characters without spaces`,
      );
    }
    loaded.push({ name: source.name, scopes: source.scopes, secret });
  }
  return loaded;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The configured tokens, kept only as SHA-256 digests. A presented token is hashed and compared with every
 * digest by `timingSafeEqual`: hashing first makes both sides the same length, so neither the comparison
 * time nor an early length mismatch tells a caller how much of a guess was right.
 */
export class BearerTokenSet {
  readonly #entries: { digest: Buffer; scopes: readonly Scope[] }[];

  constructor(tokens: readonly LoadedToken[]) {
    this.#entries = tokens.map((token) => ({ digest: digest(token.secret), scopes: token.scopes }));
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The scopes of the token, or undefined when it matches none; compares against every entry. */
  scopesOf(presented: string): readonly Scope[] | undefined {
    const candidate = digest(presented);
    let found: readonly Scope[] | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(candidate, entry.digest) && found === undefined) found = entry.scopes;
    }
    return found;
  }
}

/** Whether `scopes` grant `needed` (`admin` grants every scope). */
export function grants(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes(needed) || scopes.includes('admin');
}
