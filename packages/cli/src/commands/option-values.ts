import { usageError } from '../cli-error.ts';
import type { CommandContext } from '../command.ts';

/** A string option's value, or undefined when absent. */
export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.options[name];
  return typeof value === 'string' ? value : undefined;
}

/** A string option that must be present. */
export function requiredOption(context: CommandContext, command: string, name: string): string {
  const value = stringOption(context, name);
  if (value === undefined) throw usageError(`${command}: --${name} is required`);
  return value;
}

/** A repeatable string option's values. */
export function listOption(context: CommandContext, name: string): string[] {
  const value = context.options[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

/** A string option restricted to a set of values. */
export function choiceOption<const T extends string>(
  context: CommandContext,
  command: string,
  name: string,
  choices: readonly T[],
): T | undefined {
  const value = stringOption(context, name);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw usageError(
      `${command}: --${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRACE_ID = /^[0-9a-f]{32}$/i;

/** Classifies an id as a decision id (UUID) or a trace id (32 hex digits); anything else is a usage error. */
export function decisionOrTraceId(command: string, text: string): { kind: 'decision' | 'trace'; id: string } {
  if (UUID.test(text)) return { kind: 'decision', id: text.toLowerCase() };
  if (TRACE_ID.test(text)) return { kind: 'trace', id: text.toLowerCase() };
  throw usageError(
    `${command}: ${JSON.stringify(text)} is neither a decision id (UUID) nor a trace id (32 hex digits)`,
  );
}

/** Checks a decision id (UUID). */
export function decisionId(command: string, text: string): string {
  if (!UUID.test(text)) throw usageError(`${command}: ${JSON.stringify(text)} is not a decision id (UUID)`);
  return text.toLowerCase();
}

/** Checks a trace id (32 hex digits). */
export function traceId(command: string, text: string): string {
  if (!TRACE_ID.test(text))
    throw usageError(`${command}: ${JSON.stringify(text)} is not a trace id (32 hex digits)`);
  return text.toLowerCase();
}
