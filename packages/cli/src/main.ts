import { Socket } from 'node:net';

import type { runCli as RunCliFunction } from './run-cli.ts';

type RunCli = typeof RunCliFunction;

// Entry point run by bin/decisiontrail.js. The first Ctrl-C aborts the running command so it can stop cleanly
// (a verify prints what it found so far, serve drains); a second one exits at once.
const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
});
process.on('SIGTERM', () => {
  if (controller.signal.aborted) process.exit(143);
  controller.abort();
});

// In a checkout bin/decisiontrail.js runs this file in a second Node process and holds the other end of a pipe on
// the descriptor named here. The pipe closes when the launcher dies, even by SIGKILL, which it cannot forward: this
// process then stops as on SIGTERM instead of running on without it (serve with its engine and port).
const launcherFd = Number(process.env['DECISIONTRAIL_LAUNCHER_FD'] ?? Number.NaN);
delete process.env['DECISIONTRAIL_LAUNCHER_FD'];
if (Number.isInteger(launcherFd) && process.platform !== 'win32') {
  try {
    const launcher = new Socket({ fd: launcherFd, readable: true, writable: false });
    launcher.on('error', () => {});
    launcher.on('close', () => {
      if (!controller.signal.aborted) controller.abort();
    });
    launcher.resume();
    launcher.unref();
  } catch {
    // Not a pipe (the variable set by hand): nothing to watch.
  }
}

// Loaded dynamically so that even a broken installation (a module that fails to load) ends in one line.
let runCli: RunCli;
try {
  ({ runCli } = await import('./run-cli.ts'));
} catch (error) {
  process.stderr.write(`decisiontrail: cannot load the CLI: ${(error as Error).message.split('\n')[0]}\n`);
  if (process.env['DECISIONTRAIL_DEBUG'] === '1') process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(10);
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
