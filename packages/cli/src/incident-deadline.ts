import { AUDIT_INCIDENT_CATEGORY_VALUES, type AuditIncidentCategory } from '@decisiontrail/semconv';

const DAY_MS = 86_400_000;

/**
 * Reporting periods of EU AI Act Art. 73, in days after the provider becomes aware of the serious incident:
 * Art. 73(4) a death: 10 days; Art. 73(3) a widespread infringement or a serious and irreversible disruption of
 * critical infrastructure: 2 days; Art. 73(2) every other serious incident: 15 days.
 */
export const ART73_REPORTING_DAYS: Readonly<Record<AuditIncidentCategory, number>> = {
  [AUDIT_INCIDENT_CATEGORY_VALUES.DEATH]: 10,
  [AUDIT_INCIDENT_CATEGORY_VALUES.CRITICAL_INFRASTRUCTURE]: 2,
  [AUDIT_INCIDENT_CATEGORY_VALUES.WIDESPREAD_INFRINGEMENT]: 2,
  [AUDIT_INCIDENT_CATEGORY_VALUES.SERIOUS_HARM]: 15,
  [AUDIT_INCIDENT_CATEGORY_VALUES.FUNDAMENTAL_RIGHTS]: 15,
  [AUDIT_INCIDENT_CATEGORY_VALUES.PROPERTY_OR_ENVIRONMENT]: 15,
  [AUDIT_INCIDENT_CATEGORY_VALUES.MALFUNCTION]: 15,
};

/** The Art. 73 paragraph that sets the period of a category, for display next to the deadline. */
export function art73Paragraph(category: AuditIncidentCategory): string {
  const days = ART73_REPORTING_DAYS[category];
  return days === 10 ? 'Art. 73(4)' : days === 2 ? 'Art. 73(3)' : 'Art. 73(2)';
}

/** The reporting deadline of an incident and how much time is left at `now`. */
export interface ReportingDeadline {
  /** Latest moment to report to the market surveillance authority. */
  deadline: Date;
  /** Period length in days. */
  days: number;
  /** Article paragraph that sets the period. */
  basis: string;
  /** Milliseconds until the deadline; negative when overdue. */
  remainingMs: number;
  /** True when the deadline has passed. */
  overdue: boolean;
}

/** Computes the Art. 73 deadline from the category and the time the provider became aware of the incident. */
export function reportingDeadline(
  category: AuditIncidentCategory,
  awareAt: Date,
  now: Date = new Date(),
): ReportingDeadline {
  const days = ART73_REPORTING_DAYS[category];
  const deadline = new Date(awareAt.getTime() + days * DAY_MS);
  const remainingMs = deadline.getTime() - now.getTime();
  return { deadline, days, basis: art73Paragraph(category), remainingMs, overdue: remainingMs < 0 };
}

/** Formats a duration as the two largest units: `4d 3h`, `5h 12m`, `40s`. */
export function formatDuration(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const parts: [number, string][] = [
    [Math.floor(total / 86_400), 'd'],
    [Math.floor((total % 86_400) / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ];
  const first = parts.findIndex(([value]) => value > 0);
  if (first === -1) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ');
}

/** `3d 4h left` or `overdue by 1d 2h`. */
export function describeTimeLeft(deadline: ReportingDeadline): string {
  return deadline.overdue
    ? `overdue by ${formatDuration(deadline.remainingMs)}`
    : `${formatDuration(deadline.remainingMs)} left`;
}
