import path from 'node:path';
import { defaultConfig, findConfigFile, loadConfig, type DecisionTrailConfig } from '@decisiontrail/core';
import { usageError } from './cli-error.ts';
import type { GlobalOptionValues } from './global-options.ts';

/** Everything a command needs to know about where things are, after flags, environment and decisiontrail.yaml. */
export interface ResolvedSettings {
  /** The shared configuration with command-line flags applied on top. */
  config: DecisionTrailConfig;
  /** The configuration file that was read, if any. */
  configPath: string | undefined;
  /** `--json` was given. */
  json: boolean;
  /** Working directory relative paths on the command line resolve against. */
  cwd: string;
  /** The process environment. */
  env: NodeJS.ProcessEnv;
}

/**
 * Resolves settings with the precedence flags > environment > decisiontrail.yaml > defaults. The file is the one
 * every component reads (core's `loadConfig`), so its validation errors name the offending key.
 */
export async function resolveSettings(
  globals: GlobalOptionValues,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<ResolvedSettings> {
  if (globals.data !== undefined && globals.clickhouseUrl !== undefined) {
    throw usageError('--data and --clickhouse-url exclude each other: pick the embedded store or a server');
  }
  if (globals.clickhouseUrl !== undefined && !URL.canParse(globals.clickhouseUrl)) {
    throw usageError(`--clickhouse-url: not a URL: ${JSON.stringify(globals.clickhouseUrl)}`);
  }
  const configPath = findConfigFile(cwd, env, globals.config);
  const loaded =
    configPath === undefined ? defaultConfig({ baseDir: cwd, env }) : await loadConfig(configPath, { env });
  const config: DecisionTrailConfig = structuredClone(loaded);
  if (globals.data !== undefined) {
    // The queue directory sits beside the data directory unless the file names one: it follows --data.
    if (config.processor.queue.dir === path.join(path.dirname(config.storage.dataDir), 'queue')) {
      config.processor.queue.dir = path.join(path.dirname(path.resolve(cwd, globals.data)), 'queue');
    }
    config.storage.dataDir = path.resolve(cwd, globals.data);
    // --data asks for the embedded store explicitly, even if the file or environment names a server.
    config.storage.clickhouse.url = undefined;
  }
  if (globals.clickhouseUrl !== undefined) config.storage.clickhouse.url = globals.clickhouseUrl;
  return { config, configPath, json: globals.json, cwd, env };
}
