import type { Writable } from 'node:stream';
import type { CliError } from './cli-error.ts';
import { usageError } from './cli-error.ts';
import type { CommandEntry, CommandSpec } from './command.ts';
import { COMMAND_TABLE } from './command-table.ts';
import { describeError } from './describe-error.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { commandHelp, groupHelp, rootHelp } from './help-text.ts';
import { parseCommandArguments } from './parse-command-line.ts';
import { resolveSettings } from './settings.ts';
import { terminalOutputFor } from './terminal-output.ts';

/** Where `runCli` reads its environment and writes its output. */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted when the user interrupts (Ctrl-C). */
  signal: AbortSignal;
}

/** Global options that take a value, so the command word can be found after them. */
const VALUE_OPTIONS = new Set(['--data', '--clickhouse-url', '--config']);

function commandWords(argv: readonly string[]): { index: number; word: string }[] {
  const words: { index: number; word: string }[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    if (token.startsWith('-')) {
      if (VALUE_OPTIONS.has(token)) i++;
      continue;
    }
    words.push({ index: i, word: token });
  }
  return words;
}

function closest(word: string, names: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  const best = names.map((name) => ({ name, d: distance(word, name) })).sort((x, y) => x.d - y.d)[0];
  return best !== undefined && best.d <= 2 ? best.name : undefined;
}

function unknownWord(kind: string, word: string, names: readonly string[], helpCommand: string): CliError {
  const suggestion = closest(word, names);
  return usageError(
    `unknown ${kind} "${word}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; see ${helpCommand} --help`,
  );
}

/**
 * Runs one `decisiontrail` invocation and returns its exit code. Never throws: user errors become one line on
 * stderr with their documented exit code; anything unexpected becomes one line and exit code 10 (the stack trace
 * only with DECISIONTRAIL_DEBUG=1).
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  table: readonly CommandEntry[] = COMMAND_TABLE,
): Promise<number> {
  const noColor = argv.includes('--no-color');
  const out = terminalOutputFor(io.stdout, io.env, noColor);
  const err = terminalOutputFor(io.stderr, io.env, noColor);
  try {
    const words = commandWords(argv);
    const first = words[0];
    if (first === undefined) {
      if (argv.includes('--version')) {
        out.line(await cliVersion());
        return EXIT_CODES.OK;
      }
      out.write(rootHelp(table));
      return argv.length === 0 || argv.includes('--help') || argv.includes('-h')
        ? EXIT_CODES.OK
        : EXIT_CODES.USAGE;
    }
    if (first.word === 'help') {
      out.write(rootHelp(table));
      return EXIT_CODES.OK;
    }
    const entry = table.find((candidate) => candidate.name === first.word);
    if (entry === undefined)
      throw unknownWord(
        'command',
        first.word,
        table.map((e) => e.name),
        'decisiontrail',
      );
    let spec: CommandSpec;
    let rest: string[];
    if (entry.kind === 'group') {
      const second = words[1];
      if (second === undefined) {
        out.write(groupHelp(entry));
        return argv.includes('--help') || argv.includes('-h') ? EXIT_CODES.OK : EXIT_CODES.USAGE;
      }
      const sub = entry.subcommands.find((candidate) => candidate.name === `${entry.name} ${second.word}`);
      if (sub === undefined) {
        throw unknownWord(
          `${entry.name} subcommand`,
          second.word,
          entry.subcommands.map((s) => s.name.split(' ').at(-1)!),
          `decisiontrail ${entry.name}`,
        );
      }
      spec = sub;
      rest = argv.filter((_, i) => i !== first.index && i !== second.index);
    } else {
      spec = entry;
      rest = argv.filter((_, i) => i !== first.index);
    }
    const parsed = parseCommandArguments(spec.name, rest, spec.options);
    if (parsed.globals.help) {
      out.write(commandHelp(spec));
      return EXIT_CODES.OK;
    }
    const { min, max, names } = spec.positionals;
    if (parsed.positionals.length < min) {
      throw usageError(`${spec.name}: missing ${names}; usage: decisiontrail ${spec.usage}`);
    }
    if (parsed.positionals.length > max) {
      throw usageError(
        `${spec.name}: unexpected argument "${parsed.positionals[max]}"; usage: decisiontrail ${spec.usage}`,
      );
    }
    if (parsed.globals.json && !spec.json)
      throw usageError(`${spec.name}: --json is not supported by this command`);
    const settings = await resolveSettings(parsed.globals, io.env, io.cwd);
    return await spec.run({
      options: parsed.options,
      positionals: parsed.positionals,
      settings,
      out,
      err,
      signal: io.signal,
    });
  } catch (error) {
    if (io.signal.aborted) {
      err.line('decisiontrail: interrupted');
      return EXIT_CODES.INTERRUPTED;
    }
    const described = describeError(error);
    err.line(`decisiontrail: ${described.message}`);
    if (io.env['DECISIONTRAIL_DEBUG'] === '1' && error instanceof Error && error.stack) err.line(error.stack);
    return described.exitCode;
  }
}

async function cliVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}
