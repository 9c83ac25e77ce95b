import type { Writable } from 'node:stream';

/** ANSI styles the renderers use; all of them collapse to plain text when colour is off. */
export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

const ANSI: Record<Style, [string, string]> = {
  bold: ['\u001b[1m', '\u001b[22m'],
  dim: ['\u001b[2m', '\u001b[22m'],
  red: ['\u001b[31m', '\u001b[39m'],
  green: ['\u001b[32m', '\u001b[39m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  cyan: ['\u001b[36m', '\u001b[39m'],
};

/** A line-oriented writer over stdout or stderr that knows whether it may use colour and redraw lines. */
export class TerminalOutput {
  readonly stream: Writable;
  /** True when ANSI colour is allowed (a TTY, NO_COLOR unset, --no-color not given). */
  readonly color: boolean;
  /** True when the stream is a terminal, so a progress bar may redraw its line. */
  readonly interactive: boolean;

  constructor(stream: Writable, options: { color: boolean; interactive: boolean }) {
    this.stream = stream;
    this.color = options.color;
    this.interactive = options.interactive;
  }

  /** Writes text as is. */
  write(text: string): void {
    this.stream.write(text);
  }

  /** Writes one line (a newline is appended). */
  line(text = ''): void {
    this.stream.write(`${text}\n`);
  }

  /** Writes a value as pretty JSON followed by a newline. */
  json(value: unknown): void {
    this.stream.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Wraps text in an ANSI style when colour is on. */
  style(style: Style, text: string): string {
    if (!this.color) return text;
    const [open, close] = ANSI[style];
    return `${open}${text}${close}`;
  }
}

/** Decides colour and interactivity for a stream from the environment and the --no-color flag. */
export function terminalOutputFor(
  stream: Writable & { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
  noColor: boolean,
): TerminalOutput {
  const interactive = stream.isTTY === true;
  const color =
    interactive && !noColor && env['NO_COLOR'] === undefined && env['TERM'] !== 'dumb'
      ? true
      : env['FORCE_COLOR'] === '1';
  return new TerminalOutput(stream, { color: color && !noColor, interactive });
}
