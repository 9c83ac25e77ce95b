import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { loadRegistry } from './load-registry.ts';
import { GENERATED_DOCS_DIR, renderMarkdown } from './render-markdown.ts';
import { GENERATED_TS_DIR, renderTypeScript } from './render-typescript.ts';
import type { RenderedFile } from './render-typescript.ts';

/** Directories whose every file the generator owns: a file there that it no longer generates is stale. */
export const GENERATED_DIRS = [GENERATED_TS_DIR, GENERATED_DOCS_DIR];

/** The registry directory, relative to the repository root. */
export const REGISTRY_DIR = 'semconv';

/**
 * Loads and validates the registry under `repoRoot` and renders every generated file. TypeScript is formatted with
 * the repository's Prettier configuration, so it is exactly what `prettier --write` would leave; Markdown is left as
 * rendered because Prettier would pad every table row to the width of its longest note.
 */
export async function generateFiles(repoRoot: string): Promise<RenderedFile[]> {
  const registry = await loadRegistry(path.join(repoRoot, REGISTRY_DIR));
  const typescript = await Promise.all(
    renderTypeScript(registry).map(async (file) => {
      const absolute = path.join(repoRoot, file.path);
      const options = (await resolveConfig(absolute)) ?? {};
      return { path: file.path, content: await format(file.content, { ...options, filepath: absolute }) };
    }),
  );
  return [...typescript, ...renderMarkdown(registry)];
}

/** Paths (relative to `repoRoot`) that differ from `files`, are missing, or sit in a generated directory unasked. */
export async function findStaleFiles(repoRoot: string, files: readonly RenderedFile[]): Promise<string[]> {
  const stale: string[] = [];
  for (const file of files) {
    const current = await readFile(path.join(repoRoot, file.path), 'utf8').catch(() => undefined);
    if (current !== file.content) stale.push(file.path);
  }
  stale.push(...(await findExtraFiles(repoRoot, files)));
  return stale.sort();
}

/** Writes `files` and removes files in the generated directories that are no longer generated. */
export async function writeFiles(repoRoot: string, files: readonly RenderedFile[]): Promise<void> {
  for (const extra of await findExtraFiles(repoRoot, files)) await rm(path.join(repoRoot, extra));
  for (const file of files) {
    const absolute = path.join(repoRoot, file.path);
    await mkdir(path.dirname(absolute), { recursive: true });
    await writeFile(absolute, file.content);
  }
}

async function findExtraFiles(repoRoot: string, files: readonly RenderedFile[]): Promise<string[]> {
  const wanted = new Set(files.map((file) => file.path));
  const extra: string[] = [];
  for (const dir of GENERATED_DIRS) {
    const entries = await readdir(path.join(repoRoot, dir), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isFile() && !wanted.has(relative)) extra.push(relative);
    }
  }
  return extra;
}
