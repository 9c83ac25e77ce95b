import type { Incident } from '@decisiontrail/clickhouse';

/** The affected window of decisions an incident names, when the store holds both of its ends. */
export function incidentWindow(
  incident: Pick<Incident, 'windowFrom' | 'windowTo'>,
): { from: Date; to: Date } | null {
  const { windowFrom: from, windowTo: to } = incident;
  return from !== null && to !== null ? { from, to } : null;
}

const DAY_MS = 86_400_000;

/**
 * The decisions an incident is about, as `incident show` gathers its evidence and `decisions --incident` finds
 * them: the ones it names, and those of its model (and version, '' for any) in its window — or, without one, in
 * the week before it occurred.
 */
export function incidentScope(incident: Incident): {
  decisionIds: string[];
  modelId: string;
  modelVersion: string;
  from: Date;
  to: Date;
} {
  const range = incidentWindow(incident) ?? {
    from: new Date(incident.occurredAt.getTime() - 7 * DAY_MS),
    to: incident.occurredAt,
  };
  return {
    decisionIds: incident.decisionIds,
    modelId: incident.modelId,
    modelVersion: incident.modelVersion,
    ...range,
  };
}
