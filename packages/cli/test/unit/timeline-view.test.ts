import type { TimelineEntry } from '@decisiontrail/clickhouse';
import { buildTimelineDocument } from '@decisiontrail/cli/internal';
import { describe, expect, it } from 'vitest';

function spanRow(spanId: string, statusCode: string): TimelineEntry {
  return {
    kind: 'span',
    timeUnixNano: '1772445600010000000',
    decisionId: '',
    traceId: '6c9f0008a9149214e37ac744924ed71d',
    spanId,
    parentSpanId: '',
    name: `span ${spanId}`,
    service: 'loan-api',
    statusCode,
    durationNanos: '1000000',
    attributes: {},
  };
}

describe('timeline view', () => {
  it('reads span status in both exporter spellings and shows unknown codes as stored', () => {
    const codes = [
      'Error',
      'STATUS_CODE_ERROR',
      'Ok',
      'STATUS_CODE_OK',
      'Unset',
      'STATUS_CODE_UNSET',
      'broken',
    ];
    const doc = buildTimelineDocument(
      { id: '6c9f0008a9149214e37ac744924ed71d', kind: 'trace' },
      codes.map((code, i) => spanRow(`00000000000000${String(i).padStart(2, '0')}`, code)),
    );
    expect(doc?.entries.map((entry) => entry.status)).toEqual([
      'error',
      'error',
      'ok',
      'ok',
      'unset',
      'unset',
      'broken',
    ]);
  });
});
