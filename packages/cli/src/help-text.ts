import type { CommandEntry, CommandGroupSpec, CommandSpec, OptionSpec } from './command.ts';
import { EXIT_CODE_TABLE } from './exit-codes.ts';
import { GLOBAL_OPTIONS } from './global-options.ts';

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}${option.type === 'string' ? ` ${option.valueName ?? 'VALUE'}` : ''}`;
    return [flag, option.description + (option.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(0, ...rows.map(([flag]) => flag.length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`);
}

function exampleLines(spec: CommandSpec): string[] {
  return spec.examples.flatMap((example) => [`  # ${example.note}`, `  decisiontrail ${example.command}`]);
}

/** The top-level help: commands, global options, exit codes. */
export function rootHelp(table: readonly CommandEntry[]): string {
  const width = Math.max(...table.map((entry) => entry.name.length));
  const lines = [
    'decisiontrail: the audit trail of AI decisions: investigate, report, verify, export, erase.',
    '',
    'Usage: decisiontrail <command> [options]',
    '',
    'Commands:',
    ...table.map((entry) => `  ${entry.name.padEnd(width)}  ${entry.summary}`),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Exit codes:',
    ...EXIT_CODE_TABLE.map((row) => `  ${String(row.code).padStart(3)}  ${row.meaning}`),
    '',
    'Run "decisiontrail <command> --help" for the options and examples of a command.',
  ];
  return `${lines.join('\n')}\n`;
}

/** Help of a command group: its subcommands. */
export function groupHelp(group: CommandGroupSpec): string {
  const width = Math.max(...group.subcommands.map((sub) => sub.name.length));
  const lines = [
    `decisiontrail ${group.name}: ${group.summary}`,
    ...(group.description ? ['', group.description] : []),
    '',
    `Usage: decisiontrail ${group.name} <${group.subcommands.map((sub) => sub.name.split(' ').at(-1)).join('|')}> [options]`,
    '',
    'Subcommands:',
    ...group.subcommands.map((sub) => `  ${sub.name.padEnd(width)}  ${sub.summary}`),
    '',
    `Run "decisiontrail ${group.name} <subcommand> --help" for details.`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Help of one command: usage, description, options, global options, examples. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [
    `decisiontrail ${spec.name}: ${spec.summary}`,
    '',
    `Usage: decisiontrail ${spec.usage}`,
    ...(spec.description ? ['', spec.description] : []),
  ];
  if (Object.keys(spec.options).length > 0) lines.push('', 'Options:', ...optionLines(spec.options));
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS));
  if (spec.examples.length > 0) lines.push('', 'Examples:', ...exampleLines(spec));
  return `${lines.join('\n')}\n`;
}
