import { PassThrough } from 'node:stream';
import { TerminalOutput } from '@decisiontrail/cli/internal';
import { describe, expect, it } from 'vitest';

function capture(color: boolean): { out: TerminalOutput; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out: new TerminalOutput(stream, { color, interactive: true }), text: () => text };
}

// Clear screen, an OSC window title, a C1 CSI, a carriage return, a backspace and DEL: what a stored value may hold.
const HOSTILE = 'deny\u001b[2J\u001b]0;owned\u0007\u009b31m\rOK\b\u007f';
const ESCAPED = 'deny\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\x0dOK\\x08\\x7f';

describe('terminal output', () => {
  it('writes control characters of stored values visibly escaped, in lines and in written documents', () => {
    for (const color of [false, true]) {
      const { out, text } = capture(color);
      out.line(`outcome ${HOSTILE}`);
      out.write(`a\n  reason: ${HOSTILE}\n`);
      expect(text()).toBe(`outcome ${ESCAPED}\na\n  reason: ${ESCAPED}\n`);
    }
  });

  it('lets only its own styles and line redraws reach the terminal', () => {
    const { out, text } = capture(true);
    // A stored value that spells out the very codes the styles use is still escaped.
    out.line(`${out.style('green', 'OK')} \u001b[32mforged\u001b[39m`);
    out.redrawLine('50%');
    expect(text()).toBe('\u001b[32mOK\u001b[39m \\x1b[32mforged\\x1b[39m\n\r\u001b[2K50%');
    const plain = capture(false);
    plain.out.line(plain.out.style('red', 'FAIL'));
    expect(plain.text()).toBe('FAIL\n');
  });

  it('keeps JSON valid and escapes the controls JSON.stringify leaves raw', () => {
    const { out, text } = capture(false);
    out.json({ outcome: HOSTILE });
    expect([...text()].filter((c) => c !== '\n' && (c < ' ' || (c >= '\u007f' && c <= '\u009f')))).toEqual(
      [],
    );
    expect(JSON.parse(text())).toEqual({ outcome: HOSTILE });
  });
});
