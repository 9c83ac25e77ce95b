import { runCli } from './run-cli.ts';

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

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
process.exitCode = code;
