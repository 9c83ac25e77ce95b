// Runs a processor from a config file in its own process (the crash test SIGKILLs it; the benchmark measures it).
// Prints one JSON line `{ "url": ... }` once it listens; SIGTERM closes it gracefully. SIGUSR2 prints to stderr
// how long the processor thread's event loop was held, and its garbage collection pauses, since the last SIGUSR2
// (the benchmark marks its phases with it, to tell a slow acknowledgement held by this thread from one held by
// the disk).
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { loadConfig, startProcessor } from '@decisiontrail/processor';

const config = await loadConfig(process.argv[2]!);
const processor = await startProcessor(config, { log: (message) => process.stderr.write(`${message}\n`) });

// From here on, not while the store opens.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let pauses: PerformanceEntry[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.duration >= 20) pauses.push(entry);
}).observe({ entryTypes: ['gc'] });
process.on('SIGUSR2', () => {
  const ms = (ns: number): string => (ns / 1e6).toFixed(1);
  const longest = Math.max(0, ...pauses.map((entry) => entry.duration));
  process.stderr.write(
    `processor thread: event loop held p99 ${ms(loopDelay.percentile(99))} ms, max ${ms(loopDelay.max)} ms; ` +
      `GC pauses of 20 ms or more: ${pauses.length} (longest ${longest.toFixed(1)} ms)\n`,
  );
  loopDelay.reset();
  pauses = [];
});
process.stdout.write(`${JSON.stringify({ url: processor.url, pid: process.pid })}\n`);
process.on('SIGTERM', () => {
  void processor.close().then(() => process.exit(0));
});
