import { afterEach, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../scripts/load-registry.ts';
import { RegistryError } from '../../scripts/registry-error.ts';
import { attributeFile, MANIFEST, removeRegistry, VALID_MODEL, writeRegistry } from './registry-fixture.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map(removeRegistry));
});

async function load(files: Record<string, string>): Promise<Awaited<ReturnType<typeof loadRegistry>>> {
  const dir = await writeRegistry({ 'manifest.yaml': MANIFEST, 'model/base.yaml': VALID_MODEL, ...files });
  dirs.push(dir);
  return loadRegistry(dir);
}

/** Loads the registry expecting a RegistryError and returns its message. */
async function errorOf(files: Record<string, string>): Promise<string> {
  const error: unknown = await load(files).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).code).toBe('SEMCONV_INVALID_REGISTRY');
  return (error as RegistryError).message;
}

describe('registry validation', () => {
  it('accepts the minimal valid registry', async () => {
    const registry = await load({});
    expect(registry.attributes.map((attribute) => attribute.key)).toEqual([
      'audit.record.type',
      'audit.decision.id',
    ]);
    expect(registry.spans.map((span) => span.recordType)).toEqual(['decision']);
    expect(registry.manifest.version).toBe('0.1.0');
  });

  it('rejects an unknown type, naming the file and the attribute', async () => {
    const message = await errorOf({
      'model/extra.yaml': attributeFile(
        '  - key: audit.extra.value\n    type: strng\n    brief: Extra.\n    stability: development\n    examples: [x]',
      ),
    });
    expect(message).toContain(`model/extra.yaml: attribute 'audit.extra.value': unknown type "strng"`);
  });

  it('rejects a duplicate attribute id, naming both files', async () => {
    const message = await errorOf({
      'model/other.yaml': attributeFile(
        '  - key: audit.decision.id\n    type: string\n    brief: Again.\n    stability: development\n    examples: [x]',
        'audit.again',
        'audit.decision.id',
      ),
    });
    expect(message).toContain(
      "model/other.yaml: attribute 'audit.decision.id': duplicate id: already defined in model/base.yaml",
    );
  });

  it('reports a duplicate even when the second definition is also broken', async () => {
    const message = await errorOf({
      'model/other.yaml': attributeFile(
        '  - key: audit.decision.id\n    type: uuid\n    stability: development\n    examples: [x]',
        'audit.again',
        'audit.decision.id',
      ),
    });
    expect(message).toContain(
      "model/other.yaml: attribute 'audit.decision.id': duplicate id: already defined in model/base.yaml",
    );
  });

  it('rejects a missing brief', async () => {
    const message = await errorOf({
      'model/extra.yaml': attributeFile(
        '  - key: audit.extra.value\n    type: string\n    stability: development\n    examples: [x]',
      ),
    });
    expect(message).toContain("model/extra.yaml: attribute 'audit.extra.value': missing brief");
  });

  it('rejects an enum without members', async () => {
    const message = await errorOf({
      'model/extra.yaml': attributeFile(
        '  - key: audit.extra.value\n    type:\n      members: []\n    brief: Extra.\n    stability: development\n    examples: [x]',
      ),
    });
    expect(message).toContain("model/extra.yaml: attribute 'audit.extra.value': enum without members");
  });

  it('rejects a span that references an attribute no group defines', async () => {
    const message = await errorOf({
      'model/base.yaml': VALID_MODEL.replace(
        '      - ref: audit.decision.id\n        requirement_level: required\n',
        '      - ref: audit.decision.id\n        requirement_level: required\n      - ref: audit.decision.nope\n',
      ),
    });
    expect(message).toContain(
      "model/base.yaml: span 'audit.decision': references undefined attribute 'audit.decision.nope'",
    );
  });

  it('rejects a name outside the audit. namespace', async () => {
    const message = await errorOf({
      'model/extra.yaml': attributeFile(
        '  - key: decision.score\n    type: double\n    brief: Extra.\n    stability: development\n    examples: [0.5]',
        'audit.extra',
        'decision.score',
      ),
    });
    expect(message).toContain(
      "model/extra.yaml: attribute 'decision.score': name is outside the 'audit.' namespace",
    );
  });

  it('rejects a name that is not snake_case', async () => {
    const message = await errorOf({
      'model/extra.yaml': attributeFile(
        '  - key: audit.extra.riskScore\n    type: double\n    brief: Extra.\n    stability: development\n    examples: [0.5]',
        'audit.extra',
        'audit.extra.riskScore',
      ),
    });
    expect(message).toContain("model/extra.yaml: attribute 'audit.extra.riskScore': name is not snake_case");
  });

  it('reports every issue of a registry at once', async () => {
    const error = await load({
      'model/extra.yaml': attributeFile(
        '  - key: audit.Extra.value\n    type: text\n    stability: development\n    examples: [x]',
        'audit.extra',
        'audit.Extra.value',
      ),
    }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(RegistryError);
    const messages = (error as RegistryError).issues.map((issue) => issue.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining('not snake_case'),
        expect.stringContaining('unknown type'),
        'missing brief',
      ]),
    );
  });

  it('rejects a conditional requirement whose trigger value is not an enum member', async () => {
    const message = await errorOf({
      'model/base.yaml': VALID_MODEL.replace(
        '      - ref: audit.decision.id\n        requirement_level: required\n',
        [
          '      - ref: audit.decision.id',
          '        requirement_level:',
          '          conditionally_required: If the record is a decision.',
          '        annotations:',
          '          decisiontrail:',
          '            required_when: { attribute: audit.record.type, one_of: [verdict] }',
          '',
        ].join('\n'),
      ),
    });
    expect(message).toContain(
      "model/base.yaml: span 'audit.decision': required_when of 'audit.decision.id' uses 'verdict', which is not a value of 'audit.record.type'",
    );
  });

  it('rejects a field the v2 syntax does not define, as Weaver does', async () => {
    const message = await errorOf({
      'model/extra.yaml': attributeFile(
        '  - key: audit.extra.value\n    type: string\n    brief: Extra.\n    stability: development\n    examples: [x]\n    requirement_level: required',
      ),
    });
    expect(message).toContain(
      "model/extra.yaml: attribute 'audit.extra.value': unknown field 'requirement_level'",
    );
  });

  it('rejects a registry without a manifest', async () => {
    const dir = await writeRegistry({ 'model/base.yaml': VALID_MODEL });
    dirs.push(dir);
    await expect(loadRegistry(dir)).rejects.toThrow('no manifest.yaml in the registry directory');
  });

  it('rejects the deprecated `version: "2"` marker, naming its replacement', async () => {
    const message = await errorOf({
      'model/base.yaml': VALID_MODEL.replace('file_format: definition/2', 'version: "2"'),
    });
    expect(message).toContain(
      "model/base.yaml: 'version' is the deprecated format marker; write `file_format: definition/2` instead",
    );
    expect(message).not.toContain("unsupported section 'version'");
  });

  it('rejects a model file without file_format or with another one', async () => {
    const missing = await errorOf({
      'model/base.yaml': VALID_MODEL.replace('file_format: definition/2\n', ''),
    });
    expect(missing).toContain('model/base.yaml: expected `file_format: definition/2`, got undefined');
    const other = await errorOf({
      'model/base.yaml': VALID_MODEL.replace('file_format: definition/2', 'file_format: definition/1'),
    });
    expect(other).toContain('model/base.yaml: expected `file_format: definition/2`, got "definition/1"');
  });

  it('rejects a span without its own requirement_level', async () => {
    const message = await errorOf({
      'model/base.yaml': VALID_MODEL.replace('    requirement_level: recommended\n', ''),
    });
    expect(message).toContain("model/base.yaml: span 'audit.decision': missing 'requirement_level'");
  });

  it('rejects a span requirement_level that is not a signal level (required is an attribute level)', async () => {
    const message = await errorOf({
      'model/base.yaml': VALID_MODEL.replace(
        '    requirement_level: recommended\n',
        '    requirement_level: required\n',
      ),
    });
    expect(message).toContain(
      `model/base.yaml: span 'audit.decision': requirement_level must be recommended or opt_in for a span, got "required"`,
    );
  });

  it('keeps an opt_in span level', async () => {
    const registry = await load({
      'model/base.yaml': VALID_MODEL.replace(
        '    requirement_level: recommended\n',
        '    requirement_level: opt_in\n',
      ),
    });
    expect(registry.spans.map((span) => span.requirementLevel)).toEqual(['opt_in']);
  });

  it.each(['manifest/2.0', 'definition_manifest/2.0'])(
    'rejects file_format %s in the definition manifest',
    async (format) => {
      const message = await errorOf({ 'manifest.yaml': `file_format: ${format}\n${MANIFEST}` });
      expect(message).toContain(
        `manifest.yaml: 'file_format' has no place in a definition manifest (got "${format}")`,
      );
    },
  );

  it('rejects fields outside the definition manifest, such as the older manifest fields', async () => {
    const message = await errorOf({
      'manifest.yaml': `${MANIFEST}semconv_version: 0.1.0\n`,
    });
    expect(message).toContain("manifest.yaml: unknown field 'semconv_version'");
  });

  it('rejects the legacy manifest name registry_manifest.yaml', async () => {
    const dir = await writeRegistry({ 'registry_manifest.yaml': MANIFEST, 'model/base.yaml': VALID_MODEL });
    dirs.push(dir);
    await expect(loadRegistry(dir)).rejects.toThrow(
      'registry_manifest.yaml: the legacy manifest name; Weaver reads the manifest from manifest.yaml',
    );
  });

  it('rejects a manifest whose schema_url carries no version', async () => {
    const message = await errorOf({
      'manifest.yaml': MANIFEST.replace('https://example.com/schemas/audit/0.1.0', 'example.com'),
    });
    expect(message).toContain("manifest.yaml: 'schema_url' must be an http(s) URL");
  });
});
