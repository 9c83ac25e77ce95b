import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { RegistryError } from './registry-error.ts';
import type { RegistryIssue } from './registry-error.ts';
import type { Registry } from './registry-types.ts';
import { UPSTREAM_ATTRIBUTES } from './upstream-attributes.ts';
import { validateRegistry } from './validate-registry.ts';
import type { RegistryDocument } from './validate-registry.ts';

/** Weaver reads the manifest from `manifest.yaml`. */
const MANIFEST_FILE = 'manifest.yaml';
/** The name Weaver releases before the v2 manifest read; current Weaver flags it (an error under --future). */
const LEGACY_MANIFEST_FILE = 'registry_manifest.yaml';

/**
 * Reads and validates the registry in `registryDir`: its manifest and every `*.yaml` file below it (the generated
 * `docs/` folder excluded). Throws {@link RegistryError} listing every issue, each naming its file.
 */
export async function loadRegistry(registryDir: string): Promise<Registry> {
  const issues: RegistryIssue[] = [];
  const files = (await listYamlFiles(registryDir)).sort();
  if (files.includes(LEGACY_MANIFEST_FILE)) {
    issues.push({
      file: LEGACY_MANIFEST_FILE,
      subject: '',
      message: `the legacy manifest name; Weaver reads the manifest from ${MANIFEST_FILE}: rename it`,
    });
  } else if (!files.includes(MANIFEST_FILE)) {
    throw new RegistryError([
      { file: '.', subject: '', message: `no ${MANIFEST_FILE} in the registry directory` },
    ]);
  }
  const documents: RegistryDocument[] = [];
  let manifest: unknown;
  for (const file of files) {
    if (file === LEGACY_MANIFEST_FILE) continue;
    let content: unknown;
    try {
      content = parse(await readFile(path.join(registryDir, file), 'utf8'));
    } catch (error) {
      issues.push({
        file,
        subject: '',
        message: `not valid YAML: ${(error as Error).message.split('\n')[0]}`,
      });
      continue;
    }
    if (file === MANIFEST_FILE) manifest = content;
    else documents.push({ file, content });
  }
  if (issues.length > 0) throw new RegistryError(issues);
  return validateRegistry({
    manifestFile: MANIFEST_FILE,
    manifest,
    documents,
    upstream: UPSTREAM_ATTRIBUTES,
  });
}

/** Lists `*.yaml` files below `dir` as POSIX paths relative to it, skipping the generated `docs/` folder. */
async function listYamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.yaml'))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((file) => !file.startsWith('docs/'));
}
