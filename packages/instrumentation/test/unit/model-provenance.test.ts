import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { configureAudit, decision, detectCodeCommit } from '@decisiontrail/instrumentation';
import { installTestTracing } from '../helpers/tracing.ts';

const tracing = installTestTracing();
const SHA = '3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a';
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'decisiontrail-commit-'));
  dirs.push(dir);
  return dir;
};

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => tracing.reset());

describe('model provenance on decision spans', () => {
  it('records weights, config, training data, code commit, seed and sorted inference parameters', () => {
    configureAudit({
      hmacKey: 'k',
      codeCommit: SHA,
      models: {
        scorer: {
          provenance: {
            weightsHash: 'sha256:aa11',
            configHash: 'sha256:bb22',
            trainingDataset: { id: 'loans-2025', version: '3', hash: 'sha256:cc33' },
            inferenceSeed: 42,
            inferenceParameters: { threshold: 0.7, calibrated: true },
          },
        },
      },
    });
    decision({ modelId: 'scorer', version: '1', input: { x: 1 } }, (d) => d.setOutcome('approve'));
    const [span] = tracing.spans();
    expect(span!.attributes).toMatchObject({
      'audit.model.weights_hash': 'sha256:aa11',
      'audit.model.config_hash': 'sha256:bb22',
      'audit.model.training.dataset.id': 'loans-2025',
      'audit.model.training.dataset.version': '3',
      'audit.model.training.dataset.hash': 'sha256:cc33',
      // The process's commit, kept although the model names its own provenance.
      'audit.model.code_commit': SHA,
      'audit.model.inference.seed': 42,
      'audit.model.inference.parameters': '{"calibrated":true,"threshold":0.7}',
    });
  });

  it('a model naming its own commit wins; codeCommit false records none', () => {
    configureAudit({
      hmacKey: 'k',
      codeCommit: false,
      models: { other: { provenance: { codeCommit: 'abcdef1' } } },
    });
    decision({ modelId: 'plain', input: 1 }, (d) => d.setOutcome('x'));
    decision({ modelId: 'other', input: 1 }, (d) => d.setOutcome('x'));
    const [plain, other] = tracing.spans();
    expect(plain!.attributes['audit.model.code_commit']).toBeUndefined();
    expect(other!.attributes['audit.model.code_commit']).toBe('abcdef1');
  });
});

describe('detectCodeCommit', () => {
  it('takes the first CI variable that holds a commit id', () => {
    expect(detectCodeCommit({ GITHUB_SHA: SHA.toUpperCase() }, tempDir())).toBe(SHA);
    expect(detectCodeCommit({ CI_COMMIT_SHA: 'not a sha', CIRCLE_SHA1: 'abc1234' }, tempDir())).toBe(
      'abc1234',
    );
  });

  it('reads the git checkout above the working directory: a loose ref, a packed ref, a detached HEAD', () => {
    const repo = tempDir();
    const work = path.join(repo, 'services', 'api');
    mkdirSync(path.join(repo, '.git', 'refs', 'heads'), { recursive: true });
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(repo, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(path.join(repo, '.git', 'refs', 'heads', 'main'), `${SHA}\n`);
    expect(detectCodeCommit({}, work)).toBe(SHA);
    rmSync(path.join(repo, '.git', 'refs', 'heads', 'main'));
    writeFileSync(
      path.join(repo, '.git', 'packed-refs'),
      `# pack-refs\n${'1'.repeat(40)} refs/heads/other\n${'2'.repeat(40)} refs/heads/main\n`,
    );
    expect(detectCodeCommit({}, work)).toBe('2'.repeat(40));
    writeFileSync(path.join(repo, '.git', 'HEAD'), `${'3'.repeat(40)}\n`);
    expect(detectCodeCommit({}, work)).toBe('3'.repeat(40));
  });

  it('is undefined outside any checkout and without CI variables', () => {
    expect(detectCodeCommit({}, tempDir())).toBeUndefined();
  });
});
