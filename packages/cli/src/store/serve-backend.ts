import { CliError } from '../cli-error.ts';
import type { ReportDocument } from '../render/report-document.ts';
import type { TimelineDocument } from '../render/timeline-document.ts';
import type { SpanRecord } from '@decisiontrail/signing-exporter';
import type {
  AuditBackend,
  DecisionSummary,
  ErasureTombstone,
  InvestigationSignal,
} from './audit-backend.ts';
import type { IncidentRecord } from './incident-record.ts';
import type { ServeState } from './serve-state.ts';

interface QueryErrorBody {
  error?: { code?: string; message?: string };
}

/**
 * The store reached through the query endpoint of a running `decisiontrail serve` (`POST <url>/v1/query/<name>`,
 * JSON params in, `{ result }` out; see CONTRACTS.md). Used whenever serve holds the embedded store, because the
 * engine binds its data directory to one process.
 */
export class ServeBackend implements AuditBackend {
  readonly via: string;
  readonly #url: string;

  constructor(state: ServeState) {
    this.#url = state.url.replace(/\/+$/, '');
    this.via = `decisiontrail serve (pid ${state.pid}, ${this.#url})`;
  }

  async #query<T>(name: string, params: object): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.#url}/v1/query/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
      });
    } catch (cause) {
      throw new CliError('STORE_UNREACHABLE', `cannot reach ${this.via}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new CliError(
        'STORE_UNREACHABLE',
        `${this.via} answered ${response.status} with a body that is not JSON`,
      );
    }
    if (!response.ok) {
      const error = (body as QueryErrorBody).error;
      const message = `${error?.message ?? `query ${name} failed with HTTP ${response.status}`}`.split(
        '\n',
      )[0]!;
      if (error?.code === 'NOT_FOUND') throw new CliError('NOT_FOUND', message);
      if (response.status === 400) throw new CliError('USAGE', message);
      throw new CliError('STORE_UNREACHABLE', `${this.via}: ${message}`);
    }
    return (body as { result: T }).result;
  }

  modelExists(modelId: string): Promise<boolean> {
    return this.#query('modelExists', { modelId });
  }

  timeline(id: string): Promise<TimelineDocument | null> {
    return this.#query('decisionTimeline', { id });
  }

  periodReport(query: {
    modelId: string;
    version: string | undefined;
    from: Date;
    to: Date;
    outcome: string | undefined;
  }): Promise<ReportDocument> {
    return this.#query('periodReport', {
      modelId: query.modelId,
      version: query.version ?? null,
      from: query.from.toISOString(),
      to: query.to.toISOString(),
      outcome: query.outcome ?? null,
    });
  }

  spansForVerification(query: {
    from: Date | undefined;
    to: Date | undefined;
    stream: string | undefined;
  }): Promise<SpanRecord[]> {
    return this.#query('spansForVerification', {
      from: query.from?.toISOString() ?? null,
      to: query.to?.toISOString() ?? null,
      stream: query.stream ?? null,
    });
  }

  traceSpans(traceId: string): Promise<SpanRecord[]> {
    return this.#query('traceSpans', { traceId });
  }

  listIncidents(filter: { status: 'open' | 'closed' | undefined }): Promise<IncidentRecord[]> {
    return this.#query('listIncidents', { status: filter.status ?? null });
  }

  getIncident(id: string): Promise<IncidentRecord | null> {
    return this.#query('getIncident', { id });
  }

  createIncident(
    incident: Omit<IncidentRecord, 'id' | 'status' | 'openedAt' | 'updatedAt' | 'closedAt'>,
  ): Promise<IncidentRecord> {
    return this.#query('createIncident', incident);
  }

  updateIncident(id: string, update: Partial<IncidentRecord>): Promise<IncidentRecord> {
    return this.#query('updateIncident', { id, update });
  }

  incidentDecisions(
    incident: IncidentRecord,
    limit: number,
  ): Promise<{ total: number; decisions: DecisionSummary[] }> {
    return this.#query('incidentDecisions', { id: incident.id, limit });
  }

  incidentSignals(incident: IncidentRecord): Promise<InvestigationSignal[]> {
    return this.#query('incidentSignals', { id: incident.id });
  }

  subjectDecisions(subjectId: string): Promise<(DecisionSummary & { encryptionKeyIds: string[] })[]> {
    return this.#query('subjectDecisions', { subjectId });
  }

  async recordErasure(tombstone: ErasureTombstone): Promise<void> {
    await this.#query('recordErasureTombstone', tombstone);
  }

  listErasures(): Promise<ErasureTombstone[]> {
    return this.#query('listErasureTombstones', {});
  }

  async close(): Promise<void> {
    // Nothing held: each query is one HTTP request.
  }
}

/** Connects to the serve that holds the store. */
export function openServeBackend(state: ServeState): Promise<AuditBackend> {
  return Promise.resolve(new ServeBackend(state));
}
