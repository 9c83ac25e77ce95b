// Runs a processor from a config file in its own process (the crash test SIGKILLs it; the benchmark measures it).
// Prints one JSON line `{ "url": ... }` once it listens; SIGTERM closes it gracefully.
import { loadConfig, startProcessor } from '@decisiontrail/processor';

const config = await loadConfig(process.argv[2]!);
const processor = await startProcessor(config, { log: (message) => process.stderr.write(`${message}\n`) });
process.stdout.write(`${JSON.stringify({ url: processor.url, pid: process.pid })}\n`);
process.on('SIGTERM', () => {
  void processor.close().then(() => process.exit(0));
});
