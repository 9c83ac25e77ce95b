import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError } from './errors.ts';
import { renderSql, type RenderContext } from './sql-template.ts';

/** Parameter values bound server-side (`{name:Type}`); never spliced into SQL text. */
export type QueryParams = Record<string, string | number | boolean | string[] | number[]>;

/** What every query module needs: the client and the rendered statement cache. */
export class QueryContext {
  readonly client: ClickHouseClient;
  readonly render: RenderContext;
  readonly #cache = new Map<string, string>();

  constructor(client: ClickHouseClient, render: RenderContext) {
    this.client = client;
    this.render = render;
  }

  /** Expands a template (table names, semconv keys) once and caches it. */
  sql(template: string): string {
    let sql = this.#cache.get(template);
    if (sql === undefined) {
      sql = renderSql(template, this.render);
      this.#cache.set(template, sql);
    }
    return sql;
  }

  /** Runs a SELECT with bound parameters and returns its rows. */
  async rows<T>(template: string, params: QueryParams = {}): Promise<T[]> {
    try {
      const result = await this.client.query({
        query: this.sql(template),
        query_params: params,
        format: 'JSONEachRow',
        // Int64/UInt64 as strings in JSON on both backends, so nothing rounds silently.
        clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
      });
      return await result.json<T>();
    } catch (cause) {
      if (cause instanceof StoreError) throw cause;
      throw new StoreError('QUERY_FAILED', `query failed: ${(cause as Error).message}`, { cause });
    }
  }

  /**
   * Runs a SELECT with bound parameters and returns its result in a binary row format (`RowBinary`, …) as
   * one buffer, for readers that decode it themselves.
   */
  async bytes(template: string, format: 'RowBinary', params: QueryParams = {}): Promise<Buffer> {
    try {
      const result = await this.client.exec({
        query: `${this.sql(template)}\nFORMAT ${format}`,
        query_params: params,
      });
      const chunks: Buffer[] = [];
      for await (const chunk of result.stream) chunks.push(chunk as Buffer);
      return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    } catch (cause) {
      if (cause instanceof StoreError) throw cause;
      throw new StoreError('QUERY_FAILED', `query failed: ${(cause as Error).message}`, { cause });
    }
  }

  /** Inserts rows (JSONEachRow) into a table of this store. */
  async insert(table: string, values: object[]): Promise<void> {
    try {
      await this.client.insert({
        table: `${this.render.database}.${table}`,
        values,
        format: 'JSONEachRow',
        // Explicitly empty: on the embedded engine settings persist in the session, and a
        // token left over from a sink batch would silently drop this insert as a duplicate.
        clickhouse_settings: { insert_deduplication_token: '' },
      });
    } catch (cause) {
      throw new StoreError('INSERT_FAILED', `insert into ${table} failed: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
}

/** Time range `[from, to)` as bound parameters (milliseconds since the epoch). */
export function periodParams(period: { from: Date; to: Date }): { from_ms: string; to_ms: string } {
  const from = period.from.getTime();
  const to = period.to.getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw new StoreError('INVALID_ARGUMENT', 'from and to must be valid dates');
  }
  if (to < from) throw new StoreError('INVALID_ARGUMENT', 'to must not be before from');
  return { from_ms: String(from), to_ms: String(to) };
}

/** Throws unless `value` is a string (query parameters must be strings, never objects). */
export function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new StoreError('INVALID_ARGUMENT', `${name} must be a string`);
  return value;
}

/** Latest instant DateTime64(9) holds (open-ended ranges end here). */
export const END_OF_TIME = new Date(Date.UTC(2262, 0, 1));
