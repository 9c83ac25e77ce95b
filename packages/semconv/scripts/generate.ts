// Generates packages/semconv/src and semconv/docs from the registry in semconv/.
//   node packages/semconv/scripts/generate.ts           write the generated files
//   node packages/semconv/scripts/generate.ts --check   exit 1 naming every stale file, write nothing
//   --root <dir>   use another repository root (tests run the CLI on a copy)
import path from 'node:path';
import { findStaleFiles, generateFiles, writeFiles } from './generate-files.ts';
import { RegistryError } from './registry-error.ts';

const args = process.argv.slice(2);
const check = args.includes('--check');
const rootIndex = args.indexOf('--root');
const repoRoot =
  rootIndex === -1 ? path.resolve(import.meta.dirname, '../../..') : path.resolve(args[rootIndex + 1] ?? '.');

try {
  const files = await generateFiles(repoRoot);
  if (check) {
    const stale = await findStaleFiles(repoRoot, files);
    if (stale.length > 0) {
      console.error(
        `semconv: ${stale.length} generated file(s) are stale; run \`npm run semconv:generate\`:\n` +
          stale.map((file) => `  ${file}`).join('\n'),
      );
      process.exitCode = 1;
    } else {
      console.log(`semconv: ${files.length} generated files are up to date`);
    }
  } else {
    await writeFiles(repoRoot, files);
    console.log(`semconv: wrote ${files.length} files`);
  }
} catch (error) {
  if (!(error instanceof RegistryError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
