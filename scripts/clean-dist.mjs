// `prepack` of every publishable package: `node ../../scripts/clean-dist.mjs && tsc -b`. The build starts from an
// empty dist/, so a tarball never carries output of a source file that has since been moved or deleted.
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
