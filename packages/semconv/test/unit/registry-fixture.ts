import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A valid definition manifest in Weaver's current form (no `file_format`: that marks a publication manifest). */
export const MANIFEST = `schema_url: https://example.com/schemas/audit/0.1.0
dependencies:
  - schema_url: https://opentelemetry.io/schemas/1.37.0
`;

/** The smallest valid registry: the record type, one decision attribute, their groups and a decision span. */
export const VALID_MODEL = `file_format: definition/2
attributes:
  - key: audit.record.type
    type:
      members:
        - id: decision
          value: decision
    brief: Kind of audit record.
    stability: development
    examples: [decision]
  - key: audit.decision.id
    type: string
    brief: Decision identifier.
    stability: development
    examples: ["0192f5e4-7c3a-7b21-9d4e-2f6a1c0b8e55"]
attribute_groups:
  - id: audit.record
    visibility: public
    brief: Record.
    stability: development
    attributes:
      - ref: audit.record.type
  - id: audit.decision
    visibility: public
    brief: Decision.
    stability: development
    attributes:
      - ref: audit.decision.id
spans:
  - type: audit.decision
    kind: internal
    name:
      note: audit.decision
    brief: A decision.
    stability: development
    requirement_level: recommended
    attributes:
      - ref: audit.record.type
        requirement_level: required
      - ref: audit.decision.id
        requirement_level: required
`;

/** An extra attribute file for `VALID_MODEL`: one string attribute in its own public group. */
export function attributeFile(attribute: string, group = 'audit.extra', key = 'audit.extra.value'): string {
  return `file_format: definition/2
attributes:
${attribute}
attribute_groups:
  - id: ${group}
    visibility: public
    brief: Extra.
    stability: development
    attributes:
      - ref: ${key}
`;
}

/** Creates a registry directory under the OS temp dir with `files` (path -> content) and returns it. */
export async function writeRegistry(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'semconv-registry-'));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}

/** Removes a directory made by {@link writeRegistry}. */
export async function removeRegistry(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
