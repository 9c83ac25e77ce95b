import { PassThrough } from 'node:stream';
import { COMMAND_TABLE, EXIT_CODE_TABLE, runCli } from '@decisiontrail/cli/internal';
import { describe, expect, it } from 'vitest';

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: '', err: '' };
  stdout.on('data', (c: Buffer) => (chunks.out += c.toString()));
  stderr.on('data', (c: Buffer) => (chunks.err += c.toString()));
  const code = await runCli(argv, {
    stdout,
    stderr,
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
  });
  return { code, stdout: chunks.out, stderr: chunks.err };
}

describe('runCli without a store', () => {
  it('prints help with every command and the exit-code table', async () => {
    const result = await run('--help');
    expect(result.code).toBe(0);
    for (const entry of COMMAND_TABLE) expect(result.stdout).toContain(`  ${entry.name}`);
    for (const row of EXIT_CODE_TABLE) expect(result.stdout).toContain(row.meaning);
  });

  it('shows examples in every command help', async () => {
    for (const entry of COMMAND_TABLE) {
      const specs = entry.kind === 'group' ? entry.subcommands : [entry];
      for (const spec of specs) {
        const result = await run(...spec.name.split(' '), '--help');
        expect(result.code, spec.name).toBe(0);
        expect(result.stdout, spec.name).toContain(`Usage: decisiontrail ${spec.usage}`);
        expect(result.stdout, spec.name).toContain('Examples:');
        expect(spec.examples.length, spec.name).toBeGreaterThan(0);
      }
    }
  });

  it.each([
    [['timelin', 'x'], /unknown command "timelin" \(did you mean "timeline"\?\)/],
    [['timeline'], /timeline: missing a decision id or trace id/],
    [['timeline', 'a', 'b'], /unexpected argument "b"/],
    [['timeline', '--bogus'], /timeline: unknown option --bogus/],
    [['report', '--model'], /report: option --model needs a value/],
    [['report', '--model', ''], /--model needs a non-empty value/],
    [
      ['decisions', '--overridden', '--sort', 'confidence'],
      /decisions: option --overridden needs a value \(for a value that starts with a dash, write --overridden=-…\)/,
    ],
    [['incident', 'reopen'], /unknown incident subcommand "reopen"/],
    [['incident', 'open', '--json', '--json=1'], /does not take a value/],
    [['timeline', 'x', '--data', 'a', '--clickhouse-url', 'http://h'], /exclude each other/],
    [['timeline', 'x', '--clickhouse-url', 'not a url'], /--clickhouse-url: not a URL/],
  ])('%j is a usage error (exit 2, one line)', async (argv, message) => {
    const result = await run(...argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('without arguments prints help; a group without a subcommand lists its subcommands and exits 2', async () => {
    expect((await run()).code).toBe(0);
    const group = await run('incident');
    expect(group.code).toBe(2);
    expect(group.stdout).toContain('incident open');
  });
});
