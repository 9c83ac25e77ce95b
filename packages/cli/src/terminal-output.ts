import { randomInt } from 'node:crypto';
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

/** Every C0 control but the newline, DEL and every C1 control: what a terminal may act on. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
/** What JSON.stringify leaves raw of those (it escapes C0 itself). */
const JSON_RAW_CONTROL = /[\u007f-\u009f]/g;
const ERASE_LINE = '\r\u001b[2K';

const hex = (c: string): string => c.charCodeAt(0).toString(16).padStart(2, '0');

/** A control character as visible text (`\x1b`): a stored value can show one but never act on the terminal. */
function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${hex(c)}`);
}

/**
 * A per-writer mark that no stored value can carry (random private-use characters): {@link TerminalOutput.style}
 * puts it before each escape sequence it emits, and only sequences so marked reach the terminal.
 */
function unforgeableMark(): string {
  return Array.from({ length: 6 }, () => String.fromCharCode(0xe000 + randomInt(0x1900))).join('');
}

/**
 * A line-oriented writer over stdout or stderr that knows whether it may use colour and redraw lines. Every text
 * it writes passes through it once: control characters are written visibly escaped (`\x1b[2J`), so stored
 * values — outcomes, reasons, names — cannot clear the screen, move the cursor, retitle the window or fake a
 * coloured verdict; only its own styles and line redraws reach the terminal. Newlines are kept (the renderers
 * lay out lines with them).
 */
export class TerminalOutput {
  readonly stream: Writable;
  /** True when ANSI colour is allowed (a TTY, NO_COLOR unset, --no-color not given). */
  readonly color: boolean;
  /** True when the stream is a terminal, so a progress bar may redraw its line. */
  readonly interactive: boolean;

  readonly #mark = unforgeableMark();
  readonly #marked: RegExp;
  readonly #codes: ReadonlyMap<string, string>;

  constructor(stream: Writable, options: { color: boolean; interactive: boolean }) {
    this.stream = stream;
    this.color = options.color;
    this.interactive = options.interactive;
    const codes = new Map<string, string>();
    for (const code of [...Object.values(ANSI).flat(), ERASE_LINE]) codes.set(`${this.#mark}${code}`, code);
    this.#codes = codes;
    this.#marked = new RegExp(
      [...codes.keys()].map((k) => k.replace(/[[\]\\^$.|?*+(){}]/g, '\\$&')).join('|'),
      'g',
    );
  }

  /** Escapes control characters everywhere but in this writer's own marked sequences, which lose their mark. */
  #safe(text: string): string {
    let out = '';
    let last = 0;
    for (const match of text.matchAll(this.#marked)) {
      out += escapeControls(text.slice(last, match.index)) + this.#codes.get(match[0])!;
      last = match.index + match[0].length;
    }
    return out + escapeControls(text.slice(last));
  }

  /** Writes text (control characters escaped, see the class). */
  write(text: string): void {
    this.stream.write(this.#safe(text));
  }

  /** Writes one line (a newline is appended; control characters escaped). */
  line(text = ''): void {
    this.stream.write(`${this.#safe(text)}\n`);
  }

  /** Writes a value as pretty JSON followed by a newline (with DEL and C1 controls as `\u` escapes too). */
  json(value: unknown): void {
    const text = JSON.stringify(value, null, 2).replace(JSON_RAW_CONTROL, (c) => `\\u00${hex(c)}`);
    this.stream.write(`${text}\n`);
  }

  /** Wraps text in an ANSI style when colour is on. */
  style(style: Style, text: string): string {
    if (!this.color) return text;
    const [open, close] = ANSI[style];
    return `${this.#mark}${open}${text}${this.#mark}${close}`;
  }

  /** Redraws the current line of an interactive terminal with `text` (a progress bar). */
  redrawLine(text: string): void {
    this.write(`${this.#mark}${ERASE_LINE}${text}`);
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
