/**
 * Exit codes of the `decisiontrail` command. They are a public contract: scripts and CI jobs branch on them, the
 * README documents them, and `decisiontrail --help` prints this table.
 */
export const EXIT_CODES = {
  /** The command did what was asked; for `verify` and `verify-bundle`: everything checked is intact. */
  OK: 0,
  /**
   * Verification ran and found problems (tampering, missing or forged spans, bad checkpoints or proofs); for
   * `timeline`: a shown entry failed its read-time check; for `reproduce --model`: the re-run gave another outcome
   * than the recorded one.
   */
  INTEGRITY: 1,
  /** The command line is wrong: unknown command or option, missing argument, malformed time or value. */
  USAGE: 2,
  /** An id that was asked for does not exist: decision, trace, incident, subject, model (version) or stream. */
  NOT_FOUND: 3,
  /** The store is missing, empty (no schema: run `decisiontrail migrate`) or unreachable. */
  STORE: 4,
  /** A key file is missing, unreadable, of the wrong type, or would be overwritten. */
  KEY: 5,
  /** The configuration (decisiontrail.yaml or environment) is invalid. */
  CONFIG: 6,
  /** An input or output file cannot be read, parsed or written (for example a malformed bundle). */
  FILE: 7,
  /**
   * `verify`: nothing was found altered, but records are not verified because nothing trusted signs them (audit
   * records without an integrity stream, streams without a checkpoint signed by a trusted key).
   */
  UNVERIFIED: 8,
  /**
   * `reproduce --model`: the decision cannot be re-run — its input was not captured in full or encrypted, its key
   * was erased, or the model file is missing, not ONNX, or not the one recorded.
   */
  NOT_REPRODUCIBLE: 9,
  /** An unexpected internal error; rerun with DECISIONTRAIL_DEBUG=1 for the stack trace. */
  INTERNAL: 10,
  /** Interrupted by SIGINT (Ctrl-C). */
  INTERRUPTED: 130,
} as const;

/** One of the documented exit codes. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The exit-code table as shown by `--help` and in the README, in code order. */
export const EXIT_CODE_TABLE: readonly { code: ExitCode; meaning: string }[] = [
  { code: EXIT_CODES.OK, meaning: 'success; for verify and verify-bundle: everything checked is intact' },
  {
    code: EXIT_CODES.INTEGRITY,
    meaning:
      'verification found problems, every finding listed (timeline: a shown entry failed its check); reproduce: the re-run decided otherwise',
  },
  {
    code: EXIT_CODES.USAGE,
    meaning: 'bad command line: unknown command or option, missing or malformed value',
  },
  {
    code: EXIT_CODES.NOT_FOUND,
    meaning: 'unknown id: decision, trace, incident, subject, model (version) or stream',
  },
  {
    code: EXIT_CODES.STORE,
    meaning: 'store missing, empty or unreachable',
  },
  { code: EXIT_CODES.KEY, meaning: 'key file missing, unreadable, of the wrong type, or already present' },
  { code: EXIT_CODES.CONFIG, meaning: 'invalid configuration (decisiontrail.yaml or environment)' },
  { code: EXIT_CODES.FILE, meaning: 'an input or output file cannot be read, parsed or written' },
  {
    code: EXIT_CODES.UNVERIFIED,
    meaning: 'verify: nothing altered, but unsigned or untrusted records (--allow-unsigned accepts them)',
  },
  {
    code: EXIT_CODES.NOT_REPRODUCIBLE,
    meaning:
      'reproduce --model: cannot re-run (input not captured or unreadable, model file not the recorded one)',
  },
  { code: EXIT_CODES.INTERNAL, meaning: 'internal error (DECISIONTRAIL_DEBUG=1 prints the stack trace)' },
  { code: EXIT_CODES.INTERRUPTED, meaning: 'interrupted (Ctrl-C)' },
];
