import { afterEach, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../scripts/load-registry.ts';
import { renderMarkdown } from '../../scripts/render-markdown.ts';
import { renderTypeScript } from '../../scripts/render-typescript.ts';
import { MANIFEST, removeRegistry, VALID_MODEL, writeRegistry } from './registry-fixture.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map(removeRegistry));
});

async function render(model: string): Promise<{ typescript: string; markdown: string }> {
  const dir = await writeRegistry({ 'manifest.yaml': MANIFEST, 'model/base.yaml': model });
  dirs.push(dir);
  const registry = await loadRegistry(dir);
  return {
    typescript: renderTypeScript(registry)
      .map((file) => file.content)
      .join('\n'),
    markdown: renderMarkdown(registry)
      .map((file) => file.content)
      .join('\n'),
  };
}

describe('renderers', () => {
  it('keep comment terminators and table pipes in registry text from breaking the output', async () => {
    const { typescript, markdown } = await render(
      VALID_MODEL.replace('brief: Decision identifier.', "brief: 'Identifier, never a glob like a/*/b | c.'"),
    );
    expect(typescript).toContain('Identifier, never a glob like a/*\\/b | c.');
    expect(typescript).not.toContain('a/*/b');
    expect(markdown).toContain('Identifier, never a glob like a/*/b \\| c.');
  });

  it('emit the requirement table and enum values for the span definitions', async () => {
    const { typescript } = await render(VALID_MODEL);
    expect(typescript).toContain("export const SPAN_NAME_AUDIT_DECISION = 'audit.decision' as const;");
    expect(typescript).toContain("required: ['audit.record.type', 'audit.decision.id'],");
    expect(typescript).toContain("DECISION: 'decision',");
    expect(typescript).toContain(
      'export type AuditRecordType = (typeof AUDIT_RECORD_TYPE_VALUES)[keyof typeof AUDIT_RECORD_TYPE_VALUES];',
    );
  });
});
