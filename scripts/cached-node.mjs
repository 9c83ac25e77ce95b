// Prints the bin directory of Node.js <version>, installed once as the `node` npm package into a cache outside the
// repository: ${DECISIONTRAIL_NODE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/decisiontrail/node}/<version>/.
// Used by .ci/run (npm itself on the repository's Node) and by the packaging test (Node 24, an older Node).
//
//   node scripts/cached-node.mjs 24.21.0
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const version = process.argv[2];
if (version === undefined || !/^\d+\.\d+\.\d+$/.test(version)) {
  process.stderr.write('usage: node scripts/cached-node.mjs <major.minor.patch>\n');
  process.exit(2);
}
const cache =
  process.env.DECISIONTRAIL_NODE_CACHE ??
  join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'decisiontrail', 'node');
const dir = join(cache, version);
const bin = join(dir, 'node_modules', '.bin');
if (!existsSync(join(bin, 'node'))) {
  process.stderr.write(`installing Node.js ${version} (the node npm package) into ${dir}\n`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ private: true, dependencies: { node: version }, allowScripts: { node: true } }, null, 2)}\n`,
  );
  // The node package's own install script fetches the platform binary, from the npm registry.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    stdio: ['ignore', 2, 2],
  });
}
process.stdout.write(`${bin}\n`);
