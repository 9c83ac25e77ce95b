import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store, VerificationRecord } from '@decisiontrail/clickhouse';
import { LogVerifier, type SpanRecord } from '@decisiontrail/core';
import { seqOf, streamOf, verifierLeafHex } from '@decisiontrail/core/internal';
import { checkpointSpan, decisionSpan, randomHex, seededRandom } from '../support/span-fixtures.ts';
import { openTempStore, tamper } from '../support/temp-store.ts';
import { StoreError, renderContext } from '@decisiontrail/clickhouse';
import {
  QueryContext,
  VerificationDecoders,
  decodeVerificationRows,
  verificationRecords,
} from '@decisiontrail/clickhouse/internal';

const START = Date.UTC(2026, 5, 1, 8);

/** What the verifier takes from a record: stream, seq, span id and leaf, computed the record path's way. */
function viaRecordPath(record: SpanRecord): string {
  return JSON.stringify([streamOf(record), seqOf(record), record.spanId, verifierLeafHex(record)]);
}

function viaEither(record: VerificationRecord): string {
  return 'leafHex' in record
    ? JSON.stringify([record.stream, record.seq, record.spanId, record.leafHex])
    : viaRecordPath(record);
}

/**
 * Spans whose canonical form has every hard case a byte-level writer can get wrong: escapes, multi-byte and
 * astral text, keys in the ranges where UTF-16 and byte order part, excluded namespaces, non-service resource
 * attributes, events and links, old kind spellings, unknown kinds, malformed sequence numbers.
 */
function hardSpans(): SpanRecord[] {
  const random = seededRandom(41);
  const values = [
    'plain',
    '',
    'quote " backslash \\ slash /',
    'controls \u0000\u0001\b\t\n\f\r\u001f\u007f',
    'latin é ü ß, cjk 決定, emoji 🧾 and \u2028\u2029',
    '\ue000 private use, \uffff last BMP, 𝄞 astral',
  ];
  const spans: SpanRecord[] = [];
  for (let i = 0; i < 48; i++) {
    const span = decisionSpan({
      decisionId: `0190a0b0-0000-7000-8000-${String(i).padStart(12, '0')}`,
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs: START + i * 1000,
      modelId: 'hard-model',
      modelVersion: '1',
      outcome: values[i % values.length] as string,
      stream: i < 40 ? 'stream-hard' : 'stream-other',
      seq: i,
    });
    const attributes: Record<string, string> = { ...span.attributes };
    attributes[`z.key ${values[(i + 1) % values.length]}`] = values[(i + 2) % values.length] as string;
    if (i % 3 === 0) attributes['\ue001.private.key'] = 'x';
    if (i % 4 === 0) attributes['\u{1F600}.astral.key'] = 'y';
    if (i % 5 === 0) attributes['audit.integrity.key_id'] = 'excluded';
    if (i % 6 === 0) attributes['audit.completeness.missing'] = 'audit.subject.id';
    const kinds = ['Internal', 'SPAN_KIND_SERVER', 'Client', 'Mystery'];
    const statuses = ['Unset', 'STATUS_CODE_ERROR', 'Ok', 'Unset'];
    spans.push({
      ...span,
      kind: kinds[i % kinds.length] as string,
      statusCode: statuses[i % statuses.length] as string,
      statusMessage: values[(i + 3) % values.length] as string,
      attributes,
      resourceAttributes: {
        'service.name': 'svc é',
        'host.name': `h${i}`,
        'service.version': values[i % 3] as string,
      },
      events:
        i % 7 === 0
          ? [
              {
                timeUnixNano: String(BigInt(START + i * 1000) * 1_000_000n + 5n),
                name: 'ev',
                attributes: { a: '1' },
              },
            ]
          : [],
      links:
        i % 11 === 0
          ? [
              {
                traceId: randomHex(random, 16),
                spanId: randomHex(random, 8),
                traceState: 'k=v',
                attributes: { l: '2' },
              },
            ]
          : [],
    });
  }
  // The plain case, with escapes and multi-byte text in the values: hashed from the bytes.
  for (let i = 0; i < 24; i++) {
    spans.push(
      decisionSpan({
        decisionId: `0190a0b0-0000-7000-8000-${String(100 + i).padStart(12, '0')}`,
        traceId: randomHex(random, 16),
        spanId: randomHex(random, 8),
        startMs: START + 100_000 + i * 1000,
        modelId: values[i % values.length] as string,
        modelVersion: '2',
        outcome: values[(i + 1) % values.length] as string,
        stream: 'stream-plain',
        seq: i,
      }),
    );
  }
  // A stream whose clock ran backwards: later spans carry smaller sequence numbers, so time order is not log order.
  for (let i = 0; i < 6; i++) {
    spans.push(
      decisionSpan({
        decisionId: `0190a0b0-0000-7000-8000-${String(200 + i).padStart(12, '0')}`,
        traceId: randomHex(random, 16),
        spanId: randomHex(random, 8),
        startMs: START + 200_000 + i * 1000,
        modelId: 'skewed-model',
        modelVersion: '1',
        outcome: 'approve',
        stream: 'stream-skew',
        seq: 5 - i,
      }),
    );
  }
  // Checkpoints of the plain stream, one stored before the leaves it seals: the log order puts it after them.
  for (const [size, at] of [
    [10, START + 100_000],
    [20, START + 125_000],
  ] as const) {
    spans.push(
      checkpointSpan({
        traceId: randomHex(random, 16),
        spanId: randomHex(random, 8),
        startMs: at,
        stream: 'stream-plain',
        size,
      }),
    );
  }
  // Sequence numbers the strict parser refuses.
  for (const [i, seq] of ['01', '-1', 'abc', '12345678901234567', ''].entries()) {
    const span = spans[40 + i] as SpanRecord;
    span.attributes['audit.integrity.seq'] = seq;
  }
  return spans;
}

describe('verification records: the binary reader gives the verifier what the JSON reader does', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let spans: SpanRecord[];

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    spans = hardSpans();
    const sink = store.createSink({ maxBatchSize: 20, flushIntervalMs: 5 });
    await sink.write(spans);
    await sink.flush();
    const copy = (spanId: string, replace: string) =>
      tamper(
        store,
        `INSERT INTO otel_traces SELECT * REPLACE (${replace})
         FROM (SELECT * FROM otel_traces WHERE SpanId = '${spanId}' LIMIT 1)`,
      );
    // Rows no producer writes: bytes that are not UTF-8, a repeated key, a conflicting copy, an exact duplicate.
    await copy(spans[1]!.spanId, `concat(StatusMessage, unhex('C3')) AS StatusMessage, 'badutf81' AS SpanId`);
    await copy(
      spans[2]!.spanId,
      `mapUpdate(SpanAttributes, map('audit.decision.outcome', concat('x', unhex('EDA080')))) AS SpanAttributes, 'surrogt1' AS SpanId`,
    );
    await copy(
      spans[4]!.spanId,
      `CAST((arrayConcat(mapKeys(SpanAttributes), ['dup.key', 'dup.key']), arrayConcat(mapValues(SpanAttributes), ['1', '2'])),
        'Map(LowCardinality(String), String)') AS SpanAttributes, 'dupkey01' AS SpanId`,
    );
    await copy(
      spans[8]!.spanId,
      `mapUpdate(SpanAttributes, map('audit.decision.outcome', 'changed')) AS SpanAttributes`,
    );
    await copy(spans[9]!.spanId, `SpanAttributes AS SpanAttributes`);
    // The engine no longer drops exact copies for the binary reader: the reader does. Three copies of one row,
    // two of a checkpoint (the record path), and a copy that differs only in ServiceName, which no leaf reads
    // but which makes it another row (both readers keep it).
    await copy(spans[9]!.spanId, `SpanAttributes AS SpanAttributes`);
    const checkpoint = spans.find((s) => s.attributes['audit.record.type'] === 'checkpoint') as SpanRecord;
    await copy(checkpoint.spanId, `SpanAttributes AS SpanAttributes`);
    await copy(spans[10]!.spanId, `concat(ServiceName, ' (copy)') AS ServiceName`);
    // An exact copy of one of two conflicting copies: three rows that tie on every sort key, two distinct.
    await copy(spans[8]!.spanId, `SpanAttributes AS SpanAttributes`);
  });
  afterAll(async () => {
    await cleanup();
  });

  it('reads the same rows with the same stream, seq, span id and leaf', async () => {
    const json = await store.spansForVerification();
    const binary = await store.verificationRecords();
    // Every span, the five forged rows and the ServiceName copy, each exact duplicate once.
    expect(json).toHaveLength(spans.length + 5);
    expect(binary).toHaveLength(json.length);
    expect(binary.map(viaEither).sort()).toEqual(json.map(viaRecordPath).sort());
    // The plain case is hashed from the bytes; every hard case goes the record path, and reads like the JSON reader.
    const hashed = binary.filter((r) => 'leafHex' in r);
    const records = binary.filter((r): r is SpanRecord => !('leafHex' in r));
    expect(hashed.length).toBeGreaterThanOrEqual(24);
    const ids = new Set(records.map((r) => r.spanId));
    for (const id of ['badutf81', 'surrogt1', 'dupkey01']) expect(ids).toContain(id);
    const jsonById = new Map(json.map((r) => [`${r.spanId} ${verifierLeafHex(r)}`, r]));
    for (const record of records)
      expect(record).toEqual(jsonById.get(`${record.spanId} ${verifierLeafHex(record)}`));
  });

  it('puts the rows in the log order the JSON reader has the engine sort them in', async () => {
    // Rows that tie on all of stream, place, start and span id (conflicting copies) may come in either order.
    const place = (r: SpanRecord) => [
      streamOf(r) ?? '',
      r.attributes['audit.record.type'] === 'checkpoint'
        ? `c${r.attributes['audit.checkpoint.size']}`
        : `l${r.attributes['audit.integrity.seq']}`,
      r.startTimeUnixNano,
      r.spanId,
    ];
    const json = await store.spansForVerification();
    const byId = new Map(json.map((r) => [r.spanId, r]));
    const binary = (await store.verificationRecords()).map((r) =>
      'leafHex' in r ? place(byId.get(r.spanId) as SpanRecord) : place(r),
    );
    expect(binary).toEqual(json.map(place));
    const plain = json.filter((r) => streamOf(r) === 'stream-plain').map((r) => place(r)[1]);
    expect(plain.indexOf('c10')).toBe(plain.indexOf('l9') + 1);
    expect(plain.indexOf('c20')).toBe(plain.indexOf('l19') + 1);
    const skew = json.filter((r) => streamOf(r) === 'stream-skew').map((r) => place(r)[1]);
    expect(skew).toEqual(['l0', 'l1', 'l2', 'l3', 'l4', 'l5']);
  });

  it('brings the verifier to the same report', async () => {
    const report = async (read: () => Promise<readonly VerificationRecord[]>) => {
      const verifier = new LogVerifier({ publicKeys: [] });
      verifier.add(await read());
      return verifier.finish();
    };
    const [viaJson, viaBinary] = [
      await report(() => store.spansForVerification()),
      await report(() => store.verificationRecords()),
    ];
    expect(viaBinary).toEqual(viaJson);
    expect(viaBinary.streams.map((s) => s.stream)).toEqual([
      'stream-hard',
      'stream-other',
      'stream-plain',
      'stream-skew',
    ]);
  });

  it('reads one stream and one time range as the JSON reader does', async () => {
    const query = { stream: 'stream-hard', from: new Date(START + 10_000), to: new Date(START + 30_000) };
    const binary = await store.verificationRecords(query);
    expect(binary.map(viaEither).sort()).toEqual(
      (await store.spansForVerification(query)).map(viaRecordPath).sort(),
    );
    expect(binary.length).toBeGreaterThanOrEqual(20);
  });

  it('decodes on decoder threads exactly as on the calling thread, and fails as it does', async () => {
    const ctx = new QueryContext(
      store.client,
      renderContext({
        database: store.options.database,
        cluster: undefined,
        retention: store.options.retention,
      }),
    );
    const decoders = new VerificationDecoders(2);
    // Every result goes to a thread, however small, and is decoded here too from a copy of the same bytes (two
    // reads of the store may order rows that tie on every sort key differently). Four at once, so both threads
    // hold work.
    const pairs: [VerificationRecord[], Promise<VerificationRecord[]>][] = [];
    const threaded = {
      decode: (bytes: Buffer) => {
        const here = decodeVerificationRows(Buffer.from(bytes));
        const there = decoders.decode(bytes, { inlineBelow: 0 });
        pairs.push([here, there]);
        return there;
      },
    };
    try {
      const queries = [
        {},
        { stream: 'stream-hard' },
        { stream: 'stream-plain' },
        { from: new Date(START + 10_000) },
      ];
      const viaThreads = await Promise.all(queries.map((query) => verificationRecords(ctx, query, threaded)));
      expect(pairs).toHaveLength(4);
      for (const [here, there] of pairs) expect(await there).toEqual(here);
      expect(viaThreads[0]).toHaveLength(spans.length + 5);
      // A result cut inside a row: the thread's StoreError, code and message, as the calling thread throws it.
      const bytes = await ctx.bytes(`SELECT 'abc' AS a, 'de' AS b FROM numbers(3)`, 'RowBinary');
      const cut = bytes.subarray(0, bytes.length - 1);
      const failure = await decoders.decode(Buffer.from(cut), { inlineBelow: 0 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StoreError);
      expect((failure as StoreError).code).toBe('QUERY_FAILED');
      expect((failure as StoreError).message).toMatch(/ends inside a row|differ in number/u);
      // The pool still answers after a request failed.
      expect(await threaded.decode(await ctx.bytes(`SELECT 1 WHERE 0`, 'RowBinary'))).toEqual([]);
    } finally {
      await decoders.close();
    }
    await expect(decoders.decode(Buffer.alloc(0))).rejects.toMatchObject({ code: 'SINK_CLOSED' });
  });
});
