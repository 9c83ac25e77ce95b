import { CliError, usageError } from '../cli-error.ts';
import { findLiveServe } from '../store/serve-state.ts';
import type { CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { stringOption } from './option-values.ts';

/** `decisiontrail serve` */
export const serveCommand: CommandSpec = {
  kind: 'command',
  name: 'serve',
  summary: 'run the processor: OTLP/HTTP receiver, verification, policy, durable queue, store',
  usage: 'serve [--host H] [--port P] [--data DIR | --clickhouse-url URL] [--config FILE]',
  description:
    'Receives spans on /v1/traces, verifies and stores them. While it runs it holds the embedded store and answers\n' +
    'the other commands (timeline, report, verify, incident, erase, ...) through its loopback query endpoint, so\n' +
    'they work from another terminal. Stops cleanly on Ctrl-C or SIGTERM after draining what it acknowledged.',
  options: {
    host: {
      type: 'string',
      valueName: 'H',
      description: 'bind address (default 127.0.0.1, from processor.receiver.host)',
    },
    port: {
      type: 'string',
      valueName: 'P',
      description: 'port (default 4318, from processor.receiver.port; 0 picks a free one)',
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: false,
  examples: [
    { command: 'serve', note: 'embedded store in ./.decisiontrail/data, OTLP on 127.0.0.1:4318' },
    {
      command: 'serve --config decisiontrail.yaml --port 14318',
      note: 'settings from the config file, another port',
    },
  ],
  async run(context) {
    const config = structuredClone(context.settings.config);
    const host = stringOption(context, 'host');
    const port = stringOption(context, 'port');
    if (host !== undefined) config.processor.receiver.host = host;
    if (port !== undefined) {
      if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535)
        throw usageError(`serve: --port must be 0..65535, got ${JSON.stringify(port)}`);
      config.processor.receiver.port = Number(port);
    }
    if (config.storage.clickhouse.url === undefined) {
      const live = await findLiveServe(config.storage.dataDir);
      if (live !== undefined) {
        throw new CliError(
          'STORE_UNREACHABLE',
          `decisiontrail serve (pid ${live.pid}, ${live.url}) already holds the store at ${config.storage.dataDir}`,
        );
      }
    }
    const { startProcessor } = await import('@decisiontrail/processor');
    const handle = await startProcessor(config, {
      log: (message) => context.err.line(`decisiontrail serve: ${message}`),
    });
    const where = config.storage.clickhouse.url ?? config.storage.dataDir;
    context.err.line(
      `decisiontrail serve: listening on ${handle.url} (OTLP/HTTP ${handle.url}/v1/traces), store ${where}`,
    );
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      else context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    context.err.line('decisiontrail serve: stopping; draining acknowledged spans');
    await handle.close();
    return EXIT_CODES.OK;
  },
};
