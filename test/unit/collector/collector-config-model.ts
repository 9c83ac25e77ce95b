import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

/** Folder of the shipped Collector configurations and the builder manifest. */
export const COLLECTOR_CONFIG_DIR = resolve(import.meta.dirname, '../../../collector-config');

/** Component kinds of a Collector config, in the order the Collector's own config lists them. */
export const COMPONENT_KINDS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

/** One pipeline under `service.pipelines`. */
export interface Pipeline {
  receivers: string[];
  processors: string[];
  exporters: string[];
}

/** The parts of a Collector configuration the tests reason about; component bodies stay untyped. */
export interface CollectorConfig {
  file: string;
  components: Record<ComponentKind, Record<string, Record<string, unknown>>>;
  serviceExtensions: string[];
  pipelines: Record<string, Pipeline>;
}

/** Every Collector configuration shipped in collector-config/ (the builder manifest excluded). */
export function collectorConfigFiles(): string[] {
  return readdirSync(COLLECTOR_CONFIG_DIR)
    .filter((name) => name.endsWith('.yaml') && name !== 'builder-config.yaml')
    .sort();
}

/** The overlays in collector-config/overlays/, as paths relative to collector-config/. */
export function collectorOverlayFiles(): string[] {
  return readdirSync(join(COLLECTOR_CONFIG_DIR, 'overlays'))
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => `overlays/${name}`)
    .sort();
}

/** The Collector's merge of `--config` files: mappings merge key by key, anything else is replaced. */
function mergeDocuments(base: unknown, overlay: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(base) || !isMap(overlay)) return overlay;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) merged[key] = mergeDocuments(base[key], value);
  return merged;
}

/** Reads a config from collector-config/ by file name, with overlays merged over it in order. */
export function loadCollectorConfig(file: string, ...overlays: string[]): CollectorConfig {
  const read = (name: string): unknown => parse(readFileSync(join(COLLECTOR_CONFIG_DIR, name), 'utf8'));
  return toCollectorConfig(
    [file, ...overlays].join(' + '),
    overlays.map(read).reduce(mergeDocuments, read(file)),
  );
}

/** Shapes a parsed YAML document; throws when the document is not a Collector config. */
export function toCollectorConfig(file: string, document: unknown): CollectorConfig {
  const root = asRecord(document, `${file}: top level`);
  const components = {} as CollectorConfig['components'];
  for (const kind of COMPONENT_KINDS) {
    const section = asRecord(root[kind] ?? {}, `${file}: ${kind}`);
    components[kind] = Object.fromEntries(
      Object.entries(section).map(([id, body]) => [id, asRecord(body ?? {}, `${file}: ${kind}.${id}`)]),
    );
  }
  const service = asRecord(root.service, `${file}: service`);
  const pipelines: Record<string, Pipeline> = {};
  for (const [id, body] of Object.entries(asRecord(service.pipelines, `${file}: service.pipelines`))) {
    const pipeline = asRecord(body, `${file}: pipeline ${id}`);
    pipelines[id] = {
      receivers: asStringList(pipeline.receivers, `${file}: ${id}.receivers`),
      processors: asStringList(pipeline.processors ?? [], `${file}: ${id}.processors`),
      exporters: asStringList(pipeline.exporters, `${file}: ${id}.exporters`),
    };
  }
  return {
    file,
    components,
    serviceExtensions: asStringList(service.extensions ?? [], `${file}: service.extensions`),
    pipelines,
  };
}

/** The component type of an id: `otlp_http/decisiontrail` -> `otlp_http`. */
export function componentType(id: string): string {
  return id.split('/')[0] ?? id;
}

/** Reads a nested value by path; `undefined` when any step is missing. */
export function valueAt(body: unknown, ...path: string[]): unknown {
  let current = body;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Component types listed in the builder manifest, per kind, from the Go module paths. */
export function manifestComponentTypes(): Record<ComponentKind, string[]> {
  const manifest = asRecord(
    parse(readFileSync(join(COLLECTOR_CONFIG_DIR, 'builder-config.yaml'), 'utf8')) as unknown,
    'builder-config.yaml',
  );
  const result = {} as Record<ComponentKind, string[]>;
  for (const kind of COMPONENT_KINDS) {
    const entries = (manifest[kind] ?? []) as { gomod: string }[];
    result[kind] = entries.map(({ gomod }) => {
      const modulePath = gomod.split(' ')[0] ?? '';
      const name = modulePath.split('/').at(-1) ?? '';
      const type = MODULE_TO_TYPE[name];
      if (type === undefined)
        throw new Error(`builder-config.yaml: no component type known for ${modulePath}`);
      return type;
    });
  }
  return result;
}

// The Go module name does not always spell the component type the config uses.
const MODULE_TO_TYPE: Record<string, string> = {
  otlpreceiver: 'otlp',
  batchprocessor: 'batch',
  memorylimiterprocessor: 'memory_limiter',
  tailsamplingprocessor: 'tail_sampling',
  filterprocessor: 'filter',
  transformprocessor: 'transform',
  routingconnector: 'routing',
  otlphttpexporter: 'otlp_http',
  otlpexporter: 'otlp_grpc',
  debugexporter: 'debug',
  clickhouseexporter: 'clickhouse',
  filestorage: 'file_storage',
  healthcheckextension: 'health_check',
  bearertokenauthextension: 'bearertokenauth',
};

/**
 * Pipelines whose data reaches the given exporter, following connectors backwards: the exporter's
 * own pipelines, and every pipeline that feeds a connector those pipelines receive from.
 */
export function pipelinesLeadingTo(config: CollectorConfig, exporterId: string): string[] {
  const found = new Set<string>();
  const pending = Object.keys(config.pipelines).filter((id) =>
    config.pipelines[id]?.exporters.includes(exporterId),
  );
  while (pending.length > 0) {
    const id = pending.pop() as string;
    if (found.has(id)) continue;
    found.add(id);
    for (const receiver of config.pipelines[id]?.receivers ?? []) {
      if (!(receiver in config.components.connectors)) continue;
      for (const [upstream, pipeline] of Object.entries(config.pipelines)) {
        if (pipeline.exporters.includes(receiver)) pending.push(upstream);
      }
    }
  }
  return [...found].sort();
}

/**
 * Problems that would lose an audit span or break its signature on the way to `exporterId`:
 * a processor other than memory_limiter on the path, a queue that is not persistent and fsynced,
 * or retries that give up.
 */
export function auditDeliveryProblems(config: CollectorConfig, exporterId: string): string[] {
  const problems: string[] = [];
  for (const id of pipelinesLeadingTo(config, exporterId)) {
    for (const processor of config.pipelines[id]?.processors ?? []) {
      if (!AUDIT_SAFE_PROCESSORS.has(componentType(processor))) {
        problems.push(`pipeline ${id} runs ${processor} before ${exporterId}`);
      }
    }
  }
  const exporter = config.components.exporters[exporterId];
  if (exporter === undefined) return [...problems, `exporter ${exporterId} is not defined`];
  if (valueAt(exporter, 'retry_on_failure', 'enabled') !== true)
    problems.push(`${exporterId}: retries disabled`);
  if (valueAt(exporter, 'retry_on_failure', 'max_elapsed_time') !== 0) {
    problems.push(`${exporterId}: retry_on_failure.max_elapsed_time is not 0 (retries give up)`);
  }
  if (valueAt(exporter, 'sending_queue', 'enabled') !== true)
    problems.push(`${exporterId}: sending_queue disabled`);
  const storage = valueAt(exporter, 'sending_queue', 'storage');
  if (typeof storage !== 'string' || componentType(storage) !== 'file_storage') {
    problems.push(`${exporterId}: sending_queue is not persistent (no file_storage)`);
  } else {
    if (!config.serviceExtensions.includes(storage))
      problems.push(`${storage} is not enabled in service.extensions`);
    if (valueAt(config.components.extensions[storage], 'fsync') !== true)
      problems.push(`${storage}: fsync is off`);
  }
  return problems;
}

// memory_limiter never changes or drops data: over its limit it refuses the request, and the
// sender keeps and retries it. Every other processor can rewrite, drop or hold spans in memory.
const AUDIT_SAFE_PROCESSORS = new Set(['memory_limiter']);

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${where}: not a mapping`);
  return value as Record<string, unknown>;
}

function asStringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`${where}: not a list of component ids`);
  }
  return value;
}
