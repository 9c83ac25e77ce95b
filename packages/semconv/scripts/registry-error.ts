/** One problem found in the registry, located by file and by the attribute, group or span it concerns. */
export interface RegistryIssue {
  /** Registry file, relative to the registry directory. */
  readonly file: string;
  /** What the issue is about, such as `attribute 'audit.decision.id'` or `span 'audit.oversight'`. */
  readonly subject: string;
  readonly message: string;
}

/** Thrown when the registry cannot be read or is invalid; the message lists every issue, one per line. */
export class RegistryError extends Error {
  readonly code = 'SEMCONV_INVALID_REGISTRY';
  readonly issues: readonly RegistryIssue[];

  constructor(issues: readonly RegistryIssue[]) {
    super(
      `invalid semantic-convention registry (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n` +
        issues.map(formatIssue).join('\n'),
    );
    this.name = 'RegistryError';
    this.issues = issues;
  }
}

/** Formats an issue as `file: subject: message`. */
export function formatIssue(issue: RegistryIssue): string {
  return issue.subject === ''
    ? `${issue.file}: ${issue.message}`
    : `${issue.file}: ${issue.subject}: ${issue.message}`;
}
