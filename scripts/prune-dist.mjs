// `prepack` of every publishable package: `node ../../scripts/prune-dist.mjs && tsc -b`. Deletes what dist/ holds
// for a source file that no longer exists (moved or deleted: tsc never removes its old output), so a tarball never
// carries it; `tsc -b` then brings the rest up to date, which after a build is nothing to do.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const OUTPUT = /^(.*)\.(?:js|js\.map|d\.ts|d\.ts\.map)$/;

function prune(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) {
      prune(file);
      continue;
    }
    const base = OUTPUT.exec(relative('dist', file))?.[1];
    if (base === undefined) continue;
    try {
      statSync(join('src', `${base}.ts`));
    } catch {
      rmSync(file);
    }
  }
}

prune('dist');
