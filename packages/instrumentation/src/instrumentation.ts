import { ProxyTracerProvider, trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import {
  InstrumentationBase,
  type InstrumentationModuleDefinition,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { messagesSpec } from './anthropic/messages.ts';
import { type AuditSettings, replaceAuditSettings, resolveAuditSettings } from './config.ts';
import type { ResourceMethod } from './internal-types.ts';
import { inferenceSessionOf, onnxFrameworkVersion } from './onnx/onnx-module.ts';
import { patchSessionCreate, patchSessionRun } from './onnx/inference-session.ts';
import {
  chatCompleteSpec,
  chatStreamSpec,
  mistralChatPrototype,
  recogniseMistralChat,
} from './mistral/chat.ts';
import { type LangChainCallbackHandler, langChainCallbackHandler } from './langchain/callback-handler.ts';
import { patchGenerateUncached, patchStreamIterator } from './langchain/chat-model.ts';
import { patchCallTool } from './mcp/call-tool.ts';
import { hookMcpCommonJsClient, MCP_COMMONJS_CLIENT_FILE } from './mcp/commonjs-client-hook.ts';
import {
  type AiSdkTelemetryIntegration,
  aiSdkTelemetryIntegration,
} from './vercel-ai/telemetry-integration.ts';
import { chatCompletionsSpec } from './openai/chat-completions.ts';
import { embeddingsSpec } from './openai/embeddings.ts';
import { responsesSpec } from './openai/responses.ts';
import { recogniseBedrockCommand, withSendCallbacks } from './bedrock/runtime-client.ts';
import { generateContentSpecs, type GenAiModelsThis } from './google-genai/generate-content.ts';
import { type CallRecogniser, type PatchHost, patchCreate, patchMethod } from './patched-create.ts';
import type { AiAuditInstrumentationConfig } from './types.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

/** Module names this instrumentation patches; the ESM loader hook is limited to them. */
export const INSTRUMENTED_MODULES = [
  'openai',
  '@anthropic-ai/sdk',
  '@google/genai',
  '@aws-sdk/client-bedrock-runtime',
  '@mistralai/mistralai',
  '@modelcontextprotocol/sdk',
  'ai',
  '@langchain/core',
  'onnxruntime-node',
] as const;

/** Supported version ranges, per module. openai: the current major (7) and the previous one (6). */
export const SUPPORTED_VERSIONS = {
  openai: ['>=6.0.0 <8'],
  '@anthropic-ai/sdk': ['>=1.0.0 <2'],
  '@google/genai': ['>=3.0.0 <4'],
  '@aws-sdk/client-bedrock-runtime': ['>=3.0.0 <4'],
  '@mistralai/mistralai': ['>=2.0.0 <3'],
  '@modelcontextprotocol/sdk': ['>=1.0.0 <2'],
  ai: ['>=7.0.0 <8'],
  '@langchain/core': ['>=1.0.0 <2'],
  'onnxruntime-node': ['>=1.17.0 <2'],
} as const;

type InstrumentedModule = (typeof INSTRUMENTED_MODULES)[number];

/**
 * The import specifiers the ESM loader hook must see: the module names, and the subpaths applications import the
 * patched classes of MCP and LangChain from (the hook matches specifiers exactly).
 */
export const LOADER_HOOK_SPECIFIERS = [
  ...INSTRUMENTED_MODULES,
  '@modelcontextprotocol/sdk/client/index.js',
  '@modelcontextprotocol/sdk/client',
  '@langchain/core/language_models/chat_models',
] as const;

/** Modules whose patched class lives in a subpath, not the package's main: the files that define it (ESM and CJS). */
const SUBPATH_FILES: Partial<Record<InstrumentedModule, string[]>> = {
  '@modelcontextprotocol/sdk': [
    'dist/esm/client/index.js',
    MCP_COMMONJS_CLIENT_FILE.slice('@modelcontextprotocol/sdk/'.length),
  ],
  '@langchain/core': ['dist/language_models/chat_models.js', 'dist/language_models/chat_models.cjs'],
};

/**
 * Records AI inference calls as audit decision spans: `openai` chat completions, responses and embeddings,
 * `@anthropic-ai/sdk` messages (plain, `stream: true` and `messages.stream()`), and `onnxruntime-node`
 * `InferenceSession.run`. Use it like any OpenTelemetry instrumentation — in `NodeSDK({ instrumentations })`,
 * with `registerInstrumentations`, through `node --import @decisiontrail/instrumentation/register` — or call
 * {@link AiAuditInstrumentation.manuallyInstrument} for bundled applications.
 *
 * Its audit configuration also becomes the process-wide one the manual API (`decision()` and friends) uses.
 */
export class AiAuditInstrumentation extends InstrumentationBase<AiAuditInstrumentationConfig> {
  // `declare`: the base constructor calls setConfig() before field initialisers would run and reset it.
  declare private _auditSettings: AuditSettings;
  declare private _manuallyPatched: { name: InstrumentedModule; exports: unknown }[] | undefined;
  declare private _explicitTracer: Tracer | undefined;
  declare private _aiSdkIntegration: AiSdkTelemetryIntegration | undefined;
  declare private _aiSdkModules: WeakSet<object> | undefined;
  declare private _langChainHandler: LangChainCallbackHandler | undefined;
  declare private _mcpDefinition: InstrumentationModuleDefinition | undefined;
  declare private _mcpCommonJsHook: object | false | undefined;

  constructor(config: AiAuditInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  override setConfig(config: AiAuditInstrumentationConfig = {}): void {
    super.setConfig(config);
    this._auditSettings = resolveAuditSettings(config);
    replaceAuditSettings(this._auditSettings);
  }

  /**
   * A concrete provider is used as given. A proxy (what `registerInstrumentations` passes when the application has
   * not installed its SDK yet) is not kept: spans then go to whatever provider is global at call time. Holding
   * the proxy would lose every span when the application's SDK registers through another copy of
   * `@opentelemetry/api` — as happens under `node -r register` with a CommonJS application, whose api copy differs
   * from the ESM one this package loads.
   */
  override setTracerProvider(tracerProvider: TracerProvider): void {
    super.setTracerProvider(tracerProvider);
    this._explicitTracer =
      tracerProvider instanceof ProxyTracerProvider ||
      tracerProvider.constructor?.name === 'ProxyTracerProvider'
        ? undefined
        : this.tracer;
  }

  protected init(): InstrumentationModuleDefinition[] {
    return INSTRUMENTED_MODULES.map((name) => {
      const versions = [...SUPPORTED_VERSIONS[name]];
      const patch = (exports: unknown, version?: string) => this._patch(name, exports, version);
      const unpatch = (exports: unknown) => this._unpatch(name, exports);
      const files = SUBPATH_FILES[name];
      if (files) {
        const definition = new InstrumentationNodeModuleDefinition(
          name,
          versions,
          undefined,
          undefined,
          files.map((file) => new InstrumentationNodeModuleFile(`${name}/${file}`, versions, patch, unpatch)),
        );
        if (name === '@modelcontextprotocol/sdk') this._mcpDefinition = definition;
        return definition;
      }
      return new InstrumentationNodeModuleDefinition(name, versions, patch, unpatch);
    });
  }

  /** Also hooks `require()` of the MCP SDK's CommonJS client, which the base class's require hook cannot see. */
  override enable(): void {
    super.enable();
    if (this._mcpCommonJsHook !== undefined || this._mcpDefinition === undefined) return;
    const base = this as unknown as { _onRequire?: Parameters<typeof hookMcpCommonJsClient>[1] };
    this._mcpCommonJsHook = hookMcpCommonJsClient(this._mcpDefinition, base._onRequire?.bind(this)) ?? false;
  }

  /**
   * Patches a module object the loader hooks never saw — a bundled copy, or one imported before the
   * instrumentation was enabled. Pass the module namespace or its CommonJS exports; the module is recognised by
   * its shape, or named explicitly. Returns false when the shape is not one this instrumentation knows.
   */
  manuallyInstrument(moduleExports: unknown, name?: InstrumentedModule): boolean {
    const detected = name ?? detectModule(moduleExports);
    if (!detected) {
      this._diag.warn(`manuallyInstrument: not one of ${INSTRUMENTED_MODULES.join(', ')}`);
      return false;
    }
    this._patch(detected, moduleExports, undefined);
    (this._manuallyPatched ??= []).push({ name: detected, exports: moduleExports });
    return true;
  }

  override disable(): void {
    super.disable();
    for (const { name, exports } of this._manuallyPatched ?? []) this._unpatch(name, exports);
    this._manuallyPatched = undefined;
  }

  private _host(): PatchHost {
    return {
      tracer: () => this._explicitTracer ?? trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION),
      settings: () => this._auditSettings,
      isEnabled: () => this.isEnabled(),
    };
  }

  /**
   * The Vercel AI SDK telemetry integration this instrumentation registers with `ai`'s `registerTelemetry`. Calls
   * that pass their own `telemetry.integrations` replace the registered ones for that call: add this one to them.
   */
  get aiSdkTelemetry(): AiSdkTelemetryIntegration {
    return (this._aiSdkIntegration ??= aiSdkTelemetryIntegration(this._host()));
  }

  /**
   * A LangChain callback handler that puts chain and agent steps (and tool runs, as actions) in the trace, so the
   * model calls recorded as decisions nest under the step that made them: pass it in `callbacks: [...]`.
   */
  get langChainCallbacks(): LangChainCallbackHandler {
    return (this._langChainHandler ??= langChainCallbackHandler(this._host()));
  }

  private _patch(name: InstrumentedModule, moduleExports: unknown, version: string | undefined): unknown {
    try {
      if (name === 'ai') {
        this._registerAiSdkTelemetry(moduleExports);
        return moduleExports;
      }
      for (const point of this._patchPoints(name, moduleExports, version)) {
        const current = point.target[point.method];
        if (typeof current !== 'function' || isWrapped(current)) continue;
        this._wrap(point.target, point.method, point.patch as never);
      }
    } catch (error) {
      this._diag.error(`could not patch ${name}`, error);
    }
    return moduleExports;
  }

  /** Registers the integration once per `ai` module; it has no unregister, so when disabled it records nothing. */
  private _registerAiSdkTelemetry(moduleExports: unknown): void {
    const exports = moduleExports as { registerTelemetry?: (...integrations: unknown[]) => void } | undefined;
    if (typeof exports?.registerTelemetry !== 'function') return;
    const modules = (this._aiSdkModules ??= new WeakSet());
    if (modules.has(exports)) return;
    modules.add(exports);
    exports.registerTelemetry(this.aiSdkTelemetry);
  }

  private _unpatch(name: InstrumentedModule, moduleExports: unknown): void {
    try {
      for (const point of this._patchPoints(name, moduleExports, undefined)) {
        if (isWrapped(point.target[point.method])) this._unwrap(point.target, point.method);
      }
    } catch (error) {
      this._diag.error(`could not unpatch ${name}`, error);
    }
  }

  /** Where each module is patched: the methods whose calls are decisions (or, for MCP, actions). */
  private _patchPoints(
    name: InstrumentedModule,
    moduleExports: unknown,
    version: string | undefined,
  ): PatchPoint[] {
    const host = this._host();
    const points: PatchPoint[] = [];
    const add = (target: object | undefined, method: string, patch: MethodPatch) => {
      if (target) points.push({ target: target as Record<string, unknown>, method, patch });
    };
    switch (name) {
      case 'openai': {
        const OpenAI = classOf(moduleExports, 'OpenAI');
        add(
          resourcePrototype(OpenAI, 'Chat', 'Completions'),
          'create',
          patchCreate(host, chatCompletionsSpec),
        );
        add(resourcePrototype(OpenAI, 'Responses'), 'create', patchCreate(host, responsesSpec));
        add(resourcePrototype(OpenAI, 'Embeddings'), 'create', patchCreate(host, embeddingsSpec));
        break;
      }
      case '@anthropic-ai/sdk':
        add(
          resourcePrototype(classOf(moduleExports, 'Anthropic'), 'Messages'),
          'create',
          patchCreate(host, messagesSpec),
        );
        break;
      case '@google/genai': {
        const models = resourcePrototype(classOf(moduleExports, 'Models'));
        add(models, 'generateContentInternal', patchMethod(host, recogniseGenerateContent('plain')));
        add(models, 'generateContentStreamInternal', patchMethod(host, recogniseGenerateContent('stream')));
        break;
      }
      case '@aws-sdk/client-bedrock-runtime':
        add(
          resourcePrototype(classOf(moduleExports, 'BedrockRuntimeClient')),
          'send',
          withSendCallbacks(patchMethod(host, recogniseBedrockCommand(moduleExports))),
        );
        break;
      case '@mistralai/mistralai': {
        // parse() and parseStream() call the request functions directly rather than complete() / stream().
        const chat = mistralChatPrototype(classOf(moduleExports, 'Mistral'));
        add(chat, 'complete', patchMethod(host, recogniseMistralChat(chatCompleteSpec)));
        add(chat, 'parse', patchMethod(host, recogniseMistralChat(chatCompleteSpec)));
        add(chat, 'stream', patchMethod(host, recogniseMistralChat(chatStreamSpec)));
        add(chat, 'parseStream', patchMethod(host, recogniseMistralChat(chatStreamSpec)));
        break;
      }
      case '@modelcontextprotocol/sdk':
        add(resourcePrototype(classOf(moduleExports, 'Client')), 'callTool', patchCallTool(host));
        break;
      case '@langchain/core': {
        const chatModel = resourcePrototype(classOf(moduleExports, 'BaseChatModel'));
        add(chatModel, '_generateUncached', patchGenerateUncached(host));
        add(chatModel, '_streamIterator', patchStreamIterator(host));
        break;
      }
      case 'onnxruntime-node': {
        const session = inferenceSessionOf(moduleExports);
        if (!session) break;
        add(session, 'create', patchSessionCreate() as MethodPatch);
        add(
          session.prototype,
          'run',
          patchSessionRun(host, onnxFrameworkVersion(moduleExports) ?? version) as MethodPatch,
        );
        break;
      }
    }
    return points;
  }
}

/** One method to wrap: `target[method]` becomes `patch(original)`. */
interface PatchPoint {
  target: Record<string, unknown>;
  method: string;
  patch: MethodPatch;
}

type MethodPatch = (original: ResourceMethod) => ResourceMethod;

/** The client class of an SDK module: a named export, the default export, or the CommonJS exports themselves. */
function classOf(moduleExports: unknown, exportName: string): Record<string, unknown> | undefined {
  const exports = moduleExports as Record<string, unknown> | undefined;
  const candidate = exports?.[exportName] ?? exports?.['default'] ?? exports;
  return typeof candidate === 'function' || (typeof candidate === 'object' && candidate !== null)
    ? (candidate as Record<string, unknown>)
    : undefined;
}

/** `Client.Chat.Completions.prototype` and the like: the SDKs hang their resource classes off the client class. */
function resourcePrototype(
  client: Record<string, unknown> | undefined,
  ...path: string[]
): Record<string, unknown> | undefined {
  let current: unknown = client;
  for (const segment of path) current = (current as Record<string, unknown> | undefined)?.[segment];
  const prototype = (current as { prototype?: unknown } | undefined)?.prototype;
  return typeof prototype === 'object' && prototype !== null
    ? (prototype as Record<string, unknown>)
    : undefined;
}

function detectModule(moduleExports: unknown): InstrumentedModule | undefined {
  if (resourcePrototype(classOf(moduleExports, 'OpenAI'), 'Chat', 'Completions')) return 'openai';
  if (resourcePrototype(classOf(moduleExports, 'Anthropic'), 'Messages')) return '@anthropic-ai/sdk';
  if (typeof resourcePrototype(classOf(moduleExports, 'Models'))?.['generateContentInternal'] === 'function')
    return '@google/genai';
  if (typeof (moduleExports as Record<string, unknown> | undefined)?.['BedrockRuntimeClient'] === 'function')
    return '@aws-sdk/client-bedrock-runtime';
  const exports = moduleExports as Record<string, unknown> | undefined;
  if (typeof exports?.['registerTelemetry'] === 'function' && typeof exports['generateText'] === 'function')
    return 'ai';
  if (typeof resourcePrototype(classOf(moduleExports, 'BaseChatModel'))?.['_generateUncached'] === 'function')
    return '@langchain/core';
  if (typeof resourcePrototype(classOf(moduleExports, 'Client'))?.['callTool'] === 'function')
    return '@modelcontextprotocol/sdk';
  if (mistralChatPrototype(classOf(moduleExports, 'Mistral'))) return '@mistralai/mistralai';
  if (inferenceSessionOf(moduleExports)) return 'onnxruntime-node';
  return undefined;
}

/** The per-request methods of `@google/genai`'s `Models`: Vertex AI or the Gemini Developer API, by client. */
function recogniseGenerateContent(kind: 'plain' | 'stream'): CallRecogniser {
  return (self, args) => {
    const apiClient = (self as GenAiModelsThis | undefined)?.apiClient;
    const specs =
      apiClient?.isVertexAI?.() === true ? generateContentSpecs.vertex : generateContentSpecs.gemini;
    return {
      spec: specs[kind],
      params: (args[0] ?? {}) as Record<string, unknown>,
      baseUrl: apiClient?.getBaseUrl?.(),
    };
  };
}
