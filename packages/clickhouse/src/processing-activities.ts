import { END_OF_TIME, periodParams, type QueryContext } from './query-context.ts';
import { readSqlFile } from './sql-template.ts';

const ACTIVITIES_SQL = readSqlFile('processing-activities.sql');
const CAPTURE_MODES_SQL = readSqlFile('processing-capture-modes.sql');

/** What the store shows about one model's processing of personal data (the store's half of a GDPR Art. 30 record). */
export interface ProcessingActivity {
  modelId: string;
  versions: string[];
  /** `audit.decision.purpose` values recorded. */
  purposes: string[];
  services: string[];
  modelTypes: string[];
  providers: string[];
  decisionTypes: string[];
  /** `audit.decision.automation` values (automated, human_in_the_loop…). */
  automation: string[];
  riskLevels: string[];
  decisions: number;
  /** Decisions naming a (pseudonymous) data subject, a fairness group, an actor. */
  withSubject: number;
  withFairnessGroup: number;
  withActor: number;
  /** Decisions whose input / output is committed by a keyed hash. */
  withInputHash: number;
  withOutputHash: number;
  /** Decisions per retention class. */
  byRetentionClass: Record<string, number>;
  /** Decisions per capture mode of input and output, as the spans recorded it ('' when a span did not say). */
  captureModes: { input: string; output: string; decisions: number }[];
  first: Date;
  last: Date;
}

/** Per model, what the decisions of `[from, to)` (default: all) show about the processing; see the SQL files. */
export async function processingActivities(
  ctx: QueryContext,
  query: { from?: Date; to?: Date } = {},
): Promise<ProcessingActivity[]> {
  const params = periodParams({ from: query.from ?? new Date(0), to: query.to ?? END_OF_TIME });
  type Row = Omit<
    ProcessingActivity,
    | 'decisions'
    | 'withSubject'
    | 'withFairnessGroup'
    | 'withActor'
    | 'withInputHash'
    | 'withOutputHash'
    | 'byRetentionClass'
    | 'captureModes'
    | 'first'
    | 'last'
  > &
    Record<
      'decisions' | 'withSubject' | 'withFairnessGroup' | 'withActor' | 'withInputHash' | 'withOutputHash',
      string
    > & { byRetentionClass: Record<string, string>; firstMs: string; lastMs: string };
  const rows = await ctx.rows<Row>(ACTIVITIES_SQL, params);
  const modes = await ctx.rows<{ modelId: string; input: string; output: string; decisions: string }>(
    CAPTURE_MODES_SQL,
    params,
  );
  return rows.map((row) => ({
    modelId: row.modelId,
    versions: row.versions,
    purposes: row.purposes,
    services: row.services,
    modelTypes: row.modelTypes,
    providers: row.providers,
    decisionTypes: row.decisionTypes,
    automation: row.automation,
    riskLevels: row.riskLevels,
    decisions: Number(row.decisions),
    withSubject: Number(row.withSubject),
    withFairnessGroup: Number(row.withFairnessGroup),
    withActor: Number(row.withActor),
    withInputHash: Number(row.withInputHash),
    withOutputHash: Number(row.withOutputHash),
    byRetentionClass: Object.fromEntries(
      Object.entries(row.byRetentionClass).map(([cls, n]) => [cls, Number(n)]),
    ),
    captureModes: modes
      .filter((m) => m.modelId === row.modelId)
      .map((m) => ({ input: m.input, output: m.output, decisions: Number(m.decisions) })),
    first: new Date(Number(row.firstMs)),
    last: new Date(Number(row.lastMs)),
  }));
}
