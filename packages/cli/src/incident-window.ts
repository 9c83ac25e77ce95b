/**
 * The affected window of an incident travels in its description as a first line `Affected window: <from> to <to>`
 * (ISO times): readable as it stands in any export of the incident table, and parsed back by `incident show`.
 */
const PREFIX = 'Affected window: ';
const LINE = /^Affected window: (\S+) to (\S+)$/;

/** Prepends the window line to a description. */
export function describeWithWindow(window: { from: Date; to: Date }, text: string): string {
  const line = `${PREFIX}${window.from.toISOString()} to ${window.to.toISOString()}`;
  return text === '' ? line : `${line}\n${text}`;
}

/** Splits a description into its window (if it has one) and the remaining text. */
export function parseWindow(description: string): { window: { from: Date; to: Date } | null; text: string } {
  const [first = '', ...rest] = description.split('\n');
  const match = LINE.exec(first);
  if (match === null) return { window: null, text: description };
  const from = new Date(match[1]!);
  const to = new Date(match[2]!);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return { window: null, text: description };
  return { window: { from, to }, text: rest.join('\n') };
}
