#!/usr/bin/env node
// Builds the OpenTelemetry Collector distribution described by collector-config/builder-config.yaml
// with the OpenTelemetry Collector Builder (ocb), from Go modules only.
//
// The binary lands outside the repository, in
//   ${DECISIONTRAIL_OTELCOL_CACHE:-${XDG_CACHE_HOME:-~/.cache}/decisiontrail/otelcol}/<sha256 of the manifest>/
// so a second run (and every test run) reuses it, and a changed manifest builds next to the old one.
// The builder itself is pinned to the manifest's `dist.version` and cached under `tools/`.
//
// Usage:
//   node collector-config/scripts/build-collector.mjs               build when missing, print the binary path
//   node collector-config/scripts/build-collector.mjs --print-path  print where the binary is (or would be), build nothing
//   node collector-config/scripts/build-collector.mjs --force       rebuild even when the binary exists
//
// Progress goes to stderr; stdout carries only the binary path, so callers can capture it.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const BUILDER_MODULE = 'go.opentelemetry.io/collector/cmd/builder';
const manifestPath = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'builder-config.yaml');

/** Root of the cache: one sub-directory per manifest hash, plus `tools/` for builder binaries. */
function cacheRoot() {
  if (process.env.DECISIONTRAIL_OTELCOL_CACHE) return resolve(process.env.DECISIONTRAIL_OTELCOL_CACHE);
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'decisiontrail', 'otelcol');
}

function log(message) {
  process.stderr.write(`[collector:build] ${message}\n`);
}

function fail(message) {
  log(`error: ${message}`);
  process.exit(1);
}

/** Runs a command with inherited stderr; exits with its output when it fails. */
function run(command, args, options) {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    ...options,
  });
  if (result.error) fail(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) {
    process.stderr.write(result.stdout ?? '');
    process.stderr.write(result.stderr ?? '');
    fail(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  }
  return result.stdout;
}

function directorySizeBytes(path) {
  const out = spawnSync('du', ['-sb', path], { encoding: 'utf8' });
  return out.status === 0 ? Number(out.stdout.split(/\s/)[0]) : NaN;
}

const manifestText = readFileSync(manifestPath, 'utf8');
const manifest = parse(manifestText);
const distName = manifest?.dist?.name;
const distVersion = manifest?.dist?.version;
if (typeof distName !== 'string' || typeof distVersion !== 'string') {
  fail(`${manifestPath} must set dist.name and dist.version (the builder version is v<dist.version>)`);
}
const builderVersion = `v${distVersion}`;
const hash = createHash('sha256').update(manifestText).digest('hex');
const root = cacheRoot();
const targetDir = join(root, hash);
const binaryPath = join(targetDir, distName);
const args = new Set(process.argv.slice(2));

if (args.has('--print-path')) {
  process.stdout.write(`${binaryPath}\n`);
  process.exit(0);
}

if (existsSync(binaryPath) && !args.has('--force')) {
  log(`reusing ${binaryPath}`);
  process.stdout.write(`${binaryPath}\n`);
  process.exit(0);
}

// `go` on PATH, else the usual install location: a non-interactive shell (CI) may not have the
// PATH an interactive login adds. The builder finds `go` through PATH too, so its folder goes first.
const goBinary = [process.env.GO, 'go', '/usr/local/go/bin/go'].find(
  (candidate) => candidate !== undefined && spawnSync(candidate, ['version']).status === 0,
);
if (goBinary === undefined) {
  fail('the Go toolchain (`go`) is required to build the Collector; install Go 1.25 or newer');
}
log(`${run(goBinary, ['version']).trim()}; manifest sha256 ${hash}`);
const goBinDir = goBinary.includes('/') ? dirname(goBinary) : undefined;

// -mod=mod lets the builder's `go mod tidy` and `go build` resolve modules through the configured
// GOPROXY without a vendor directory; the machine's own GOFLAGS (e.g. -buildvcs=false) are kept.
const goEnv = {
  ...process.env,
  PATH: [goBinDir, process.env.PATH].filter(Boolean).join(delimiter),
  GOFLAGS: [process.env.GOFLAGS ?? run(goBinary, ['env', 'GOFLAGS']).trim(), '-mod=mod']
    .filter(Boolean)
    .join(' '),
};

const started = Date.now();
const toolsDir = join(root, 'tools', `builder-${builderVersion}`);
const builderPath = join(toolsDir, 'builder');
if (!existsSync(builderPath)) {
  log(`installing ${BUILDER_MODULE}@${builderVersion}`);
  mkdirSync(toolsDir, { recursive: true });
  run(goBinary, ['install', `${BUILDER_MODULE}@${builderVersion}`], { env: { ...goEnv, GOBIN: toolsDir } });
}

// Build in a private directory next to the target and move the binary in last, so a binary at
// binaryPath always means a finished build, even when two builds race or one is interrupted.
const workDir = join(root, `.build-${hash.slice(0, 16)}-${process.pid}`);
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
// Also after a failed build: the generated sources are only worth keeping inside a finished one.
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
const srcDir = join(workDir, 'src');
const workManifest = join(workDir, 'builder-config.yaml');
writeFileSync(workManifest, stringify({ ...manifest, dist: { ...manifest.dist, output_path: srcDir } }));

log(`building ${distName} ${distVersion} (this takes a few minutes on 2 cores when the Go caches are cold)`);
run(builderPath, ['--config', workManifest, '--ldflags=-s -w'], { env: goEnv, cwd: workDir });

mkdirSync(targetDir, { recursive: true });
for (const file of ['go.mod', 'go.sum']) copyFileSync(join(srcDir, file), join(targetDir, file));
copyFileSync(manifestPath, join(targetDir, 'builder-config.yaml'));
renameSync(join(srcDir, distName), binaryPath);

const seconds = ((Date.now() - started) / 1000).toFixed(1);
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(0);
log(
  `built in ${seconds}s: ${binaryPath} (${mib(statSync(binaryPath).size)} MiB); ` +
    `cache ${mib(directorySizeBytes(root))} MiB`,
);
process.stdout.write(`${binaryPath}\n`);
