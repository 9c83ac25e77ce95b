import { describe, expect, it } from 'vitest';
import {
  STORE_QUERY_NAMES,
  isStoreQueryName,
  reviveStoreQueryResult,
  storeQueryScope,
} from '@decisiontrail/core';

const incidentJson = {
  id: 'inc-1',
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T11:00:00.000Z',
  occurredAt: '2026-02-28T09:00:00.000Z',
  reportDeadline: '2026-03-15T09:00:00.000Z',
  reportedAt: null,
  windowFrom: '2026-02-27T00:00:00.000Z',
  windowTo: '2026-02-28T00:00:00.000Z',
};

describe('the store query table', () => {
  it('names the queries that write, and no others', () => {
    expect(STORE_QUERY_NAMES.filter((name) => storeQueryScope(name) === 'write').sort()).toEqual([
      'createIncident',
      'recordErasure',
      'updateIncident',
    ]);
    expect(storeQueryScope('dropTable')).toBeUndefined();
    expect(isStoreQueryName('toString')).toBe(false);
    expect(isStoreQueryName('periodReport')).toBe(true);
  });

  it('turns the dates of a result back into Dates, in lists and nested objects', () => {
    const incident = reviveStoreQueryResult('getIncident', incidentJson) as Record<string, unknown>;
    expect(incident['createdAt']).toEqual(new Date('2026-03-01T10:00:00.000Z'));
    expect(incident['windowTo']).toEqual(new Date('2026-02-28T00:00:00.000Z'));
    expect(incident['reportedAt']).toBeNull();
    expect(incident['id']).toBe('inc-1');

    const report = reviveStoreQueryResult('periodReport', {
      total: 3,
      incidents: { count: 1, items: [incidentJson] },
    }) as { incidents: { items: Record<string, unknown>[] } };
    expect(report.incidents.items[0]!['occurredAt']).toEqual(new Date('2026-02-28T09:00:00.000Z'));

    const quarantine = reviveStoreQueryResult('listQuarantine', [
      { receivedAt: '2026-03-02T00:00:00.000Z', reason: 'x' },
    ]) as Record<string, unknown>[];
    expect(quarantine[0]!['receivedAt']).toEqual(new Date('2026-03-02T00:00:00.000Z'));
  });

  it('reads a nullable date an older serve left out as null, and leaves results without dates alone', () => {
    const { windowFrom: _from, windowTo: _to, ...older } = incidentJson;
    const incident = reviveStoreQueryResult('getIncident', older) as Record<string, unknown>;
    expect(incident['windowFrom']).toBeNull();
    expect(incident['windowTo']).toBeNull();
    const timeline = { decisionId: 'd', createdAt: '2026-03-01T10:00:00.000Z' };
    expect(reviveStoreQueryResult('decisionTimeline', timeline)).toBe(timeline);
  });
});
