/** Greedy word wrap; words longer than `width` stay whole. Deterministic, so generated files are byte-stable. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const words = paragraph.split(/\s+/).filter((word) => word !== '');
    let line = '';
    for (const word of words) {
      if (line !== '' && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    if (line !== '') lines.push(line);
    lines.push('');
  }
  while (lines.at(-1) === '') lines.pop();
  return lines;
}

/** A JSDoc block at the given indentation; `*\/` in the text is broken so the comment cannot end early. */
export function jsDoc(paragraphs: readonly string[], indent = ''): string {
  const body = paragraphs
    .filter((paragraph) => paragraph !== '')
    .flatMap((paragraph, index) => [
      ...(index === 0 ? [] : ['']),
      ...paragraph.split('\n').flatMap((line) => (line.startsWith('- ') ? [line] : wrapText(line, 100))),
    ])
    .map((line) => line.replaceAll('*/', '*\\/'));
  if (body.length === 1) return `${indent}/** ${body[0]} */\n`;
  return `${indent}/**\n${body.map((line) => (line === '' ? `${indent} *` : `${indent} * ${line}`)).join('\n')}\n${indent} */\n`;
}
