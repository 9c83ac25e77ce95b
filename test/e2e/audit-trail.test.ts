// The whole path, with nothing in between faked: decision()/oversight/feedback/deployment spans from the OTel SDK →
// SigningSpanExporter → OTLP/HTTP protobuf → the processor (receiver, verify stage, WAL, ClickHouse sink) → the
// embedded ClickHouse store and its views → the `decisiontrail` command as a child process. Every expected number
// is computed here from what the test sent, never read back from the store first.
import { rm } from 'node:fs/promises';
import { openStore } from '@decisiontrail/clickhouse';
import {
  configureAudit,
  decision,
  recordDeployment,
  recordFeedback,
  recordOversight,
  withAuditContext,
  type DecisionReference,
} from '@decisiontrail/instrumentation';
import { loadConfig, startProcessor, type ProcessorHandle } from '@decisiontrail/processor';
import { ATTR_AUDIT_DECISION_OUTCOME } from '@decisiontrail/semconv';
import { FileCheckpointWitness } from '@decisiontrail/core';
import { SigningSpanExporter } from '@decisiontrail/signing-exporter';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, type TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  createWorkspace,
  installTracing,
  parseJson,
  runDecisiontrail,
  tempDir,
  type E2eWorkspace,
} from './support/e2e-harness.ts';

const MODEL = 'loan-scorer';

/** One decision as the test sent it. */
interface Sent {
  index: number;
  reference: DecisionReference;
  version: '1' | '2';
  group: 'north' | 'south';
  outcome: 'approve' | 'reject';
  confidence: number;
  oversight: 'override' | 'approve' | undefined;
  feedbackCorrect: boolean | undefined;
}

// The plan of the workload: deterministic, so the expectations below follow from it by counting.
function planOf(index: number): Omit<Sent, 'reference'> {
  return {
    index,
    version: index < 40 ? '1' : '2',
    group: index % 2 === 0 ? 'north' : 'south',
    outcome: index % 3 === 0 || (index >= 40 && index % 2 === 1) ? 'reject' : 'approve',
    confidence: 0.55 + (index % 5) * 0.1,
    oversight: index % 4 === 0 ? 'override' : index % 5 === 0 ? 'approve' : undefined,
    feedbackCorrect: index % 2 === 0 ? index % 7 !== 0 : undefined,
  };
}

const DECISIONS = 64;

let workspace: E2eWorkspace;
let processor: ProcessorHandle | undefined;
let provider: TracerProvider;
let sent: Sent[];
let window: { from: string; to: string };

beforeAll(async () => {
  workspace = await createWorkspace(await tempDir('trail'));
  const config = await loadConfig(workspace.configPath, { env: cleanEnv() });
  processor = await startProcessor(config, { log: () => undefined });
  provider = installTracing(
    new BatchSpanProcessor({
      exporter: new SigningSpanExporter({
        exporter: new OTLPTraceExporter({ url: `${processor.url}/v1/traces` }),
        key: workspace.key,
        witness: new FileCheckpointWitness(workspace.witnessPath),
      }),
      maxExportBatchSize: 50,
      scheduledDelayMillis: 50,
    }),
    'e2e-lender',
  );
  configureAudit({
    hmacKey: 'e2e-hmac-key-0123456789abcdef',
    models: { [MODEL]: { riskLevel: 'high', purpose: 'credit scoring' } },
  });
  const started = Date.now();
  recordDeployment({ modelId: MODEL, version: '1', environment: 'production' });
  sent = [];
  for (let index = 0; index < DECISIONS; index++) {
    const plan = planOf(index);
    if (index === 40)
      recordDeployment({ modelId: MODEL, version: '2', previousVersion: '1', environment: 'production' });
    const reference = withAuditContext({ subjectId: `subject-${index}`, fairnessGroup: plan.group }, () =>
      decision(
        { modelId: MODEL, version: plan.version, modelType: 'classifier', input: { applicant: index } },
        (handle) => {
          handle.setOutcome(plan.outcome);
          handle.setConfidence(plan.confidence);
          handle.setOutput({ outcome: plan.outcome });
          return handle.reference;
        },
      ),
    );
    sent.push({ ...plan, reference });
  }
  for (const decided of sent) {
    if (decided.oversight === 'override') {
      recordOversight({
        decision: decided.reference,
        action: 'override',
        reviewer: 'reviewer-1',
        reason: 'policy',
        newOutcome: decided.outcome === 'approve' ? 'reject' : 'approve',
      });
    } else if (decided.oversight === 'approve') {
      recordOversight({ decision: decided.reference, action: 'approve', reviewer: 'reviewer-2' });
    }
    if (decided.feedbackCorrect !== undefined) {
      recordFeedback({ decision: decided.reference, correct: decided.feedbackCorrect, source: 'ledger' });
    }
  }
  await provider.forceFlush();
  await waitUntilStored(processor);
  window = {
    from: new Date(started - 60_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
  };
});

afterAll(async () => {
  await provider?.shutdown();
  await processor?.close();
  if (workspace) await rm(workspace.dir, { recursive: true, force: true });
});

async function waitUntilStored(handle: ProcessorHandle): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!/^decisiontrail_processor_queue_entries 0$/m.test(handle.metrics.render())) {
    if (Date.now() > deadline) throw new Error('the processor did not drain its queue');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const rate = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

describe('SDK → signing exporter → OTLP → processor → ClickHouse → CLI', () => {
  it('shows a decision’s timeline with its override and feedback, through serve’s query endpoint', async () => {
    const target = sent.find((d) => d.oversight === 'override' && d.feedbackCorrect !== undefined)!;
    const run = await runDecisiontrail(
      ['timeline', target.reference.decisionId, '--config', workspace.configPath, '--json'],
      workspace.dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const timeline = parseJson<{
      decision: {
        id: string;
        modelId: string;
        modelVersion: string;
        outcome: string;
        finalOutcome: string | null;
        subjectId: string;
        traceId: string;
        spanId: string;
        confidence: number;
      };
      entries: { kind: string; details: { label: string; value: string }[] }[];
    }>(run);
    const flipped = target.outcome === 'approve' ? 'reject' : 'approve';
    expect(timeline.decision).toMatchObject({
      id: target.reference.decisionId,
      modelId: MODEL,
      modelVersion: target.version,
      outcome: target.outcome,
      finalOutcome: flipped,
      subjectId: `subject-${target.index}`,
      traceId: target.reference.traceId,
      spanId: target.reference.spanId,
    });
    expect(timeline.decision.confidence).toBeCloseTo(target.confidence, 6);
    const kinds = timeline.entries.map((entry) => entry.kind);
    expect(kinds).toContain('decision');
    expect(kinds).toContain('oversight');
    expect(kinds).toContain('feedback');
    expect(kinds).toContain('deployment');
    const oversight = timeline.entries.find((entry) => entry.kind === 'oversight')!;
    expect(JSON.stringify(oversight.details)).toContain('reviewer-1');
  });

  it('reports numbers equal to those computed from what was sent', async () => {
    const run = await runDecisiontrail(
      [
        'report',
        '--model',
        MODEL,
        '--from',
        window.from,
        '--to',
        window.to,
        '--json',
        '--config',
        workspace.configPath,
      ],
      workspace.dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const report = parseJson<{
      totals: {
        decisions: number;
        reviewed: number;
        overridden: number;
        withFeedback: number;
        correct: number;
      };
      rates: { reviewRate: number | null; overrideRate: number | null; accuracy: number | null };
      outcomes: { outcome: string; count: number }[];
      accuracyByVersion: {
        version: string;
        decisions: number;
        withFeedback: number;
        accuracy: number | null;
        overrideRate: number | null;
      }[];
      fairness: {
        groups: { group: string; decisions: number; outcomeCount: number }[];
        outcome: string | null;
      };
    }>(run);
    const reviewed = sent.filter((d) => d.oversight !== undefined).length;
    const overridden = sent.filter((d) => d.oversight === 'override').length;
    const labelled = sent.filter((d) => d.feedbackCorrect !== undefined);
    const correct = labelled.filter((d) => d.feedbackCorrect).length;
    expect(report.totals).toEqual({
      decisions: DECISIONS,
      reviewed,
      overridden,
      withFeedback: labelled.length,
      correct,
    });
    expect(report.rates.reviewRate).toBeCloseTo(reviewed / DECISIONS, 9);
    expect(report.rates.overrideRate).toBeCloseTo(overridden / DECISIONS, 9);
    expect(report.rates.accuracy).toBeCloseTo(correct / labelled.length, 9);
    const approvals = sent.filter((d) => d.outcome === 'approve').length;
    expect(Object.fromEntries(report.outcomes.map((o) => [o.outcome, o.count]))).toEqual({
      approve: approvals,
      reject: DECISIONS - approvals,
    });
    for (const version of ['1', '2'] as const) {
      const mine = sent.filter((d) => d.version === version);
      const mineLabelled = mine.filter((d) => d.feedbackCorrect !== undefined);
      const row = report.accuracyByVersion.find((r) => r.version === version)!;
      expect(row.decisions).toBe(mine.length);
      expect(row.withFeedback).toBe(mineLabelled.length);
      expect(row.accuracy).toBeCloseTo(
        rate(mineLabelled.filter((d) => d.feedbackCorrect).length, mineLabelled.length)!,
        9,
      );
      expect(row.overrideRate).toBeCloseTo(
        mine.filter((d) => d.oversight === 'override').length / mine.length,
        9,
      );
    }
    const compared = report.fairness.outcome!;
    for (const group of ['north', 'south'] as const) {
      const mine = sent.filter((d) => d.group === group);
      const row = report.fairness.groups.find((g) => g.group === group)!;
      expect(row.decisions).toBe(mine.length);
      expect(row.outcomeCount).toBe(mine.filter((d) => d.outcome === compared).length);
    }
  });

  it('verifies the stored trail, and names the row after one stored attribute is altered', async () => {
    const intact = await runDecisiontrail(
      ['verify', '--config', workspace.configPath, '--json'],
      workspace.dir,
    );
    expect(intact.code, intact.stdout + intact.stderr).toBe(0);
    const report = parseJson<{
      ok: boolean;
      spansRead: number;
      streams: { spanCount: number; findings: unknown[] }[];
    }>(intact);
    expect(report.ok).toBe(true);
    expect(report.streams).toHaveLength(1);
    const oversightCount = sent.filter((d) => d.oversight !== undefined).length;
    const feedbackCount = sent.filter((d) => d.feedbackCorrect !== undefined).length;
    expect(report.streams[0]!.spanCount).toBe(DECISIONS + oversightCount + feedbackCount + 2);

    // Someone with write access to ClickHouse flips one stored outcome. The processor must be gone first: the
    // embedded engine belongs to one process at a time.
    await provider.shutdown();
    await processor!.close();
    processor = undefined;
    const victim = sent[17]!;
    const forged = victim.outcome === 'approve' ? 'reject' : 'approve';
    const store = await openStore({ dataDir: workspace.dataDir, migrate: false });
    try {
      await store.client.command({
        query:
          'ALTER TABLE otel_traces UPDATE SpanAttributes = mapUpdate(SpanAttributes, map({key:String}, {value:String})) WHERE SpanId = {span:String}',
        query_params: { key: ATTR_AUDIT_DECISION_OUTCOME, value: forged, span: victim.reference.spanId },
        clickhouse_settings: { mutations_sync: '2' },
      });
    } finally {
      await store.close();
    }
    const tampered = await runDecisiontrail(
      ['verify', '--config', workspace.configPath, '--json'],
      workspace.dir,
    );
    expect(tampered.code).toBe(1);
    const findings = parseJson<{ ok: boolean; streams: { findings: { code: string; spanId?: string }[] }[] }>(
      tampered,
    );
    expect(findings.ok).toBe(false);
    expect(findings.streams[0]!.findings).toEqual([
      expect.objectContaining({ code: 'modified', spanId: victim.reference.spanId }),
    ]);
    const text = await runDecisiontrail(['verify', '--config', workspace.configPath], workspace.dir);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(victim.reference.spanId);
  });

  it('names the sequence number of a stored row someone deleted', async () => {
    // An inconvenient decision disappears from the store (the previous test's alteration stays in place).
    const victim = sent[30]!;
    const store = await openStore({ dataDir: workspace.dataDir, migrate: false });
    let seq: number;
    try {
      const [row] = await (
        await store.client.query({
          query: `SELECT SpanAttributes['audit.integrity.seq'] AS seq FROM otel_traces WHERE SpanId = {span:String}`,
          query_params: { span: victim.reference.spanId },
          format: 'JSONEachRow',
        })
      ).json<{ seq: string }>();
      seq = Number(row!.seq);
      await store.client.command({
        query: 'ALTER TABLE otel_traces DELETE WHERE SpanId = {span:String}',
        query_params: { span: victim.reference.spanId },
        clickhouse_settings: { mutations_sync: '2' },
      });
    } finally {
      await store.close();
    }
    const run = await runDecisiontrail(['verify', '--config', workspace.configPath, '--json'], workspace.dir);
    expect(run.code).toBe(1);
    const report = parseJson<{
      streams: { findings: { code: string; spanId?: string; ranges?: [number, number][] }[] }[];
    }>(run);
    const findings = report.streams[0]!.findings;
    expect(findings.map((f) => f.code).sort()).toEqual(['missing', 'modified']);
    expect(findings.find((f) => f.code === 'missing')!.ranges).toEqual([[seq, seq + 1]]);
  });
});
