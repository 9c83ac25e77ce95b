import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findStaleFiles, generateFiles, writeFiles } from '../../scripts/generate-files.ts';
import type { RenderedFile } from '../../scripts/render-typescript.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');
const generateScript = path.join(repoRoot, 'packages/semconv/scripts/generate.ts');

let files: RenderedFile[];
beforeAll(async () => {
  files = await generateFiles(repoRoot);
});

describe('generator on the real registry', () => {
  it('produces exactly the committed files (run `npm run semconv:generate` if this fails)', async () => {
    expect(await findStaleFiles(repoRoot, files)).toEqual([]);
  });

  it('writes TypeScript, documentation and the package index', () => {
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'packages/semconv/src/index.ts',
        'packages/semconv/src/generated/attributes.ts',
        'packages/semconv/src/generated/enum-values.ts',
        'packages/semconv/src/generated/span-names.ts',
        'packages/semconv/src/generated/span-requirements.ts',
        'packages/semconv/src/generated/upstream-attributes.ts',
        'semconv/docs/README.md',
        'semconv/docs/audit-decision.md',
        'semconv/docs/spans.md',
      ]),
    );
  });

  it('is byte-stable across runs', async () => {
    expect(await generateFiles(repoRoot)).toEqual(files);
  });

  it('documents each attribute with its regulation in JSDoc and in the group table', () => {
    const attributes = files.find((file) => file.path.endsWith('generated/attributes.ts'))?.content ?? '';
    expect(attributes).toMatch(
      /- Serves: EU AI Act Art\. 12\(3\)\(d\); EU AI Act Art\. 14\n \*\/\nexport const ATTR_AUDIT_OVERSIGHT_REVIEWER = 'audit\.oversight\.reviewer' as const;/,
    );
    const oversight = files.find((file) => file.path === 'semconv/docs/audit-oversight.md')?.content ?? '';
    expect(oversight).toContain('| `audit.oversight.reviewer` | `string` |');
    expect(oversight).toContain('EU AI Act Art. 12(3)(d)<br>EU AI Act Art. 14');
  });
});

describe('stale detection', () => {
  let copyRoot: string;
  beforeAll(async () => {
    copyRoot = await mkdtemp(path.join(os.tmpdir(), 'semconv-copy-'));
    await cp(path.join(repoRoot, 'semconv'), path.join(copyRoot, 'semconv'), { recursive: true });
    await cp(path.join(repoRoot, '.prettierrc.json'), path.join(copyRoot, '.prettierrc.json'));
    await writeFiles(copyRoot, files);
  });
  afterAll(async () => {
    await rm(copyRoot, { recursive: true, force: true });
  });

  it('names changed, missing and unexpected files', async () => {
    const changed = 'packages/semconv/src/generated/span-names.ts';
    const missing = 'semconv/docs/spans.md';
    const extra = 'packages/semconv/src/generated/leftover.ts';
    await writeFile(path.join(copyRoot, changed), '// edited by hand\n');
    await rm(path.join(copyRoot, missing));
    await writeFile(path.join(copyRoot, extra), 'export {};\n');
    try {
      expect(await findStaleFiles(copyRoot, files)).toEqual([extra, changed, missing].sort());
    } finally {
      await writeFiles(copyRoot, files);
    }
    expect(await findStaleFiles(copyRoot, files)).toEqual([]);
  });

  it('makes `generate.ts --check` exit non-zero naming the stale file after a registry edit', async () => {
    const decision = path.join(copyRoot, 'semconv/model/decision.yaml');
    const original = await readFile(decision, 'utf8');
    await writeFile(
      decision,
      original.replace('The kind of decision the AI system made.', 'What kind of decision.'),
    );
    try {
      const result = await promisify(execFile)(process.execPath, [
        generateScript,
        '--check',
        '--root',
        copyRoot,
      ]).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('packages/semconv/src/generated/attributes.ts');
      expect(result.stderr).toContain('semconv/docs/audit-decision.md');
      expect(result.stderr).not.toContain('span-names.ts');
    } finally {
      await writeFile(decision, original);
    }
  });

  it('makes `generate.ts --check` exit non-zero naming file and attribute for an invalid registry', async () => {
    const decision = path.join(copyRoot, 'semconv/model/decision.yaml');
    const original = await readFile(decision, 'utf8');
    await writeFile(decision, original.replace('key: audit.decision.purpose', 'key: audit.decision.Purpose'));
    try {
      const result = await promisify(execFile)(process.execPath, [
        generateScript,
        '--check',
        '--root',
        copyRoot,
      ]).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        "model/decision.yaml: attribute 'audit.decision.Purpose': name is not snake_case",
      );
    } finally {
      await writeFile(decision, original);
    }
  });
});
