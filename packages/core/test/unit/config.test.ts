import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CAPTURE_MODES,
  ConfigError,
  defaultConfig,
  findConfigFile,
  loadConfig,
  parseConfig,
} from '@decisiontrail/core';

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('the decisiontrail.yaml schema', () => {
  it('gives capture and batch their defaults, and reads them when set', () => {
    const defaults = defaultConfig({ baseDir: '/app', env: {} });
    expect(defaults.capture).toEqual({ input: 'hash', output: 'hash' });
    expect(defaults.batch).toEqual({ maxSpans: 512, flushIntervalMs: 1000 });
    const set = parseConfig(
      'capture: { input: redact, output: none }\nbatch: { maxSpans: 64, flushIntervalMs: 250 }',
      {
        env: {},
      },
    );
    expect(set.capture).toEqual({ input: 'redact', output: 'none' });
    expect(set.batch).toEqual({ maxSpans: 64, flushIntervalMs: 250 });
  });

  it('takes its capture modes from the semantic conventions', () => {
    expect([...CAPTURE_MODES].sort()).toEqual(['encrypt', 'full', 'hash', 'none', 'redact']);
    const issues = issuesOf(() => parseConfig('capture: { input: plain }', { env: {} }));
    expect(issues).toEqual([
      { path: 'capture.input', message: 'expected one of hash, redact, full, encrypt, none, got "plain"' },
    ]);
  });

  it('names an unknown key by its path and the keys its mapping accepts', () => {
    expect(issuesOf(() => parseConfig('batch: { maxSpan: 5 }', { env: {} }))).toEqual([
      { path: 'batch.maxSpan', message: 'unknown key (expected one of maxSpans, flushIntervalMs)' },
    ]);
  });

  it('names bad values inside lists by index, and every one of them', () => {
    const issues = issuesOf(() =>
      parseConfig('batch: { maxSpans: 0, flushIntervalMs: soon }\nkeys: { publicKeys: [a.pub, ""] }', {
        env: {},
      }),
    );
    expect(issues).toEqual([
      { path: 'keys.publicKeys[1]', message: 'must not be empty' },
      { path: 'batch.maxSpans', message: 'must be between 1 and 100000, got 0' },
      { path: 'batch.flushIntervalMs', message: 'expected an integer, got string' },
    ]);
  });

  it('lets DECISIONTRAIL_CAPTURE_INPUT / _OUTPUT override the file, and names the variable of a bad value', () => {
    const config = parseConfig('capture: { input: full }', {
      env: { DECISIONTRAIL_CAPTURE_INPUT: 'none', DECISIONTRAIL_CAPTURE_OUTPUT: 'redact' },
    });
    expect(config.capture).toEqual({ input: 'none', output: 'redact' });
    const issues = issuesOf(() => parseConfig('', { env: { DECISIONTRAIL_CAPTURE_OUTPUT: 'all' } }));
    expect(issues[0]!.path).toBe('capture.output');
    expect(issues[0]!.message).toMatch(/\(from DECISIONTRAIL_CAPTURE_OUTPUT\)$/);
  });

  it('reads an explicit null as the default', () => {
    expect(parseConfig('batch: { maxSpans: null }\ncapture: null', { env: {} }).batch.maxSpans).toBe(512);
  });
});

describe('findConfigFile and loadConfig', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('finds the named file, else DECISIONTRAIL_CONFIG, else decisiontrail.yaml in the directory when present', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dt-core-config-'));
    dirs.push(dir);
    expect(findConfigFile(dir, {})).toBeUndefined();
    await writeFile(path.join(dir, 'decisiontrail.yaml'), 'batch: { maxSpans: 7 }\n');
    expect(findConfigFile(dir, {})).toBe(path.join(dir, 'decisiontrail.yaml'));
    expect(findConfigFile(dir, { DECISIONTRAIL_CONFIG: 'other.yaml' })).toBe(path.join(dir, 'other.yaml'));
    expect(findConfigFile(dir, { DECISIONTRAIL_CONFIG: 'other.yaml' }, 'flag.yaml')).toBe(
      path.join(dir, 'flag.yaml'),
    );
    const config = await loadConfig(findConfigFile(dir, {})!, { env: {} });
    expect(config.batch.maxSpans).toBe(7);
    expect(config.keys.dir).toBe(path.join(dir, '.decisiontrail', 'keys'));
  });

  it('says CONFIG_UNREADABLE for a file it cannot read', async () => {
    await expect(loadConfig('/nonexistent/decisiontrail.yaml', { env: {} })).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'CONFIG_UNREADABLE',
    });
  });
});
