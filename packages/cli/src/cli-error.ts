import { EXIT_CODES, type ExitCode } from './exit-codes.ts';

/** Stable error codes of the CLI; each maps to one exit code. */
export type CliErrorCode =
  | 'USAGE'
  | 'NOT_FOUND'
  | 'STORE_MISSING'
  | 'STORE_UNREACHABLE'
  | 'STORE_EMPTY'
  | 'KEY'
  | 'CONFIG'
  | 'FILE'
  | 'INTEGRITY';

const EXIT_CODE_OF: Record<CliErrorCode, ExitCode> = {
  USAGE: EXIT_CODES.USAGE,
  NOT_FOUND: EXIT_CODES.NOT_FOUND,
  STORE_MISSING: EXIT_CODES.STORE,
  STORE_UNREACHABLE: EXIT_CODES.STORE,
  STORE_EMPTY: EXIT_CODES.STORE,
  KEY: EXIT_CODES.KEY,
  CONFIG: EXIT_CODES.CONFIG,
  FILE: EXIT_CODES.FILE,
  INTEGRITY: EXIT_CODES.INTEGRITY,
};

/**
 * An error the user can act on. `runCli` prints its message as one line on stderr and exits with its exit code;
 * the message must say what was wrong and, where it helps, what to do instead.
 */
export class CliError extends Error {
  /** Stable machine-readable code. */
  readonly code: CliErrorCode;
  /** The process exit code this error maps to. */
  readonly exitCode: ExitCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = EXIT_CODE_OF[code];
  }
}

/** Shorthand for the most common error: a bad command line. */
export function usageError(message: string): CliError {
  return new CliError('USAGE', message);
}
