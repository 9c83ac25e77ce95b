import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '@decisiontrail/clickhouse';
import {
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_GEN_AI_TOOL_NAME,
} from '@decisiontrail/semconv';
import {
  EXCLUDED_ATTRIBUTE_PREFIXES,
  generateSigningKey,
  loadSigningKey,
  type SpanRecord,
} from '@decisiontrail/core';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { json, killBinGroup, runBin, spawnBin } from '../support/run-bin.ts';
import { signAsStream, toolRunFor } from '../support/signed-spans.ts';

// Every way a timeline's values can part from what was signed, each on its own decision of one store
// (built once, tampered before any command runs), checked by the CLI opening the store and through serve.

interface Entry {
  kind: string;
  spanId: string | null;
  title: string;
  details: { label: string; value: string }[];
  integrity?: { status: string; check: string; fields?: string[]; detail: string };
}
interface Doc {
  decision: {
    id: string;
    outcome: string;
    confidence: number | null;
    completeness: { missing: string[]; flaggedAtIngest: string[] | null } | null;
  } | null;
  entries: Entry[];
  verification: { status: string; detail: string };
}

let facts: FixtureFacts;
const cases: Record<string, string> = {};
let serve: ChildProcess | undefined;

const command = (store: Store, query: string, params: Record<string, string>) =>
  store.client.command({ query, query_params: params, clickhouse_settings: { mutations_sync: '2' } });

/** A stored decision span as a new decision: fresh span and decision ids, no integrity attributes. */
async function copyOfDecision(store: Store, traceId: string, spanId: string): Promise<SpanRecord> {
  const original = (await store.traceSpans(traceId)).find((span) => span.spanId === spanId)!;
  const attributes = Object.fromEntries(
    Object.entries(original.attributes).filter(
      ([key]) => !EXCLUDED_ATTRIBUTE_PREFIXES.some((p) => key.startsWith(p)),
    ),
  );
  return {
    ...original,
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    attributes: {
      ...attributes,
      [ATTR_AUDIT_DECISION_ID]: `01a2${randomBytes(2).toString('hex')}-0000-7000-8000-${randomBytes(6).toString('hex')}`,
    },
  };
}

beforeAll(async () => {
  facts = await buildPopulatedStore();
  const d = facts.decisions;
  const store = await openStore({ dataDir: facts.dataDir, migrate: false });
  try {
    // An approved decision nobody reviewed, turned into a rejection in the typed table only.
    const approved = d.find((x, i) => i % 5 !== 0 && i > 10 && x.outcome === 'approve')!;
    cases.decisionEdited = approved.reference.decisionId;
    await command(
      store,
      "ALTER TABLE audit_decisions UPDATE outcome = 'reject', confidence = 0.51 WHERE decision_id = {id:String}",
      { id: cases.decisionEdited },
    );
    cases.reviewEdited = d[5]!.reference.decisionId;
    await command(
      store,
      "ALTER TABLE audit_oversight UPDATE reason = 'documents forged' WHERE decision_id = {id:String}",
      {
        id: cases.reviewEdited,
      },
    );
    cases.reviewDeleted = d[10]!.reference.decisionId;
    await command(store, 'ALTER TABLE audit_oversight DELETE WHERE decision_id = {id:String}', {
      id: cases.reviewDeleted,
    });
    cases.decisionSpanEdited = d[1]!.reference.decisionId;
    await command(
      store,
      `ALTER TABLE otel_traces UPDATE SpanAttributes = mapUpdate(SpanAttributes, map('${ATTR_AUDIT_DECISION_OUTCOME}', 'forged'))
       WHERE SpanId = {span:String}`,
      { span: d[1]!.reference.spanId },
    );
    // Audit rows that locate no stored span: a forged decision row, and a forged link to a review of a real decision.
    cases.forgedDecisionRow = `01a2ffff-0000-7000-8000-${randomBytes(6).toString('hex')}`;
    await command(
      store,
      `INSERT INTO audit_decisions (decision_id, time, trace_id, span_id, service, model_id, outcome)
       VALUES ({id:String}, now64(9), {trace:String}, 'eeeeeeeeeeee0002', 'forged', 'forged-model', 'approve')`,
      { id: cases.forgedDecisionRow, trace: randomBytes(16).toString('hex') },
    );
    const linked = d.find((x, i) => i > 11 && x.reference.decisionId !== cases.decisionEdited)!;
    cases.forgedLink = linked.reference.decisionId;
    await command(
      store,
      `INSERT INTO audit_decision_links (decision_id, span_id, trace_id, time, service, record_type)
       VALUES ({id:String}, 'eeeeeeeeeeee0003', {trace:String}, now64(9), 'forged', 'oversight')`,
      { id: cases.forgedLink, trace: randomBytes(16).toString('hex') },
    );
    cases.conflictingCopy = d[2]!.reference.decisionId;
    await command(
      store,
      `INSERT INTO otel_traces SELECT * REPLACE (
         mapUpdate(SpanAttributes, map('${ATTR_AUDIT_DECISION_OUTCOME}', 'approve')) AS SpanAttributes,
         Timestamp + toIntervalNanosecond(1) AS Timestamp)
       FROM otel_traces WHERE SpanId = {span:String}`,
      { span: d[2]!.reference.spanId },
    );
    cases.exactDuplicate = d[3]!.reference.decisionId;
    await command(store, 'INSERT INTO otel_traces SELECT * FROM otel_traces WHERE SpanId = {span:String}', {
      span: d[3]!.reference.spanId,
    });
    const unsigned = await copyOfDecision(store, d[4]!.reference.traceId, d[4]!.reference.spanId);
    cases.unsigned = unsigned.attributes[ATTR_AUDIT_DECISION_ID]!;
    const foreign = await copyOfDecision(store, d[6]!.reference.traceId, d[6]!.reference.spanId);
    cases.untrusted = foreign.attributes[ATTR_AUDIT_DECISION_ID]!;
    await store.insertSpans([unsigned, ...signAsStream([foreign], generateSigningKey('someone-else'))]);
    // Tool runs in traces of their own, tied to a decision by its id: signed by the fixture's key, unsigned,
    // and signed then changed in otel_traces.
    const trusted = await loadSigningKey(path.join(facts.keysDir, 'signing.key'));
    cases.actionVerified = d[7]!.reference.decisionId;
    cases.actionUnsigned = d[8]!.reference.decisionId;
    cases.actionTampered = d[9]!.reference.decisionId;
    const tampered = signAsStream([await toolRunFor(store, d[9]!.reference)], trusted);
    await store.insertSpans([
      ...signAsStream([await toolRunFor(store, d[7]!.reference)], trusted),
      await toolRunFor(store, d[8]!.reference),
      ...tampered,
    ]);
    await command(
      store,
      `ALTER TABLE otel_traces UPDATE SpanAttributes = mapUpdate(SpanAttributes, map('${ATTR_GEN_AI_TOOL_NAME}', 'wire_funds'))
       WHERE SpanId = {span:String}`,
      { span: tampered[0]!.spanId },
    );
  } finally {
    await store.close();
  }
});
afterAll(() => {
  killBinGroup(serve);
  if (facts !== undefined) removePopulatedStore(facts);
});

const timeline = async (id: string): Promise<Doc> => {
  const result = await runBin(['timeline', id, '--json'], { cwd: facts.root });
  if (result.code !== 0 && result.code !== 1)
    throw new Error(`timeline exit ${result.code}: ${result.stderr}`);
  const doc = json<Doc>(result);
  // Each case asserts its status itself; a failed check exits 1 (as verify does), anything else 0.
  expect(result.code).toBe(doc.verification.status === 'failed' ? 1 : 0);
  return doc;
};
const entriesOf = (doc: Doc, kind: string) => doc.entries.filter((e) => e.kind === kind);

/** The assertions of every case; run once against the store and once through serve. */
const expectations: Record<string, (doc: Doc) => void> = {
  untouched: (doc) => {
    expect(doc.verification.status).toBe('verified');
    const checked = doc.entries.filter((e) => e.integrity !== undefined);
    expect(checked.map((e) => e.kind).sort()).toEqual(['decision', 'oversight']);
    expect(checked.every((e) => e.integrity!.status === 'verified')).toBe(true);
    // decision() with a model, a version and hashed input and output carries all its convention requires; the
    // fixture's spans were stored without serve's ingest check, so nothing is flagged.
    expect(doc.decision!.completeness).toEqual({ missing: [], flaggedAtIngest: null });
  },
  // An insider's edit of an audit table changes nothing the checked timeline shows: it shows the signed spans, which
  // the audit tables only locate; verify names the edited row (see the test of verify below).
  decisionEdited: (doc) => {
    expect(doc.verification.status).toBe('verified');
    const [decision] = entriesOf(doc, 'decision');
    expect(decision!.integrity).toMatchObject({ status: 'verified', check: 'inclusion' });
    expect(doc.decision!.outcome).toBe('approve');
    expect(doc.decision!.confidence).not.toBe(0.51);
    expect(doc.verification.detail).toContain('Not checked here: the audit tables that locate these spans');
  },
  reviewEdited: (doc) => {
    expect(doc.verification.status).toBe('verified');
    const [review] = entriesOf(doc, 'oversight');
    expect(review!.integrity).toMatchObject({ status: 'verified', check: 'inclusion' });
    expect(review!.details).not.toContainEqual({ label: 'reason', value: 'documents forged' });
  },
  reviewDeleted: (doc) => {
    // Its link still locates the signed review: shown from its span, as signed.
    expect(doc.verification.status).toBe('verified');
    const [review] = entriesOf(doc, 'oversight');
    expect(review!.integrity).toMatchObject({ status: 'verified', check: 'inclusion' });
    expect(review!.details).toContainEqual({ label: 'reviewer', value: 'analyst-1' });
  },
  decisionSpanEdited: (doc) => {
    expect(doc.verification.status).toBe('failed');
    expect(entriesOf(doc, 'decision')[0]!.integrity!.status).toBe('failed');
    expect(doc.decision!.outcome).toBe('forged');
  },
  forgedDecisionRow: (doc) => {
    // Nothing of the forged row is shown: only where it points, and that no stored span is there.
    expect(doc.verification.status).toBe('failed');
    const [decision] = entriesOf(doc, 'decision');
    expect(decision!.integrity).toMatchObject({ status: 'failed', check: 'missing-span' });
    expect(decision!.integrity!.detail).toContain(
      'no otel_traces row holds the span audit_decisions locates',
    );
    expect(doc.decision!.outcome).not.toBe('approve');
  },
  forgedLink: (doc) => {
    expect(doc.verification.status).toBe('failed');
    expect(entriesOf(doc, 'decision')[0]!.integrity!.status).toBe('verified');
    const review = entriesOf(doc, 'oversight').find((e) => e.spanId === 'eeeeeeeeeeee0003');
    expect(review!.integrity).toMatchObject({ status: 'failed', check: 'missing-span' });
    expect(review!.integrity!.detail).toContain('audit_decision_links locates');
  },
  conflictingCopy: (doc) => {
    expect(doc.verification.status).toBe('failed');
    expect(entriesOf(doc, 'decision')[0]!.integrity).toMatchObject({
      status: 'failed',
      check: 'conflicting-copy',
    });
    expect(doc.verification.detail).toContain('2 stored copies with different leaves');
  },
  exactDuplicate: (doc) => {
    expect(doc.verification.status).toBe('verified');
    expect(entriesOf(doc, 'decision')).toHaveLength(1);
  },
  unsigned: (doc) => {
    expect(doc.verification.status).toBe('unsigned');
    expect(entriesOf(doc, 'decision')[0]!.integrity).toMatchObject({
      status: 'unsigned',
      check: 'no-stream',
    });
  },
  untrusted: (doc) => {
    expect(doc.verification.status).toBe('untrusted');
    expect(entriesOf(doc, 'decision')[0]!.integrity).toMatchObject({
      status: 'untrusted',
      check: 'untrusted-key',
    });
  },
  actionVerified: (doc) => {
    const [run] = entriesOf(doc, 'action');
    expect(run!.title).toBe('tool notify_applicant ran');
    expect(run!.details).toContainEqual({ label: 'linked by', value: 'explicit' });
    expect(run!.integrity).toMatchObject({ status: 'verified', check: 'inclusion' });
    expect(doc.verification.status).toBe('verified');
    expect(doc.verification.detail).toContain('tool runs');
  },
  actionUnsigned: (doc) => {
    const [run] = entriesOf(doc, 'action');
    expect(run!.integrity).toMatchObject({ status: 'unsigned', check: 'no-stream' });
    expect(entriesOf(doc, 'decision')[0]!.integrity!.status).toBe('verified');
    expect(doc.verification.status).toBe('unsigned');
  },
  actionTampered: (doc) => {
    const [run] = entriesOf(doc, 'action');
    expect(run!.title).toBe('tool wire_funds ran');
    expect(run!.integrity!.status).toBe('failed');
    expect(doc.verification.status).toBe('failed');
  },
};

describe('timeline read-time verification, store opened by the CLI', () => {
  it('untouched: decision and its override verified', async () => {
    expectations.untouched!(await timeline(facts.overridden.reference.decisionId));
  });
  it("audit_decisions UPDATE outcome, confidence: the signed values are shown, verified; the row is verify's to name", async () => {
    expectations.decisionEdited!(await timeline(cases.decisionEdited!));
    const text = await runBin(['timeline', cases.decisionEdited!], { cwd: facts.root });
    expect(text.stdout).toMatch(/integrity\s+verified: \d+ signed span\(s\) shown/);
    expect(text.stdout).toContain('decisiontrail verify reconciles them');
    expect(text.stdout).not.toContain('confidence   0.510');
  });
  it('audit_oversight reason edited: the signed review is shown, verified', async () => {
    expectations.reviewEdited!(await timeline(cases.reviewEdited!));
  });
  it('audit_oversight row deleted: the signed review is still shown, located by its link', async () => {
    expectations.reviewDeleted!(await timeline(cases.reviewDeleted!));
  });
  it('a decision span edited in otel_traces: shown as stored, failed (its leaf does not recompute)', async () => {
    expectations.decisionSpanEdited!(await timeline(cases.decisionSpanEdited!));
  });
  it('an audit_decisions row forged for no stored span: failed, missing span, none of its values shown', async () => {
    expectations.forgedDecisionRow!(await timeline(cases.forgedDecisionRow!));
  });
  it('an audit_decision_links row forged for no stored span: that review failed, missing span', async () => {
    expectations.forgedLink!(await timeline(cases.forgedLink!));
  });
  it('a second otel_traces row with the same span id and another leaf: failed, conflicting copy', async () => {
    expectations.conflictingCopy!(await timeline(cases.conflictingCopy!));
  });
  it('an exact duplicate row counts once: verified', async () => {
    expectations.exactDuplicate!(await timeline(cases.exactDuplicate!));
  });
  it('a decision with no integrity stream: unsigned', async () => {
    expectations.unsigned!(await timeline(cases.unsigned!));
  });
  it('a stream whose checkpoint no trusted key signed: untrusted', async () => {
    expectations.untrusted!(await timeline(cases.untrusted!));
  });
  it('a tool run in another trace, tied by decision id: shown, and verified only when its signed span proves', async () => {
    expectations.actionVerified!(await timeline(cases.actionVerified!));
    expectations.actionUnsigned!(await timeline(cases.actionUnsigned!));
    expectations.actionTampered!(await timeline(cases.actionTampered!));
  });
  it('verify names the audit rows edited or deleted, which the checked timeline does not show', async () => {
    const result = await runBin(['verify', '--json', '--no-witness'], { cwd: facts.root });
    expect(result.code).not.toBe(0);
    const findings = json<{ tables: { findings: { table: string; decisionId?: string }[] } }>(result).tables
      .findings;
    const named = (table: string, id: string) =>
      findings.some((f) => f.table === table && f.decisionId === id);
    expect(named('audit_decisions', cases.decisionEdited!)).toBe(true);
    expect(named('audit_oversight', cases.reviewEdited!)).toBe(true);
    expect(named('audit_oversight', cases.reviewDeleted!)).toBe(true);
  });
  it('--no-verify shows the audit tables as stored and leaves every entry unchecked', async () => {
    const doc = json<Doc>(
      await runBin(['timeline', cases.decisionEdited!, '--json', '--no-verify'], { cwd: facts.root }),
    );
    expect(doc.verification.status).toBe('unchecked');
    expect(doc.entries.some((e) => e.integrity !== undefined)).toBe(false);
    expect(doc.decision!.outcome).toBe('reject');
  });
});

interface ReportIntegrity {
  totals: { decisions: number };
  integrity: {
    decisions: number;
    sealed: number;
    unsealed: number;
    untrusted: number;
    unsigned: number;
    unchecked: number;
    meaning: string;
  };
}
const report = async (): Promise<ReportIntegrity> => {
  const result = await runBin(['report', '--model', facts.modelId, '--json'], { cwd: facts.root });
  if (result.code !== 0) throw new Error(`report exit ${result.code}: ${result.stderr}`);
  return json<ReportIntegrity>(result);
};
/** Every decision of the fixture plus the unsigned one and the one in a stream no trusted key signed. */
const expectReportIntegrity = (doc: ReportIntegrity): void => {
  const { integrity } = doc;
  expect(integrity.unsigned).toBe(1);
  expect(integrity.untrusted).toBe(1);
  expect(integrity.unsealed).toBe(0);
  expect(integrity.unchecked).toBe(0);
  expect(integrity.sealed).toBe(integrity.decisions - 2);
  expect(integrity.sealed).toBeGreaterThan(facts.decisions.length - 1);
  expect(integrity.meaning).toContain('sealed is not verified');
};

describe('report integrity headline', () => {
  it('counts the decisions sealed by a trusted checkpoint, unsigned and from an untrusted stream', async () => {
    expectReportIntegrity(await report());
    const md = await runBin(['report', '--model', facts.modelId], { cwd: facts.root });
    expect(md.stdout).toMatch(
      /Integrity of the \d+ decision\(s\): \d+ sealed by a checkpoint signed by a trusted key \(leaves not rechecked here\), 0 after the last trusted checkpoint of their stream, 1 from streams no trusted key signed, 1 unsigned/,
    );
    expect(md.stdout).not.toMatch(/\d+ (decisions? )?verified/);
  });
  it('with no trusted key configured, no decision counts as sealed', async () => {
    const { integrity } = json<ReportIntegrity>(
      await runBin(['report', '--model', facts.modelId, '--json'], {
        cwd: facts.root,
        env: { DECISIONTRAIL_KEYS_DIR: path.join(facts.root, 'no-keys') },
      }),
    );
    expect(integrity.sealed).toBe(0);
    expect(integrity.unchecked).toBe(integrity.decisions - 1);
  });
});

describe('timeline read-time verification through serve', () => {
  it('gives the same statuses when serve holds the store', async () => {
    const serveFile = path.join(facts.dataDir, 'serve.json');
    let log = '';
    serve = spawnBin(['serve', '--port', '0'], { cwd: facts.root });
    serve.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!existsSync(serveFile)) {
      if (Date.now() > deadline) throw new Error(`serve did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expectations.untouched!(await timeline(facts.overridden.reference.decisionId));
    for (const [name, id] of Object.entries(cases)) expectations[name]!(await timeline(id));
    expectReportIntegrity(await report());
  });
});
