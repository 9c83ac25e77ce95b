import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/ARCHITECTURE.md: no cycles between packages, and none between the modules of one package. Only imports that
// load code count (`import type` and `export type` vanish at run time); a dynamic import() is how a module loads
// something on demand and is not followed.

const packagesDir = fileURLToPath(new URL('../../../packages/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [file] : [];
  });
}

const STATIC_IMPORT = /^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gmu;

/** The specifiers a module loads at run time. */
function runtimeImports(source: string): string[] {
  return [...source.matchAll(STATIC_IMPORT)].map((match) => match[1]!);
}

/** Every cycle of the graph, each as the path that closes it (first node repeated at the end). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

const packages = readdirSync(packagesDir).filter((name) => {
  try {
    return statSync(path.join(packagesDir, name, 'src')).isDirectory();
  } catch {
    return false;
  }
});

describe('import cycles', () => {
  it('no package loads a package that loads it back', () => {
    const graph = new Map<string, string[]>();
    for (const name of packages) {
      const used = new Set<string>();
      for (const file of sourceFiles(path.join(packagesDir, name, 'src'))) {
        for (const specifier of runtimeImports(readFileSync(file, 'utf8'))) {
          const other = /^@decisiontrail\/([^/]+)/u.exec(specifier)?.[1];
          if (other !== undefined && other !== name) used.add(other);
        }
      }
      graph.set(name, [...used]);
    }
    expect(cycles(graph)).toEqual([]);
  });

  for (const name of packages) {
    it(`no module of ${name} loads one that loads it back`, () => {
      const src = path.join(packagesDir, name, 'src');
      const graph = new Map<string, string[]>();
      for (const file of sourceFiles(src)) {
        const relative = runtimeImports(readFileSync(file, 'utf8'))
          .filter((specifier) => specifier.startsWith('.'))
          .map((specifier) => path.relative(src, path.resolve(path.dirname(file), specifier)));
        graph.set(path.relative(src, file), relative);
      }
      expect(cycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
    });
  }
});
