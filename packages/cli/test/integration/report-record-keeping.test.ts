// Coverage and completeness with nothing in between faked: decision() on the OTel SDK → a real DurableSpanProcessor
// whose spool fills while its target is down (decisions dropped, counted, accounted for by an audit.loss record) →
// its signed audit.count records at shutdown → serve's completeness check (the processor's own stage function) →
// the embedded store → `decisiontrail report` as a child process. Every expected figure is tallied here from what
// the test made, dropped and withheld, not read back from the code under test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSigningKey, type SpanRecord } from '@decisiontrail/core';
import { openStore } from '@decisiontrail/clickhouse';
import { configureAudit, decision } from '@decisiontrail/instrumentation';
import { annotateCompleteness } from '@decisiontrail/processor/internal';
import { DurableSpanProcessor, spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runBin } from '../support/run-bin.ts';

/** A collector that is down until `up` is set; then it keeps what it receives. */
class Target implements SpanExporter {
  up = false;
  readonly received: ReadableSpan[] = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (!this.up) {
      done({ code: ExportResultCode.FAILED, error: new Error('collector down') });
      return;
    }
    this.received.push(...spans);
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

interface Tally {
  made: number;
  dropped: number;
  withheld: number;
}

let root: string;
let from: Date;
let to: Date;
/** The last decision of each model: made after the spool drained, so stored. */
const lastDecision: Record<string, string> = {};
const tally: Record<string, Tally> = {
  credit: { made: 0, dropped: 0, withheld: 0 },
  triage: { made: 0, dropped: 0, withheld: 0 },
};

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'dt-record-keeping-'));
  from = new Date(Date.now() - 60_000);
  const target = new Target();
  const processor = new DurableSpanProcessor({
    exporter: target,
    key: generateSigningKey(),
    spoolDir: path.join(root, 'spool'),
    witness: null,
    maxSpoolBytes: 30_000,
    batchSize: 1000,
    // Retries only when the test flushes; counts only at shutdown: nothing here waits on a timer.
    initialRetryMillis: 600_000,
    countIntervalMillis: 3_600_000,
  });
  const provider = new TracerProvider({ spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  configureAudit({ hmacKey: 'record-keeping-key' });
  // credit-scorer names its version; triage does not, so serve's check flags each triage decision.
  const decide = (model: 'credit' | 'triage', income: number): void => {
    const before = processor.stats.droppedAuditSpans;
    const outcome = decision(
      {
        modelId: model === 'credit' ? 'credit-scorer' : 'triage',
        ...(model === 'credit' && { version: '2' }),
        input: { income },
      },
      (handle) => {
        lastDecision[model] = handle.reference.decisionId;
        const result = income > 40_000 ? 'approve' : 'refer';
        handle.setOutcome(result);
        return result;
      },
    );
    expect(outcome).toMatch(/approve|refer/u);
    tally[model]!.made += 1;
    tally[model]!.dropped += processor.stats.droppedAuditSpans - before;
  };
  let i = 0;
  while (processor.stats.droppedAuditSpans < 5) decide(i++ % 3 === 0 ? 'triage' : 'credit', 30_000 + i);
  expect(tally['credit']!.dropped + tally['triage']!.dropped).toBe(5);
  target.up = true;
  await processor.forceFlush();
  for (let k = 0; k < 6; k++) decide(k % 2 === 0 ? 'credit' : 'triage', 50_000 + k);
  await provider.shutdown();

  // Two credit decisions that were signed and shipped never reach the store (lost after the signer).
  let withhold = 2;
  const records: SpanRecord[] = [];
  for (const span of target.received) {
    const record = spanRecordFromReadableSpan(span);
    if (
      withhold > 0 &&
      record.attributes['audit.model.id'] === 'credit-scorer' &&
      record.name !== 'audit.count'
    ) {
      withhold -= 1;
      tally['credit']!.withheld += 1;
      continue;
    }
    annotateCompleteness(record);
    records.push(record);
  }
  // And two decisions of a rules engine that no producer signs or counts.
  const unsignedExporter = new InMemorySpanExporter();
  const unsignedProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: unsignedExporter })],
  });
  trace.disable();
  trace.setGlobalTracerProvider(unsignedProvider);
  for (const income of [1, 2])
    decision({ modelId: 'legacy-rules', version: '7', input: { income } }, () => 'refer');
  for (const span of unsignedExporter.getFinishedSpans()) {
    const record = spanRecordFromReadableSpan(span);
    annotateCompleteness(record);
    records.push(record);
  }
  await unsignedProvider.shutdown();

  const store = await openStore({ dataDir: path.join(root, '.decisiontrail', 'data') });
  try {
    await store.insertSpans(records);
  } finally {
    await store.close();
  }
  to = new Date(Date.now() + 1);
}, 120_000);

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

interface RecordKeepingJson {
  targets: { coverage: number; completeness: number };
  versions: {
    version: string;
    decisions: number;
    coverage: number | null;
    counted: number;
    storedOfCounted: number;
    notMeasured: number;
    completeness: number | null;
    incomplete: number;
    missing: { attribute: string; decisions: number }[];
  }[];
}

const report = (model: string, ...format: string[]) =>
  runBin(['report', '--model', model, '--from', from.toISOString(), '--to', to.toISOString(), ...format], {
    cwd: root,
  });

describe("timeline: a decision's missing attributes", () => {
  const timeline = (id: string, ...options: string[]) => runBin(['timeline', id, ...options], { cwd: root });

  it('names what the decision lacks, recomputed from its span, and whether serve flagged it at ingest', async () => {
    const triage = await timeline(lastDecision['triage']!);
    expect(triage.stdout).toMatch(/completeness +missing audit\.model\.version \(flagged at ingest\)/u);
    const doc = json<{ decision: { completeness: unknown } }>(
      await timeline(lastDecision['triage']!, '--json'),
    );
    expect(doc.decision.completeness).toEqual({
      missing: ['audit.model.version'],
      flaggedAtIngest: ['audit.model.version'],
    });
    const credit = await timeline(lastDecision['credit']!);
    expect(credit.stdout).toMatch(
      /completeness +complete: every attribute its convention requires is present/u,
    );
    // Without the read-time check the span is not read: said so, not called complete.
    const unread = await timeline(lastDecision['triage']!, '--no-verify');
    expect(unread.stdout).toMatch(/completeness +not checked/u);
  });
});

describe('report: decision coverage and record completeness', () => {
  it('coverage is stored of counted: decisions dropped on the full spool and lost after it are missing', async () => {
    const { made, dropped, withheld } = tally['credit']!;
    expect(dropped).toBeGreaterThan(0);
    const result = json<{ recordKeeping: RecordKeepingJson }>(await report('credit-scorer', '--json'));
    expect(result.recordKeeping.targets).toEqual({ coverage: 1, completeness: 0.99 });
    expect(result.recordKeeping.versions).toEqual([
      {
        version: '2',
        decisions: made - dropped - withheld,
        coverage: (made - dropped - withheld) / made,
        counted: made,
        storedOfCounted: made - dropped - withheld,
        notMeasured: 0,
        streams: 1,
        inconsistentStreams: 0,
        completeness: 1,
        incomplete: 0,
        missing: [],
      },
    ]);
  });

  it('completeness names the missing attribute: every triage decision lacks audit.model.version', async () => {
    const { made, dropped } = tally['triage']!;
    const result = json<{ recordKeeping: RecordKeepingJson }>(await report('triage', '--json'));
    const stored = made - dropped;
    expect(result.recordKeeping.versions).toEqual([
      expect.objectContaining({
        version: '',
        decisions: stored,
        coverage: stored / made,
        completeness: 0,
        incomplete: stored,
        missing: [{ attribute: 'audit.model.version', decisions: stored }],
      }),
    ]);
    const markdown = (await report('triage', '--format', 'md')).stdout;
    expect(markdown).toContain('## Decision coverage and record completeness (Art. 12)');
    expect(markdown).toContain(`| audit.model.version | ${stored} |`);
    expect(markdown).toContain('0.0% — below the > 99.0% target');
  });

  it('decisions nothing counts are not measured, never 100 %', async () => {
    const result = json<{ recordKeeping: RecordKeepingJson }>(await report('legacy-rules', '--json'));
    expect(result.recordKeeping.versions).toEqual([
      expect.objectContaining({ version: '7', decisions: 2, coverage: null, counted: 0, notMeasured: 2 }),
    ]);
    const html = (await report('legacy-rules', '--format', 'html')).stdout;
    expect(html).toContain('<h2>Decision coverage and record completeness (Art. 12)</h2>');
    // The version's row: 2 decisions, coverage not measured (completeness is measured: both carry what is required).
    expect(html).toMatch(/<td>7<\/td><td class="num">2<\/td><td>not measured<\/td>/u);
  });
});
