import { parseArgs } from 'node:util';
import { usageError } from './cli-error.ts';
import type { OptionSpec, OptionValues } from './command.ts';
import { GLOBAL_OPTIONS, type GlobalOptionValues } from './global-options.ts';

/** The result of parsing one command's arguments together with the global options. */
export interface ParsedArguments {
  globals: GlobalOptionValues;
  options: OptionValues;
  positionals: string[];
}

interface NodeParseError {
  code?: string;
  message: string;
}

/**
 * Parses argv for one command with `node:util` parseArgs (strict: unknown options are errors). Global options
 * may appear anywhere. parseArgs' own messages are long and mention `args`; they are reworded into one line
 * that names the option and the command.
 */
export function parseCommandArguments(
  commandName: string,
  argv: readonly string[],
  options: Record<string, OptionSpec>,
): ParsedArguments {
  const spec: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, option] of Object.entries({ ...GLOBAL_OPTIONS, ...options })) {
    spec[name] = {
      type: option.type,
      ...(option.short ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: spec, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(describeParseError(commandName, error as NodeParseError));
  }
  const values = parsed.values;
  for (const [name, option] of Object.entries(options)) {
    if (
      option.type === 'string' &&
      !option.multiple &&
      typeof values[name] === 'string' &&
      values[name] === ''
    ) {
      throw usageError(`${commandName}: --${name} needs a non-empty value`);
    }
  }
  const globals: GlobalOptionValues = {
    ...(typeof values['data'] === 'string' ? { data: values['data'] } : {}),
    ...(typeof values['clickhouse-url'] === 'string' ? { clickhouseUrl: values['clickhouse-url'] } : {}),
    ...(typeof values['config'] === 'string' ? { config: values['config'] } : {}),
    json: values['json'] === true,
    noColor: values['no-color'] === true,
    help: values['help'] === true,
  };
  const own: OptionValues = {};
  for (const name of Object.keys(options)) own[name] = values[name] as OptionValues[string];
  return { globals, options: own, positionals: parsed.positionals };
}

function describeParseError(commandName: string, error: NodeParseError): string {
  const option = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `${commandName}: unknown option ${option ?? ''}; see decisiontrail ${commandName} --help`.replace(
        '  ',
        ' ',
      );
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // Node says "argument missing" at the end of the line and "ambiguous" when the next word starts with a dash
      // (`--overridden --sort confidence`): both are a value left out.
      if (/argument missing/.test(error.message))
        return `${commandName}: option ${option ?? ''} needs a value`;
      if (/ambiguous/.test(error.message)) {
        return `${commandName}: option ${option ?? ''} needs a value (for a value that starts with a dash, write ${option ?? ''}=-…)`;
      }
      return `${commandName}: option ${option ?? ''} does not take a value`;
    default:
      return `${commandName}: ${error.message.split('\n')[0]}`;
  }
}
