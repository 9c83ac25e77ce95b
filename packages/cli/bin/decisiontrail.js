#!/usr/bin/env node
// Launcher for the `decisiontrail` command. The CLI runs its TypeScript source directly (Node 22 type stripping),
// and workspace packages resolve to their source only under the `@decisiontrail/source` export condition, which
// can be set only on the command line: so this file re-spawns Node with that condition and forwards stdio,
// signals and the exit status.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `decisiontrail: needs Node.js 22.18 or later (this is ${process.versions.node}); run it through npm: npm exec -- decisiontrail ...\n`,
  );
  process.exit(2);
}

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const child = spawn(
  process.execPath,
  [
    '--conditions=@decisiontrail/source',
    '--disable-warning=ExperimentalWarning',
    main,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
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
