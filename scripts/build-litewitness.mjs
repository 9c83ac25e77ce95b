#!/usr/bin/env node
// Installs litewitness and witnessctl (filippo.io/torchwood, a C2SP tlog-witness) from the Go module proxy with
// `go install`, for the witness end-to-end test. The binaries land outside the repository, in
//   ${DECISIONTRAIL_LITEWITNESS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/decisiontrail/litewitness}/<version>/bin/
// so a second run (and every test run) reuses them.
//
// Usage:
//   node scripts/build-litewitness.mjs               install when missing, print the bin directory
//   node scripts/build-litewitness.mjs --print-path  print the bin directory, install nothing
//
// Progress goes to stderr; stdout carries only the directory, so callers can capture it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The torchwood release the test was written against (tlog-witness answers as litewitness v0.6.1 gives them). */
export const TORCHWOOD_VERSION = 'v0.6.1';
const TOOLS = ['litewitness', 'witnessctl'];

function cacheRoot() {
  if (process.env.DECISIONTRAIL_LITEWITNESS_CACHE)
    return resolve(process.env.DECISIONTRAIL_LITEWITNESS_CACHE);
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'decisiontrail', 'litewitness');
}

function log(message) {
  process.stderr.write(`[witness:build] ${message}\n`);
}

const binDir = join(cacheRoot(), TORCHWOOD_VERSION, 'bin');
const complete = () => TOOLS.every((tool) => existsSync(join(binDir, tool)));

if (process.argv.includes('--print-path')) {
  process.stdout.write(`${binDir}\n`);
  process.exit(0);
}
if (complete()) {
  log(`cached: ${binDir}`);
  process.stdout.write(`${binDir}\n`);
  process.exit(0);
}
const staging = `${binDir}.tmp-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
log(
  `go install filippo.io/torchwood/cmd/{${TOOLS.join(',')}}@${TORCHWOOD_VERSION} (a few minutes the first time)`,
);
const result = spawnSync(
  'go',
  ['install', ...TOOLS.map((tool) => `filippo.io/torchwood/cmd/${tool}@${TORCHWOOD_VERSION}`)],
  { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: staging, GOFLAGS: '-mod=mod' } },
);
if (result.error || result.status !== 0) {
  rmSync(staging, { recursive: true, force: true });
  log(`error: go install failed (${result.error?.message ?? `exit ${result.status}`}); is Go on the PATH?`);
  process.exit(1);
}
rmSync(binDir, { recursive: true, force: true });
renameSync(staging, binDir);
log(`installed: ${binDir}`);
process.stdout.write(`${binDir}\n`);
