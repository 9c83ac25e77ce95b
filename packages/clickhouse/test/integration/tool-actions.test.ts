import {
  ATTR_AUDIT_ACTION_LINK_BASIS,
  ATTR_AUDIT_ACTION_REQUESTED_TOOLS,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@decisiontrail/clickhouse';
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

  it('counts nothing outside the period', async () => {
    const report = await store.periodReport({
      from: new Date(START + 7_200_000),
      to: new Date(START + 10_800_000),
    });
    expect(report.actions).toEqual([]);
  });
});
