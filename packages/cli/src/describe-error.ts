import { CliError } from './cli-error.ts';
import { EXIT_CODES, type ExitCode } from './exit-codes.ts';

/** A failure reduced to what the user sees: one line and an exit code. */
export interface DescribedError {
  message: string;
  exitCode: ExitCode;
}

const FILE_ERRNO = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EPERM', 'EEXIST', 'ENOSPC', 'EROFS']);

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/**
 * Maps errors from this package and the packages below it to one line and a documented exit code. Sibling packages
 * throw typed errors with a stable `code`; the code's family decides the exit code, so a new code in a sibling
 * lands in the right class without a change here.
 */
export function describeError(error: unknown): DescribedError {
  if (error instanceof CliError) return { message: firstLine(error.message), exitCode: error.exitCode };
  if (!(error instanceof Error))
    return { message: `internal error: ${String(error)}`, exitCode: EXIT_CODES.INTERNAL };
  const code =
    typeof (error as { code?: unknown }).code === 'string' ? (error as unknown as { code: string }).code : '';
  const message = firstLine(error.message);
  if (error.name === 'StoreError') {
    // StoreError codes of @decisiontrail/clickhouse: bad arguments are usage errors, NOT_FOUND an unknown id,
    // everything else (connection, migration, query failures) a store problem.
    if (code === 'INVALID_ARGUMENT') return { message, exitCode: EXIT_CODES.USAGE };
    if (code === 'NOT_FOUND') return { message, exitCode: EXIT_CODES.NOT_FOUND };
    return { message: `store: ${message}`, exitCode: EXIT_CODES.STORE };
  }
  if (code.startsWith('CONFIG')) return { message, exitCode: EXIT_CODES.CONFIG };
  if (code.includes('KEY')) return { message, exitCode: EXIT_CODES.KEY };
  if (code.endsWith('NOT_FOUND') && !code.startsWith('ERR_'))
    return { message, exitCode: EXIT_CODES.NOT_FOUND };
  if (FILE_ERRNO.has(code)) {
    const path = (error as { path?: string }).path;
    return { message: `${path ?? 'file'}: ${describeErrno(code)}`, exitCode: EXIT_CODES.FILE };
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    return { message: `cannot reach the store: ${message}`, exitCode: EXIT_CODES.STORE };
  }
  return { message: `internal error: ${message}`, exitCode: EXIT_CODES.INTERNAL };
}

function describeErrno(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'not a directory';
    case 'EEXIST':
      return 'already exists';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return 'read-only file system';
  }
}
