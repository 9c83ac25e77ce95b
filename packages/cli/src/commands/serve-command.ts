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
  usage:
    'serve [--host H] [--port P] [--insecure-no-auth] [--data DIR | --clickhouse-url URL] [--config FILE]',
  description:
    'Receives spans on /v1/traces, verifies and stores them. While it runs it holds the embedded store and answers\n' +
    'the other commands (timeline, report, verify, incident, erase, ...) through its query endpoint, so they work\n' +
    'from another terminal. Stops cleanly on Ctrl-C or SIGTERM after draining what it acknowledged.\n' +
    '\n' +
    'Network security (decisiontrail.yaml): processor.auth.tokens names bearer tokens by file or environment\n' +
    'variable, each with scopes ingest (OTLP), read (queries), write (incidents, erasures) or admin; once one is\n' +
    'set every request needs "Authorization: Bearer <token>". processor.receiver.tls (cert, key, clientCa, ca)\n' +
    'serves HTTPS, and a client certificate from clientCa authenticates too. Requests naming a foreign Host\n' +
    '(421), carrying an Origin outside processor.receiver.allowedOrigins (403) or a query that is not\n' +
    'application/json (415) are refused. Without authentication serve binds loopback only, and queries answer\n' +
    'loopback clients only. The other commands send DECISIONTRAIL_TOKEN, the file DECISIONTRAIL_TOKEN_FILE, or\n' +
    'a token of processor.auth.tokens they can read, and trust processor.receiver.tls.ca.',
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
    'insecure-no-auth': {
      type: 'boolean',
      description:
        'allow a non-loopback --host with no credential configured: anyone who reaches it may send spans\n' +
        '(processor.auth.allowUnauthenticated; queries stay loopback-only)',
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
    {
      command: 'serve --host 0.0.0.0 --config decisiontrail.yaml',
      note: 'every interface: needs processor.auth.tokens (or tls.clientCa) in the config',
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
    if (context.options['insecure-no-auth'] === true) config.processor.auth.allowUnauthenticated = true;
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
    const { auth, receiver } = config.processor;
    const access =
      auth.tokens.length > 0 || receiver.tls?.clientCa !== undefined
        ? `authentication: ${auth.tokens.length} token(s)${receiver.tls?.clientCa === undefined ? '' : ', client certificates'}`
        : 'no authentication (loopback query clients only)';
    context.err.line(
      `decisiontrail serve: listening on ${handle.url} (OTLP/HTTP ${handle.url}/v1/traces), store ${where}, ${access}`,
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
