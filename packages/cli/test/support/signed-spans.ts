import { randomBytes } from 'node:crypto';
import type { Store } from '@decisiontrail/clickhouse';
import {
  ATTR_AUDIT_ACTION_LINK_BASIS,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  AUDIT_RECORD_TYPE_VALUES,
  SPAN_NAME_AUDIT_CHECKPOINT,
} from '@decisiontrail/semconv';
import {
  StreamSigner,
  attributesToStringMap,
  leafHash,
  type SigningKey,
  type SpanRecord,
} from '@decisiontrail/core';
import { checkpointAttributes, integrityAttributes } from '@decisiontrail/signing-exporter';

// Spans the CLI tests add to a populated store: signed as a stream of their own, and tool runs tied to a decision.

/**
 * A tool run (an execute_tool action span) in a trace of its own, tied to a stored decision by its id only, as a
 * later job or the MCP server's side records it.
 */
export async function toolRunFor(
  store: Store,
  decision: { traceId: string; spanId: string; decisionId: string },
) {
  const template = (await store.traceSpans(decision.traceId)).find(
    (span) => span.spanId === decision.spanId,
  )!;
  const start = BigInt(template.endTimeUnixNano) + 5_000_000_000n;
  return {
    ...template,
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: '',
    name: 'execute_tool notify_applicant',
    kind: 'Internal',
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + 2_000_000n),
    statusCode: 'Unset',
    statusMessage: '',
    attributes: {
      [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.ACTION,
      [ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
      [ATTR_GEN_AI_TOOL_NAME]: 'notify_applicant',
      [ATTR_AUDIT_DECISION_ID]: decision.decisionId,
      [ATTR_AUDIT_ACTION_LINK_BASIS]: 'explicit',
      [ATTR_AUDIT_INPUT_HASH]: 'a'.repeat(64),
    },
    events: [],
    links: [],
  } satisfies SpanRecord;
}

/** Signs spans as a stream of their own under `key`, as the signing exporter does; returns leaves and checkpoint. */
export function signAsStream(spans: SpanRecord[], key: SigningKey): SpanRecord[] {
  const signer = new StreamSigner({ key });
  const signed = spans.map((span) => {
    const seq = signer.append(leafHash(span));
    return {
      ...span,
      attributes: {
        ...span.attributes,
        ...attributesToStringMap(integrityAttributes(signer.streamId, seq, key.keyId)),
      },
    };
  });
  const checkpoint = signer.checkpoint()!;
  const at = spans.at(-1)!.endTimeUnixNano;
  signed.push({
    ...spans[0]!,
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: '',
    name: SPAN_NAME_AUDIT_CHECKPOINT,
    startTimeUnixNano: at,
    endTimeUnixNano: at,
    statusCode: 'Unset',
    statusMessage: '',
    attributes: attributesToStringMap(checkpointAttributes(checkpoint)),
    events: [],
    links: [],
  });
  return signed;
}
