// Generates packages/semconv/src and semconv/docs from the registry in semconv/.
//   node packages/semconv/scripts/generate.ts           write the generated files
//   node packages/semconv/scripts/generate.ts --check   exit 1 naming every stale file, write nothing
import path from 'node:path';
import { findStaleFiles, generateFiles, writeFiles } from './generate-files.ts';
import { RegistryError } from './registry-error.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const check = process.argv.includes('--check');

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
