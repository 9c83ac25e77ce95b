import type { Incident } from '@decisiontrail/clickhouse';

/** The affected window of decisions an incident names, when the store holds both of its ends. */
export function incidentWindow(
  incident: Pick<Incident, 'windowFrom' | 'windowTo'>,
): { from: Date; to: Date } | null {
  const { windowFrom: from, windowTo: to } = incident;
  return from !== null && to !== null ? { from, to } : null;
}
