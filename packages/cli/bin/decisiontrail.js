#!/usr/bin/env node
// Launcher for the `decisiontrail` command.
// Installed from the registry or a tarball (the package sits in a node_modules directory) it runs the built
// JavaScript in dist/ in this process. In a repository checkout it runs the TypeScript source instead, so nothing
// has to be built first: workspace packages resolve to their source only under the `@decisiontrail/source` export
// condition, which can be set only on the command line, so the launcher re-spawns Node with that condition and
// forwards stdio, signals and the exit status.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = realpathSync(fileURLToPath(import.meta.url));
const source = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const builtUrl = new URL('../dist/main.js', import.meta.url);
const built = fileURLToPath(builtUrl);
const checkout = !here.split(/[\\/]/).includes('node_modules') && existsSync(source);

// The OpenTelemetry SDK 3.x line needs 22.15; running TypeScript without a flag needs 22.18.
const [major, minor] = process.versions.node.split('.').map(Number);
const needed = checkout ? [22, 18] : [22, 15];
if (major < needed[0] || (major === needed[0] && minor < needed[1])) {
  process.stderr.write(
    `decisiontrail: needs Node.js ${needed.join('.')} or later; this is Node.js ${process.versions.node}\n`,
  );
  process.exit(2);
}

if (!checkout) {
  if (!existsSync(built)) {
    process.stderr.write(
      `decisiontrail: this installation has no built CLI (${built} is missing); reinstall @decisiontrail/cli\n`,
    );
    process.exit(10);
  }
  await import(builtUrl.href);
} else {
  runSource();
}

function runSource() {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@decisiontrail/source',
      '--disable-warning=ExperimentalWarning',
      source,
      ...process.argv.slice(2),
    ],
    // The fourth descriptor is a pipe the child only watches: the kernel closes it when this process dies, however
    // it dies, so a SIGKILL of the launcher (which cannot be forwarded) still stops the CLI — serve drains and exits
    // rather than running on with its engine and port. src/main.ts reads the descriptor's number from the variable.
    {
      stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, DECISIONTRAIL_LAUNCHER_FD: '3' },
    },
  );

  // Ctrl-C reaches the child directly (same process group); forwarding it as well would deliver it twice, and the
  // second one means "exit now". So SIGINT is only kept from killing the launcher, while SIGTERM and SIGHUP, which
  // are sent to this process alone (kill <pid>, a supervisor stopping `decisiontrail serve`), are forwarded.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      child.kill(signal);
    });
  }

  child.on('error', (error) => {
    process.stderr.write(`decisiontrail: cannot start Node.js: ${error.message}\n`);
    process.exit(10);
  });

  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 10);
  });
}
