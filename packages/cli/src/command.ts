import type { ResolvedSettings } from './settings.ts';
import type { TerminalOutput } from './terminal-output.ts';

/** One option a command accepts (long name is the key in {@link CommandSpec.options}). */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One-letter alias. */
  short?: string;
  /** The option may be given several times (values arrive as an array). */
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `T` for a time. */
  valueName?: string;
  /** One-line help text. */
  description: string;
}

/** An example shown under `--help`. */
export interface CommandExample {
  command: string;
  note: string;
}

/** Option values after parsing, keyed by long name. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Everything a command needs to run; tests and the demo build it through `runCli`. */
export interface CommandContext {
  /** Values of the command's own options. */
  options: OptionValues;
  /** Positional arguments after the command name. */
  positionals: string[];
  /** Where to find the store and keys, and how to print (global flags, environment, decisiontrail.yaml). */
  settings: ResolvedSettings;
  /** Standard output. */
  out: TerminalOutput;
  /** Standard error (progress, warnings). */
  err: TerminalOutput;
  /** Aborted on SIGINT so long commands stop cleanly. */
  signal: AbortSignal;
}

/** A runnable command: its help texts and its action. */
export interface CommandSpec {
  kind: 'command';
  /** The word(s) typed after `decisiontrail`. */
  name: string;
  /** One line shown in the command list. */
  summary: string;
  /** Usage line without the leading `decisiontrail`. */
  usage: string;
  /** Longer explanation shown by `--help`. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** How many positional arguments the command takes. */
  positionals: { min: number; max: number; names: string };
  /** Whether the command reads and honours `--json`. */
  json: boolean;
  examples: CommandExample[];
  /** Runs the command and returns its exit code; user errors are thrown as `CliError`. */
  run(context: CommandContext): Promise<number>;
}

/** A command with subcommands, such as `incident open|update|close|list|show`. */
export interface CommandGroupSpec {
  kind: 'group';
  name: string;
  summary: string;
  description?: string;
  subcommands: CommandSpec[];
}

/** An entry of the command table. */
export type CommandEntry = CommandSpec | CommandGroupSpec;
