// The packages as users get them: `npm pack` of every publishable workspace package (its prepack builds dist/),
// an application in a temporary directory outside the repository that installs the tarballs plus `openai` and the
// OpenTelemetry SDK from the registry, and then, on Node 22 and on Node 24:
//   (a) NodeSDK + AiAuditInstrumentation + DurableSpanProcessor against a local OpenAI-compatible server,
//   (b) the zero-code path, `node --import @decisiontrail/instrumentation/register`, signing with a key file,
//   (c) the installed `decisiontrail` bin: `keys generate`, `serve`, `timeline` of each decision (verified), `verify`,
//   (d) on Node 22: the agent SDKs (@google/genai, Bedrock Runtime, Mistral, the Vercel AI SDK, LangChain, the MCP
//       client) installed from the registry as the instrumentation's optional peers in the same install, one call
//       of each against local wire-format servers under the --import entry: one decision per SDK (and the MCP tool
//       run) in the timeline, verified.
// Also: what each tarball holds, that the install printed no npm warning and pulled no AI SDK, and that an older
// Node gets a clear message from the bin and the register entry.
//
//   npm run test:packaging            (CI: .ci/run)
//   DECISIONTRAIL_PACKAGING_KEEP=1 …  keeps the temporary directory and prints where it is
//
// Node 24 and the older Node install as the `node` npm package into a cache outside the repository
// (scripts/cached-node.mjs: ${DECISIONTRAIL_NODE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/decisiontrail/node}/<version>/).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startBedrockRuntimeServer } from '../support/bedrock-runtime-server.ts';
import { startGeminiServer } from '../support/gemini-server.ts';
import type { RunningServer } from '../support/http-server.ts';
import { startMistralServer } from '../support/mistral-server.ts';
import { startOpenAiCompatibleServer } from '../support/openai-compatible-server.ts';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
/** Node versions the scenarios run on, besides the repository's own Node 22 (this process). */
const NODE_24 = '24.21.0';
/** A Node older than the packages' `engines`, for the messages it must get. */
const NODE_OLD = '20.20.2';
/** Registry packages the application installs beside the tarballs (the versions the repository tests against). */
const APP_DEPENDENCIES: Record<string, string> = {
  openai: '7.57.0',
  '@opentelemetry/api': '1.10.0',
  '@opentelemetry/sdk-node': '0.301.0',
  '@opentelemetry/sdk-trace': '3.1.0',
  '@opentelemetry/exporter-trace-otlp-proto': '0.301.0',
};
/**
 * The agent SDKs of scenario (d) — optional peers of the instrumentation — and what their calls need beside them,
 * installed at the versions the instrumentation's tests run (its devDependencies: the one place they are named).
 */
const AGENT_SDK_PEERS = [
  '@google/genai',
  '@aws-sdk/client-bedrock-runtime',
  '@mistralai/mistralai',
  'ai',
  '@langchain/core',
  '@modelcontextprotocol/sdk',
];
const AGENT_SDK_COMPANIONS = ['@ai-sdk/openai', '@langchain/openai', 'zod'];
const INSTRUMENTATION_MANIFEST = JSON.parse(
  readFileSync(path.join(REPO, 'packages', 'instrumentation', 'package.json'), 'utf8'),
) as {
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const AGENT_SDK_DEPENDENCIES = Object.fromEntries(
  [...AGENT_SDK_PEERS, ...AGENT_SDK_COMPANIONS].map((name) => {
    const version = INSTRUMENTATION_MANIFEST.devDependencies[name];
    assert.ok(version !== undefined, `packages/instrumentation names no test version of ${name}`);
    return [name, version];
  }),
);
/** The decisions scenario (d) makes, by span name: one per SDK call. */
const AGENT_SDK_DECISIONS = [
  'generate_content gemini-2.5-flash',
  'chat anthropic.claude-3-5-haiku-20241022-v1:0',
  'chat anthropic.claude-3-haiku-20240307-v1:0',
  'chat mistral-small-latest',
  'chat gpt-4o-mini',
  'chat gpt-4.1-mini',
];

/** Packed and checked, but not installed: the demo brings onnxruntime-node, which the scenarios do not need. */
const NOT_INSTALLED = new Set(['@decisiontrail/demo']);

const started = performance.now();
const keep = process.env['DECISIONTRAIL_PACKAGING_KEEP'] === '1';
const root = await mkdtemp(path.join(os.tmpdir(), 'dt-packaging-'));
assert.ok(
  path.relative(REPO, root).startsWith('..'),
  `the temporary directory ${root} must be outside ${REPO}`,
);
const children = new Set<ChildProcess>();

function step(text: string): void {
  process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}\n`);
}

/** An environment without the developer's DECISIONTRAIL_* and npm_* settings, with `node` first on PATH. */
function cleanEnv(nodeBinDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('DECISIONTRAIL_') && !name.startsWith('npm_') && !name.startsWith('OTEL_'),
    ),
  );
  return {
    ...env,
    NO_COLOR: '1',
    PATH: `${nodeBinDir}${path.delimiter}${process.env['PATH'] ?? ''}`,
    ...extra,
  };
}

async function exec(
  file: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; allowFailure?: boolean },
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, {
      cwd: options.cwd,
      env: options.env,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string };
    const result = {
      code: typeof failure.code === 'number' ? failure.code : 1,
      stdout: failure.stdout ?? '',
      stderr: failure.stderr ?? String(error),
    };
    if (options.allowFailure === true) return result;
    throw new Error(
      `${path.basename(file)} ${args.join(' ')} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
      { cause: error },
    );
  }
}

/** The bin directory of Node `version`, the `node` npm package cached outside the repository (scripts/cached-node.mjs). */
async function cachedNode(version: string): Promise<string> {
  const { stdout } = await exec('node', [path.join(REPO, 'scripts', 'cached-node.mjs'), version], {
    cwd: REPO,
    env: cleanEnv(path.dirname(process.execPath)),
  });
  return stdout.trim();
}

/** Every workspace package that is not private, with its folder. */
function publishablePackages(): { name: string; dir: string }[] {
  return readdirSync(path.join(REPO, 'packages'))
    .map((folder) => path.join(REPO, 'packages', folder))
    .filter((dir) => existsSync(path.join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name as string, dir }));
}

interface PackResult {
  name: string;
  filename: string;
  files: { path: string }[];
}

/** Export targets a consumer without the source condition resolves to (every string leaf but the source one). */
function exportTargets(exports: unknown, condition = ''): string[] {
  if (typeof exports === 'string') return condition === '@decisiontrail/source' ? [] : [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.entries(exports as Record<string, unknown>).flatMap(([key, value]) =>
    key === '@decisiontrail/source' ? [] : exportTargets(value, key.startsWith('.') ? condition : key),
  );
}

function checkTarball(pack: PackResult, manifestDir: string): void {
  const manifest = JSON.parse(readFileSync(path.join(manifestDir, 'package.json'), 'utf8')) as {
    exports: unknown;
    bin?: Record<string, string>;
    dependencies?: Record<string, string>;
  };
  const files = new Set(pack.files.map((file) => file.path));
  for (const target of exportTargets(manifest.exports)) {
    const file = target.replace(/^\.\//, '');
    const [prefix, suffix] = file.split('*');
    const present =
      suffix === undefined
        ? files.has(file)
        : [...files].some((name) => name.startsWith(prefix!) && name.endsWith(suffix));
    assert.ok(present, `${pack.name}: the tarball has nothing for ${target} (exports)`);
  }
  for (const bin of Object.values(manifest.bin ?? {})) {
    assert.ok(files.has(bin.replace(/^\.\//, '')), `${pack.name}: the tarball lacks its bin ${bin}`);
  }
  assert.ok(
    files.has('dist/index.js') && files.has('dist/index.d.ts'),
    `${pack.name}: no built JS and types`,
  );
  assert.ok(![...files].some((file) => file.endsWith('.tsbuildinfo')), `${pack.name}: ships a .tsbuildinfo`);
  // Every built file has its source: nothing left over from a file since moved or deleted.
  for (const file of files) {
    const source = /^dist\/(.*)\.(js|d\.ts)$/.exec(file)?.[1];
    if (source !== undefined) {
      assert.ok(existsSync(path.join(manifestDir, 'src', `${source}.ts`)), `${pack.name}: stale ${file}`);
    }
  }
  if (pack.name === '@decisiontrail/cli') {
    for (const sdk of ['openai', 'onnxruntime-node', '@anthropic-ai/sdk']) {
      assert.ok(manifest.dependencies?.[sdk] === undefined, `@decisiontrail/cli depends on ${sdk}`);
    }
  }
}

async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startServe(
  bin: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(bin, ['serve', '--port', '0'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let url: string | undefined;
  await waitFor('decisiontrail serve to listen', () => {
    if (child.exitCode !== null)
      throw new Error(`decisiontrail serve exited with ${child.exitCode}:\n${output}`);
    url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
    return url !== undefined;
  });
  return { url: url!, child, output: () => output };
}

async function stopServe(serve: { child: ChildProcess; output: () => string }): Promise<void> {
  const exited = new Promise<number | null>((resolve) => serve.child.once('exit', (code) => resolve(code)));
  serve.child.kill('SIGTERM');
  const code = await exited;
  children.delete(serve.child);
  assert.equal(code, 0, `decisiontrail serve exited with ${code} after SIGTERM:\n${serve.output()}`);
}

async function storedEverything(url: string): Promise<boolean> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return /^decisiontrail_processor_queue_entries 0$/m.test(text);
}

interface TimelineJson {
  entries: { kind: string; title: string; integrity?: { status: string; detail: string } }[];
  verification: { status: string; detail: string };
}

/** The local servers the apps call: OpenAI-compatible, and for scenario (d) Gemini, Bedrock Runtime and Mistral. */
interface WireServers {
  openai: RunningServer;
  gemini: RunningServer;
  bedrock: RunningServer;
  mistral: RunningServer;
}

/**
 * The scenarios on one Node: a fresh working directory inside the application, its own store and keys. Scenario (d)
 * runs when `agentSdks` is set (on one Node only: the SDKs are plain JavaScript, what it checks is the install).
 */
async function scenarios(
  label: string,
  nodeBin: string,
  app: string,
  servers: WireServers,
  agentSdks: boolean,
): Promise<void> {
  const openaiUrl = servers.openai.url;
  const cwd = path.join(app, `run-${label}`);
  await mkdir(cwd, { recursive: true });
  const env = cleanEnv(nodeBin);
  const { stdout: version } = await exec('node', ['--version'], { cwd, env });
  assert.ok(version.startsWith(`v${label}.`), `expected Node ${label}, PATH gives ${version.trim()}`);
  const decisiontrail = path.join(app, 'node_modules', '.bin', 'decisiontrail');
  const cli = (args: string[], allowFailure = false) => exec(decisiontrail, args, { cwd, env, allowFailure });

  // The processor keeps the apps' non-audit spans too: they are signed into the same streams.
  await writeFile(
    path.join(cwd, 'decisiontrail.yaml'),
    'processor:\n  stages:\n    route:\n      other: store\n',
  );
  step(`Node ${label}: decisiontrail keys generate, serve`);
  const keys = await cli(['keys', 'generate']);
  assert.match(keys.stdout + keys.stderr, /signing\.key/);
  const serve = await startServe(decisiontrail, cwd, env);
  try {
    const appEnv = cleanEnv(nodeBin, {
      TEST_OPENAI_URL: openaiUrl,
      OTEL_EXPORTER_OTLP_ENDPOINT: serve.url,
      DECISIONTRAIL_HMAC_KEY: 'packaging-test-hmac-key',
    });

    step(`Node ${label}: (a) NodeSDK + instrumentation + DurableSpanProcessor`);
    const sdkApp = await exec('node', [path.join(app, 'sdk-app.cjs')], { cwd, env: appEnv });
    const a = JSON.parse(sdkApp.stdout.trim().split('\n').at(-1)!) as {
      llmDecisionIds: string[];
      manualDecisionId: string;
    };
    assert.equal(a.llmDecisionIds.length, 2, `expected a decision per openai call: ${sdkApp.stdout}`);

    step(`Node ${label}: (b) node --import @decisiontrail/instrumentation/register, signing`);
    const zeroCode = await exec(
      'node',
      ['--import', '@decisiontrail/instrumentation/register', path.join(app, 'zero-code-app.mjs')],
      {
        cwd,
        env: {
          ...appEnv,
          DECISIONTRAIL_START_SDK: 'true',
          DECISIONTRAIL_SIGNING_KEY_FILE: '.decisiontrail/keys/signing.key',
          DECISIONTRAIL_SPOOL_DIR: '.decisiontrail/spool-zero-code',
          OTEL_SERVICE_NAME: 'packaging-zero-code-app',
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        },
      },
    );
    assert.match(zeroCode.stderr, /register: signing with key [0-9a-f]+ \(key file /);
    const b = JSON.parse(zeroCode.stdout.trim().split('\n').at(-1)!) as { traceId: string };

    let d: { traceId: string } | undefined;
    if (agentSdks) {
      step(`Node ${label}: (d) the agent SDKs installed as optional peers, under the --import entry`);
      const agentApp = await exec(
        'node',
        ['--import', '@decisiontrail/instrumentation/register', path.join(app, 'agent-sdks-app.mjs')],
        {
          cwd,
          env: {
            ...appEnv,
            TEST_GEMINI_URL: servers.gemini.url,
            TEST_BEDROCK_URL: servers.bedrock.url,
            TEST_MISTRAL_URL: servers.mistral.url,
            DECISIONTRAIL_START_SDK: 'true',
            DECISIONTRAIL_SIGNING_KEY_FILE: '.decisiontrail/keys/signing.key',
            DECISIONTRAIL_SPOOL_DIR: '.decisiontrail/spool-agent-sdks',
            OTEL_SERVICE_NAME: 'packaging-agent-sdks-app',
            OTEL_METRICS_EXPORTER: 'none',
            OTEL_LOGS_EXPORTER: 'none',
          },
        },
      );
      d = JSON.parse(agentApp.stdout.trim().split('\n').at(-1)!) as { traceId: string };
    }

    await waitFor('serve to store what it acknowledged', () => storedEverything(serve.url));

    step(`Node ${label}: (c) decisiontrail timeline, verify`);
    const timelines: [string, string][] = [
      ...[...a.llmDecisionIds, a.manualDecisionId].map((id): [string, string] => [
        id,
        `decision ${id} of (a)`,
      ]),
      [b.traceId, `trace ${b.traceId} of (b)`],
    ];
    for (const [id, what] of timelines) {
      const result = await cli(['timeline', id, '--json']);
      const timeline = JSON.parse(result.stdout) as TimelineJson;
      const decisions = timeline.entries.filter((entry) => entry.kind === 'decision');
      assert.ok(decisions.length > 0, `${what}: no decision entry`);
      for (const entry of decisions) {
        assert.equal(entry.integrity?.status, 'verified', `${what}: ${JSON.stringify(entry.integrity)}`);
      }
      assert.equal(timeline.verification.status, 'verified', `${what}: ${timeline.verification.detail}`);
    }
    if (d !== undefined) {
      const result = await cli(['timeline', d.traceId, '--json']);
      const timeline = JSON.parse(result.stdout) as TimelineJson;
      const decisions = timeline.entries.filter((entry) => entry.kind === 'decision');
      assert.deepEqual(
        decisions.map((entry) => entry.title.split(' → ')[0]).sort(),
        [...AGENT_SDK_DECISIONS].sort(),
        `trace ${d.traceId} of (d): one decision per SDK call`,
      );
      for (const entry of decisions) {
        assert.equal(
          entry.integrity?.status,
          'verified',
          `(d) ${entry.title}: ${JSON.stringify(entry.integrity)}`,
        );
      }
      assert.ok(
        timeline.entries.some((entry) => entry.title.startsWith('execute_tool escalate_ticket')),
        `trace ${d.traceId} of (d): no MCP tool run`,
      );
      assert.equal(timeline.verification.status, 'verified', `(d): ${timeline.verification.detail}`);
    }
    const text = await cli(['timeline', a.manualDecisionId]);
    assert.match(text.stdout, /verified/);
    const verify = await cli(['verify'], true);
    assert.equal(
      verify.code,
      0,
      `decisiontrail verify exit ${verify.code}:\n${verify.stdout}\n${verify.stderr}`,
    );
    // One stream for (a)'s processor and one for each zero-code app.
    assert.match(verify.stdout, new RegExp(`^intact: ${agentSdks ? 3 : 2} stream\\(s\\)`, 'm'));
  } finally {
    await stopServe(serve);
  }
}

try {
  step(`packing every publishable package into ${root}`);
  const tarballs = path.join(root, 'tarballs');
  await mkdir(tarballs);
  const packages = publishablePackages();
  const packed = await exec(
    'npm',
    [
      'pack',
      '--json',
      '--pack-destination',
      tarballs,
      ...packages.flatMap(({ dir }) => ['--workspace', path.relative(REPO, dir)]),
    ],
    { cwd: REPO, env: cleanEnv(path.dirname(process.execPath)) },
  );
  assert.doesNotMatch(packed.stderr, /npm warn/i, `npm pack warned:\n${packed.stderr}`);
  const packs = JSON.parse(packed.stdout) as PackResult[];
  assert.deepEqual(packs.map((pack) => pack.name).sort(), packages.map(({ name }) => name).sort());
  for (const pack of packs) checkTarball(pack, packages.find(({ name }) => name === pack.name)!.dir);
  step(`packed and checked: ${packs.map((pack) => pack.filename).join(', ')}`);

  const app = path.join(root, 'app');
  await mkdir(app);
  const dependencies = Object.fromEntries([
    ...packs
      .filter((pack) => !NOT_INSTALLED.has(pack.name))
      .map((pack) => [pack.name, `file:${path.join(tarballs, pack.filename)}`]),
    ...Object.entries(APP_DEPENDENCIES),
    // Scenario (d)'s SDKs, in the same install: the instrumentation declares them as optional peers.
    ...Object.entries(AGENT_SDK_DEPENDENCIES),
  ]);
  for (const peer of AGENT_SDK_PEERS) {
    assert.ok(
      INSTRUMENTATION_MANIFEST.peerDependencies[peer] !== undefined &&
        INSTRUMENTATION_MANIFEST.peerDependenciesMeta[peer]?.optional === true,
      `${peer} is not an optional peer of @decisiontrail/instrumentation`,
    );
  }
  await writeFile(
    path.join(app, 'package.json'),
    `${JSON.stringify(
      {
        name: 'packaging-test-app',
        private: true,
        type: 'module',
        dependencies,
        // The application's own install-script policy: chdb's script is a no-op, protobufjs's only a version check.
        allowScripts: { chdb: false, protobufjs: false },
      },
      null,
      2,
    )}\n`,
  );
  for (const file of ['sdk-app.cjs', 'zero-code-app.mjs', 'agent-sdks-app.mjs']) {
    await copyFile(path.join(import.meta.dirname, 'app', file), path.join(app, file));
  }
  // Scenario (d)'s SDK calls, shared with the instrumentation's register tests.
  await copyFile(
    path.join(import.meta.dirname, '..', 'support', 'agent-sdk-calls.cjs'),
    path.join(app, 'agent-sdk-calls.cjs'),
  );
  step('npm install of the tarballs, openai, the agent SDKs and the OpenTelemetry SDK in the application');
  const install = await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: app,
    env: cleanEnv(path.dirname(process.execPath)),
  });
  assert.doesNotMatch(install.stdout + install.stderr, /npm warn/i, `npm install warned:\n${install.stderr}`);
  for (const sdk of ['onnxruntime-node', '@anthropic-ai/sdk']) {
    assert.ok(!existsSync(path.join(app, 'node_modules', sdk)), `installing the packages pulled ${sdk}`);
  }

  const servers: WireServers = {
    openai: await startOpenAiCompatibleServer(),
    gemini: await startGeminiServer(),
    bedrock: await startBedrockRuntimeServer(),
    mistral: await startMistralServer(),
  };
  try {
    await scenarios('22', path.dirname(process.execPath), app, servers, true);
    await scenarios('24', await cachedNode(NODE_24), app, servers, false);
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.close()));
  }

  step('decisiontrail demo without @decisiontrail/demo installed says what to install');
  const demo = await exec(path.join(app, 'node_modules', '.bin', 'decisiontrail'), ['demo'], {
    cwd: app,
    env: cleanEnv(path.dirname(process.execPath)),
    allowFailure: true,
  });
  assert.equal(demo.code, 6, `decisiontrail demo exit ${demo.code}:\n${demo.stderr}`);
  assert.equal(
    demo.stderr,
    'decisiontrail: demo: the demo is a separate package that is not installed here; install it beside the CLI with ' +
      '"npm install @decisiontrail/demo" (it brings onnxruntime-node and openai), then run "decisiontrail demo" again\n',
  );
  assert.ok(!existsSync(path.join(app, '.decisiontrail')), 'the refused demo left files behind');

  step(`Node ${NODE_OLD}: the bin and the register entry refuse it with a message`);
  const oldEnv = cleanEnv(await cachedNode(NODE_OLD));
  const oldBin = await exec(path.join(app, 'node_modules', '.bin', 'decisiontrail'), ['--help'], {
    cwd: app,
    env: oldEnv,
    allowFailure: true,
  });
  assert.equal(oldBin.code, 2);
  assert.equal(oldBin.stderr, `decisiontrail: needs Node.js 22.15 or later; this is Node.js ${NODE_OLD}\n`);
  const oldRegister = await exec(
    'node',
    ['--import', '@decisiontrail/instrumentation/register', '-e', 'console.log("ran")'],
    {
      cwd: app,
      env: oldEnv,
    },
  );
  assert.equal(oldRegister.stdout, 'ran\n');
  assert.match(
    oldRegister.stderr,
    /register: needs Node\.js 22\.15 or later; this is Node\.js 20\.20\.2: AI calls are NOT audited/,
  );

  step('packaging test passed');
} finally {
  for (const child of children) child.kill('SIGKILL');
  if (keep) process.stdout.write(`kept ${root}\n`);
  else await rm(root, { recursive: true, force: true });
}
