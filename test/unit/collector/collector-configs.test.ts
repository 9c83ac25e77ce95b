import { describe, expect, it } from 'vitest';
import {
  auditDeliveryProblems,
  collectorConfigFiles,
  collectorOverlayFiles,
  COMPONENT_KINDS,
  componentType,
  loadCollectorConfig,
  manifestComponentTypes,
  pipelinesLeadingTo,
  valueAt,
  type CollectorConfig,
} from './collector-config-model.ts';

// Which exporters of each shipped config deliver audit spans towards decisiontrail. A new config
// must be added here, or the first test fails.
const AUDIT_EXPORTERS: Record<string, string[]> = {
  'agent.yaml': ['otlp_grpc/gateway'],
  'clickhouse-direct.yaml': ['clickhouse'],
  'gateway.yaml': ['otlp_http/decisiontrail'],
  'gateway-tier.yaml': ['otlp_http/processor_0', 'otlp_http/processor_1'],
  'tail-sampling.yaml': ['otlp_http/decisiontrail'],
};

const AUDIT_CONDITION_ATTRIBUTES = ['audit.record.type', 'audit.decision.id'];
const SIGNED_CONDITION = 'attributes["audit.integrity.stream"] != nil';

function referencedIds(config: CollectorConfig): Set<string> {
  const ids = new Set(config.serviceExtensions);
  for (const pipeline of Object.values(config.pipelines)) {
    for (const id of [...pipeline.receivers, ...pipeline.processors, ...pipeline.exporters]) ids.add(id);
  }
  return ids;
}

function routingTable(config: CollectorConfig, connectorId: string): Record<string, unknown>[] {
  return (valueAt(config.components.connectors[connectorId], 'table') ?? []) as Record<string, unknown>[];
}

describe('collector-config/*.yaml', () => {
  const files = collectorConfigFiles();

  it('ships exactly the classified configs', () => {
    expect(files).toEqual(Object.keys(AUDIT_EXPORTERS).sort());
  });

  describe.each(files)('%s', (file) => {
    const config = loadCollectorConfig(file);

    it('defines every component its pipelines use, and uses every component it defines', () => {
      const used = referencedIds(config);
      const defined = new Set(COMPONENT_KINDS.flatMap((kind) => Object.keys(config.components[kind])));
      expect([...used].filter((id) => !defined.has(id))).toEqual([]);
      expect([...defined].filter((id) => !used.has(id))).toEqual([]);
    });

    it('wires connectors as exporter of one pipeline and receiver of another', () => {
      for (const connector of Object.keys(config.components.connectors)) {
        const feeding = Object.values(config.pipelines).filter((p) => p.exporters.includes(connector));
        const fed = Object.values(config.pipelines).filter((p) => p.receivers.includes(connector));
        expect(feeding.length, `${connector} has no input pipeline`).toBeGreaterThan(0);
        expect(fed.length, `${connector} has no output pipeline`).toBeGreaterThan(0);
      }
    });

    it('uses only component types the builder manifest builds', () => {
      const built = manifestComponentTypes();
      for (const kind of COMPONENT_KINDS) {
        for (const id of Object.keys(config.components[kind])) {
          expect(built[kind], `${kind}.${id}`).toContain(componentType(id));
        }
      }
    });

    it('delivers audit spans durably and unmodified', () => {
      for (const exporter of AUDIT_EXPORTERS[file] ?? []) {
        expect(pipelinesLeadingTo(config, exporter).length, exporter).toBeGreaterThan(0);
        expect(auditDeliveryProblems(config, exporter)).toEqual([]);
      }
    });

    it('routes audit spans, and copies of other signed spans, by span to pipelines that reach decisiontrail', () => {
      const routing = config.components.connectors['routing/audit'];
      if (routing === undefined) {
        // Only the agent forwards everything without routing.
        expect(file).toBe('agent.yaml');
        return;
      }
      expect(valueAt(routing, 'error_mode')).toBe('propagate');
      const routes = routingTable(config, 'routing/audit');
      const reachingDecisiontrail = new Set(
        (AUDIT_EXPORTERS[file] ?? []).flatMap((exporter) => pipelinesLeadingTo(config, exporter)),
      );
      for (const route of routes) {
        expect(route.context).toBe('span');
        for (const pipeline of route.pipelines as string[]) expect(reachingDecisiontrail).toContain(pipeline);
      }
      const auditRoute = routes.find((route) =>
        AUDIT_CONDITION_ATTRIBUTES.every((attribute) =>
          String(route.condition).includes(`attributes["${attribute}"] != nil`),
        ),
      );
      expect(auditRoute, 'a route on audit.record.type and audit.decision.id').toBeDefined();
      // Other signed spans are leaves of the stream: decisiontrail needs them, and the backend keeps them.
      const signedRoute = routes.find((route) => String(route.condition).includes(SIGNED_CONDITION));
      expect(signedRoute?.action).toBe('copy');
      // The ordinary branch is where sampling happens, and it never leads to decisiontrail.
      for (const pipeline of valueAt(routing, 'default_pipelines') as string[]) {
        expect(reachingDecisiontrail).not.toContain(pipeline);
        expect(config.pipelines[pipeline]?.processors).toContain('tail_sampling');
      }
    });
  });

  it('every component type the manifest builds is used by some config', () => {
    const used = new Map<string, Set<string>>(COMPONENT_KINDS.map((kind) => [kind, new Set<string>()]));
    // An overlay is used on top of gateway.yaml (its header says which base files it fits).
    const configs = [
      ...files.map((file) => loadCollectorConfig(file)),
      ...collectorOverlayFiles().map((overlay) => loadCollectorConfig('gateway.yaml', overlay)),
    ];
    for (const config of configs) {
      for (const kind of COMPONENT_KINDS) {
        for (const id of Object.keys(config.components[kind])) used.get(kind)?.add(componentType(id));
      }
    }
    const built = manifestComponentTypes();
    for (const kind of COMPONENT_KINDS)
      expect([...(used.get(kind) ?? [])].sort(), kind).toEqual([...built[kind]].sort());
  });

  it.each(['gateway.yaml', 'tail-sampling.yaml'])(
    '%s + overlays/serve-auth.yaml: the audit exporter authenticates over TLS and stays durable',
    (file) => {
      const config = loadCollectorConfig(file, 'overlays/serve-auth.yaml');
      const exporter = config.components.exporters['otlp_http/decisiontrail'];
      expect(valueAt(exporter, 'auth', 'authenticator')).toBe('bearertokenauth/decisiontrail');
      expect(valueAt(exporter, 'tls', 'ca_file')).toBe('${env:DECISIONTRAIL_CA_FILE:-}');
      expect(config.serviceExtensions).toEqual(
        expect.arrayContaining([
          ...loadCollectorConfig(file).serviceExtensions,
          'bearertokenauth/decisiontrail',
        ]),
      );
      expect(auditDeliveryProblems(config, 'otlp_http/decisiontrail')).toEqual([]);
    },
  );

  it('gateway.yaml moves audit spans out of the sampled branch', () => {
    const [route] = routingTable(loadCollectorConfig('gateway.yaml'), 'routing/audit');
    // `move` is the connector's default: an absent action moves too.
    expect(route?.action ?? 'move').toBe('move');
  });

  it('tail-sampling.yaml copies audit spans to decisiontrail and always keeps their traces', () => {
    const config = loadCollectorConfig('tail-sampling.yaml');
    const [route] = routingTable(config, 'routing/audit');
    expect(route?.action).toBe('copy');
    const sampling = config.components.processors.tail_sampling;
    const [first] = valueAt(sampling, 'policies') as Record<string, unknown>[];
    expect(first?.type).toBe('ottl_condition');
    const spanConditions = valueAt(first, 'ottl_condition', 'span') as string[];
    for (const attribute of AUDIT_CONDITION_ATTRIBUTES) {
      expect(spanConditions).toContain(`attributes["${attribute}"] != nil`);
    }
    // A non-sampled decision cache would make the backend drop late audit spans of judged traces for longer.
    expect(valueAt(sampling, 'decision_cache', 'non_sampled_cache_size')).toBe(0);
  });

  it('gateway-tier.yaml splits audit spans over the processors by audit.integrity.stream', () => {
    const config = loadCollectorConfig('gateway-tier.yaml');
    const routes = routingTable(config, 'routing/stream');
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      expect(route.context).toBe('span');
      expect(route.condition).toContain('FNV(attributes["audit.integrity.stream"])');
    }
    const outputs = new Set([
      ...routes.flatMap((route) => route.pipelines as string[]),
      ...(valueAt(config.components.connectors['routing/stream'], 'default_pipelines') as string[]),
    ]);
    expect([...outputs].sort()).toEqual(['traces/processor_0', 'traces/processor_1']);
    // routing/stream sees only audit spans: it is fed by the audit branch alone.
    const feeding = Object.entries(config.pipelines).filter(([, p]) =>
      p.exporters.includes('routing/stream'),
    );
    expect(feeding.map(([id]) => id)).toEqual(['traces/audit']);
  });
});

describe('auditDeliveryProblems', () => {
  // The checks above pass on the shipped files; these prove they fail on the mistakes they guard against.
  function gatewayWith(change: (config: CollectorConfig) => void): CollectorConfig {
    const config = structuredClone(loadCollectorConfig('gateway.yaml'));
    change(config);
    return config;
  }

  it('reports an attribute-mutating processor on the audit branch', () => {
    const config = gatewayWith((c) => {
      c.components.processors['transform/rename'] = {};
      c.pipelines['traces/audit']?.processors.push('transform/rename');
    });
    expect(auditDeliveryProblems(config, 'otlp_http/decisiontrail')).toEqual([
      'pipeline traces/audit runs transform/rename before otlp_http/decisiontrail',
    ]);
  });

  it('reports a processor before the routing connector, which every audit span passes', () => {
    const config = gatewayWith((c) => c.pipelines['traces/in']?.processors.push('batch/backend'));
    expect(auditDeliveryProblems(config, 'otlp_http/decisiontrail')).toEqual([
      'pipeline traces/in runs batch/backend before otlp_http/decisiontrail',
    ]);
  });

  it('reports retries that give up, an in-memory queue and a queue without fsync', () => {
    const limited = gatewayWith((c) => {
      (
        c.components.exporters['otlp_http/decisiontrail']?.retry_on_failure as Record<string, unknown>
      ).max_elapsed_time = '300s';
    });
    expect(auditDeliveryProblems(limited, 'otlp_http/decisiontrail')).toEqual([
      'otlp_http/decisiontrail: retry_on_failure.max_elapsed_time is not 0 (retries give up)',
    ]);
    const inMemory = gatewayWith((c) => {
      delete (c.components.exporters['otlp_http/decisiontrail']?.sending_queue as Record<string, unknown>)
        .storage;
    });
    expect(auditDeliveryProblems(inMemory, 'otlp_http/decisiontrail')).toEqual([
      'otlp_http/decisiontrail: sending_queue is not persistent (no file_storage)',
    ]);
    const noFsync = gatewayWith((c) => {
      (c.components.extensions['file_storage/audit_queue'] as Record<string, unknown>).fsync = false;
    });
    expect(auditDeliveryProblems(noFsync, 'otlp_http/decisiontrail')).toEqual([
      'file_storage/audit_queue: fsync is off',
    ]);
  });
});
