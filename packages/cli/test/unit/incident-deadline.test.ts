import { AUDIT_INCIDENT_CATEGORY_VALUES } from '@decisiontrail/semconv';
import {
  ART73_REPORTING_DAYS,
  describeTimeLeft,
  formatDuration,
  incidentWindow,
  reportingDeadline,
} from '@decisiontrail/cli/internal';
import { describe, expect, it } from 'vitest';

const AWARE = new Date('2026-03-01T09:00:00.000Z');

describe('EU AI Act Art. 73 reporting deadline', () => {
  it('has a period for every category of the semantic conventions', () => {
    expect(Object.keys(ART73_REPORTING_DAYS).sort()).toEqual(
      Object.values(AUDIT_INCIDENT_CATEGORY_VALUES).sort(),
    );
  });

  it.each([
    ['death', 10, '2026-03-11T09:00:00.000Z', 'Art. 73(4)'],
    ['critical_infrastructure', 2, '2026-03-03T09:00:00.000Z', 'Art. 73(3)'],
    ['widespread_infringement', 2, '2026-03-03T09:00:00.000Z', 'Art. 73(3)'],
    ['serious_harm', 15, '2026-03-16T09:00:00.000Z', 'Art. 73(2)'],
    ['fundamental_rights', 15, '2026-03-16T09:00:00.000Z', 'Art. 73(2)'],
    ['property_or_environment', 15, '2026-03-16T09:00:00.000Z', 'Art. 73(2)'],
    ['malfunction', 15, '2026-03-16T09:00:00.000Z', 'Art. 73(2)'],
  ] as const)('%s: %i days after awareness', (category, days, deadline, basis) => {
    const result = reportingDeadline(category, AWARE, AWARE);
    expect(result.days).toBe(days);
    expect(result.deadline.toISOString()).toBe(deadline);
    expect(result.basis).toBe(basis);
  });

  it('counts down and reports overdue', () => {
    const inTime = reportingDeadline('death', AWARE, new Date('2026-03-07T06:30:00.000Z'));
    expect(inTime.overdue).toBe(false);
    expect(describeTimeLeft(inTime)).toBe('4d 2h left');
    const late = reportingDeadline('critical_infrastructure', AWARE, new Date('2026-03-04T10:15:00.000Z'));
    expect(late.overdue).toBe(true);
    expect(describeTimeLeft(late)).toBe('overdue by 1d 1h');
  });

  it('formats durations as the two largest units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(40_000)).toBe('40s');
    expect(formatDuration(5 * 3_600_000 + 12 * 60_000 + 5000)).toBe('5h 12m');
    expect(formatDuration(3 * 86_400_000 + 59_000)).toBe('3d');
  });
});

describe('incident window', () => {
  it('is the stored window when both ends are known, else absent', () => {
    const from = new Date('2026-03-01T00:00:00.000Z');
    const to = new Date('2026-03-08T00:00:00.000Z');
    expect(incidentWindow({ windowFrom: from, windowTo: to })).toEqual({ from, to });
    expect(incidentWindow({ windowFrom: from, windowTo: null })).toBeNull();
    expect(incidentWindow({ windowFrom: null, windowTo: null })).toBeNull();
  });
});
