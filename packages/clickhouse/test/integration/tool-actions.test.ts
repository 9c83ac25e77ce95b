import {
  ATTR_AUDIT_ACTION_LINK_BASIS,
  ATTR_AUDIT_ACTION_REQUESTED_TOOLS,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  migrationStatements,
  renderContext,
  resolveStoreOptions,
  type Store,
  type TimelineEntry,
} from '@decisiontrail/clickhouse';
import {
  decisionIdAt,
  decisionSpan,
  type DecisionFixture,
  randomHex,
  seededRandom,
} from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

const START = Date.UTC(2026, 5, 1, 9);
const random = seededRandom(41);

function decision(i: number, modelId: string, requestedTools: string[]): SpanRecord {
  const fixture: DecisionFixture = {
    decisionId: decisionIdAt(START + i * 60_000, random),
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    startMs: START + i * 60_000,
    modelId,
    modelVersion: '1',
    outcome: '',
  };
  const span = decisionSpan(fixture);
  // The exporter's string form of a string[] attribute is its JSON text.
  if (requestedTools.length > 0)
    span.attributes[ATTR_AUDIT_ACTION_REQUESTED_TOOLS] = JSON.stringify(requestedTools);
  return span;
}

/** An execute_tool action span, tied to `requestedBy` when given. */
function action(
  tool: string,
  startMs: number,
  requestedBy?: SpanRecord,
  options: { basis?: string; failed?: boolean } = {},
): SpanRecord {
  const template = decision(99, 'unused', []);
  const attributes: Record<string, string> = {
    [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.ACTION,
    [ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
    [ATTR_GEN_AI_TOOL_NAME]: tool,
  };
  if (requestedBy) {
    attributes[ATTR_AUDIT_DECISION_ID] = requestedBy.attributes[ATTR_AUDIT_DECISION_ID]!;
    attributes[ATTR_AUDIT_ACTION_LINK_BASIS] = options.basis ?? 'arguments';
  }
  if (options.failed) attributes[ATTR_ERROR_TYPE] = 'tool_error';
  const start = BigInt(startMs) * 1_000_000n;
  return {
    ...template,
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    name: `execute_tool ${tool}`,
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + 1_000_000n).toString(),
    attributes,
    links: requestedBy
      ? [{ traceId: requestedBy.traceId, spanId: requestedBy.spanId, traceState: '', attributes: {} }]
      : [],
  };
}

const triage = [
  decision(0, 'triage', ['lookup_order', 'issue_refund']),
  decision(1, 'triage', ['issue_refund']),
  decision(2, 'triage', []),
];
const other = decision(3, 'fraud', ['freeze_card']);
const runs = [
  action('lookup_order', START + 5_000, triage[0]),
  action('issue_refund', START + 6_000, triage[0], { basis: 'tool_name' }),
  action('issue_refund', START + 61_000, triage[1], { basis: 'tool_call_id', failed: true }),
  action('freeze_card', START + 181_000, other, { basis: 'explicit' }),
  action('send_email', START + 200_000),
];

describe('agent actions in the period report (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const period = { from: new Date(START - 60_000), to: new Date(START + 3_600_000) };

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    // One action delivered twice counts once.
    await store.insertSpans([...triage, other, ...runs, runs[0]!]);
  });
  afterAll(async () => {
    await cleanup();
  });

  it('counts runs, failures, links and requests per tool over every model', async () => {
    const report = await store.periodReport({ ...period });
    expect(report.actions).toEqual([
      {
        tool: 'freeze_card',
        ran: 1,
        failed: 0,
        linked: 1,
        linkedExplicit: 1,
        linkedByToolCallId: 0,
        linkedByArguments: 0,
        linkedByToolName: 0,
        requested: 1,
      },
      {
        tool: 'issue_refund',
        ran: 2,
        failed: 1,
        linked: 2,
        linkedExplicit: 0,
        linkedByToolCallId: 1,
        linkedByArguments: 0,
        linkedByToolName: 1,
        requested: 2,
      },
      {
        tool: 'lookup_order',
        ran: 1,
        failed: 0,
        linked: 1,
        linkedExplicit: 0,
        linkedByToolCallId: 0,
        linkedByArguments: 1,
        linkedByToolName: 0,
        requested: 1,
      },
      {
        tool: 'send_email',
        ran: 1,
        failed: 0,
        linked: 0,
        linkedExplicit: 0,
        linkedByToolCallId: 0,
        linkedByArguments: 0,
        linkedByToolName: 0,
        requested: 0,
      },
    ]);
  });

  it('narrows to the runs and requests of one model under a model filter', async () => {
    const report = await store.periodReport({ ...period, modelId: 'triage' });
    expect(report.actions.map(({ tool, ran, requested }) => [tool, ran, requested])).toEqual([
      ['issue_refund', 2, 2],
      ['lookup_order', 1, 1],
    ]);
  });

  // Two days after the report's period, so the report tests above count none of it.
  const later = START + 2 * 86_400_000;
  const agent = decision(2 * 1440, 'triage', ['close_ticket', 'notify_customer']);
  /** A run in the agent's own trace, under its decision. */
  const sameTrace: SpanRecord = {
    ...action('close_ticket', later + 2_000, agent, { basis: 'tool_call_id' }),
    traceId: agent.traceId,
    parentSpanId: agent.spanId,
  };
  /** A later job in a trace of its own that carries the decision id (e.g. the MCP server's side). */
  const laterJob = action('notify_customer', later + 3 * 3_600_000, agent, { basis: 'explicit' });
  laterJob.attributes[ATTR_AUDIT_INPUT_HASH] = 'c'.repeat(64);
  laterJob.attributes[ATTR_AUDIT_INPUT_CONTENT] = 'dear customer';
  laterJob.attributes[ATTR_AUDIT_INTEGRITY_STREAM] = 'stream-tools';
  laterJob.attributes[ATTR_AUDIT_INTEGRITY_SEQ] = '7';
  /** A run of another decision, and one tied to none: neither belongs to this timeline. */
  const others = [action('notify_customer', later + 4_000, other), action('notify_customer', later + 5_000)];

  const viewRows = async (params: { decision_id: string; trace_id: string }) => {
    const result = await store.client.query({
      query: `SELECT kind, toString(toUnixTimestamp64Nano(time)) AS timeUnixNano, decision_id AS decisionId,
          trace_id AS traceId, span_id AS spanId, parent_span_id AS parentSpanId, name, service,
          status_code AS statusCode, toString(duration_ns) AS durationNanos, attributes
        FROM decision_timeline(decision_id = {decision_id:String}, trace_id = {trace_id:String})`,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
    });
    return result.json<TimelineEntry>();
  };
  const canonical = (rows: TimelineEntry[]) => rows.map((row) => JSON.stringify(row)).sort();

  it("shows a decision's tool runs from any trace as action rows, linked by its decision id", async () => {
    // The later job delivered twice; written apart from the decision, as another service's exporter would.
    await store.insertSpans([agent, sameTrace]);
    await store.insertSpans([laterJob, ...others, laterJob]);
    const agentId = agent.attributes[ATTR_AUDIT_DECISION_ID]!;
    const timeline = await store.decisionTimeline({ decisionId: agentId });
    expect(timeline.map((e) => [e.kind, e.name, e.traceId === agent.traceId])).toEqual([
      ['decision', agent.name, true],
      ['action', 'execute_tool close_ticket', true],
      ['action', 'execute_tool notify_customer', false],
    ]);
    const [, own, job] = timeline;
    expect(own).toMatchObject({ decisionId: agentId, spanId: sameTrace.spanId, parentSpanId: agent.spanId });
    expect(job).toMatchObject({
      decisionId: agentId,
      traceId: laterJob.traceId,
      spanId: laterJob.spanId,
      durationNanos: '1000000',
      attributes: {
        tool: 'notify_customer',
        tool_type: '',
        tool_call_id: '',
        link_basis: 'explicit',
        subject_id: '',
        input_hash: 'c'.repeat(64),
        output_hash: '',
        error_type: '',
        integrity_stream: 'stream-tools',
        integrity_seq: '7',
      },
    });
    // Captured content never leaves through the timeline.
    expect(JSON.stringify(timeline)).not.toContain('dear customer');
    // By the agent's trace: the same rows, the later job's run included (it is found by decision id).
    expect(canonical(await store.decisionTimeline({ traceId: agent.traceId }))).toEqual(canonical(timeline));
    // The timeline with its read-time evidence (what decisiontrail timeline reads) gives the same rows.
    expect(canonical((await store.timelineWithEvidence({ decisionId: agentId })).entries)).toEqual(
      canonical(timeline),
    );
    expect(canonical((await store.timelineWithEvidence({ traceId: agent.traceId })).entries)).toEqual(
      canonical(timeline),
    );
    // The view gives the same rows as the store's two statements.
    expect(canonical(await viewRows({ decision_id: agentId, trace_id: '' }))).toEqual(canonical(timeline));
    expect(canonical(await viewRows({ decision_id: '', trace_id: agent.traceId }))).toEqual(
      canonical(timeline),
    );
    // The earlier runs of triage[0] (each in a trace of its own) are in its timeline; triage[1]'s are not.
    const first = await store.decisionTimeline({
      decisionId: triage[0]!.attributes[ATTR_AUDIT_DECISION_ID]!,
    });
    expect(first.filter((e) => e.kind === 'action').map((e) => e.attributes['tool'])).toEqual([
      'lookup_order',
      'issue_refund',
    ]);
  });

  it('links the tool runs stored before migration 13 through its backfill', async () => {
    // As a store migrated from 12 holds them: no link row for the runs, which the backfill then adds.
    await store.client.command({
      query: `ALTER TABLE audit_decision_links DELETE WHERE record_type = 'action'`,
      // Done before the statement returns, not as a background mutation.
      clickhouse_settings: { mutations_sync: '1' },
    });
    const links = async () =>
      (
        await (
          await store.client.query({
            query: `SELECT span_id FROM audit_decision_links FINAL WHERE record_type = 'action' ORDER BY span_id`,
            format: 'JSONEachRow',
          })
        ).json<{ span_id: string }>()
      ).map((row) => row.span_id);
    expect(await links()).toEqual([]);
    expect(
      (await store.decisionTimeline({ traceId: agent.traceId })).filter((e) => e.kind === 'action'),
    ).toEqual([]);
    const context = renderContext({
      database: 'default',
      cluster: undefined,
      retention: resolveStoreOptions({}).retention,
    });
    const backfill = migrationStatements(
      MIGRATIONS.find((m) => m.version === 13)!,
      context,
    ).filter((sql) => sql.includes('INSERT INTO'));
    expect(backfill).toHaveLength(1);
    await store.client.command({ query: backfill[0]! });
    const linked = [
      ...runs.filter((run) => run.attributes[ATTR_AUDIT_DECISION_ID]),
      sameTrace,
      laterJob,
      others[0]!,
    ];
    expect(await links()).toEqual(linked.map((run) => run.spanId).sort());
  });

  it('shows a run recorded days after the decision: the reads end a day after the latest run linked', async () => {
    // Ten days after the decision, in a trace of its own: past any bound taken from the decision's time.
    const escalation = action('escalate', later + 10 * 86_400_000, agent, { basis: 'explicit' });
    await store.insertSpans([escalation]);
    const agentId = agent.attributes[ATTR_AUDIT_DECISION_ID]!;
    const timeline = await store.decisionTimeline({ decisionId: agentId });
    expect(timeline.filter((e) => e.kind === 'action').map((e) => [e.attributes['tool'], e.spanId])).toEqual([
      ['close_ticket', sameTrace.spanId],
      ['notify_customer', laterJob.spanId],
      ['escalate', escalation.spanId],
    ]);
    expect(canonical((await store.timelineWithEvidence({ decisionId: agentId })).entries)).toEqual(
      canonical(timeline),
    );
    expect(canonical(await viewRows({ decision_id: agentId, trace_id: '' }))).toEqual(canonical(timeline));
    // A decision with no run linked reads none, before or after.
    const none = await store.decisionTimeline({ decisionId: triage[2]!.attributes[ATTR_AUDIT_DECISION_ID]! });
    expect(none.filter((e) => e.kind === 'action')).toEqual([]);
  });

  it('counts nothing outside the period', async () => {
    const report = await store.periodReport({
      from: new Date(START + 7_200_000),
      to: new Date(START + 10_800_000),
    });
    expect(report.actions).toEqual([]);
  });
});
