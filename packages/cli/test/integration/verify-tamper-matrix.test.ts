// The tamper matrix of `decisiontrail verify`: each route an insider with write access to the store (or to the
// witness file) could take, applied to a copy of a store the real pipeline pieces populated, and what `verify`
// must say about it — the verdict, the exit code, and a finding that names the span, decision, table or stream.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '@decisiontrail/core';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { json, runBin, type BinResult } from '../support/run-bin.ts';

const STORE_SQL = path.resolve(import.meta.dirname, '../support/store-sql.ts');

interface Finding {
  code: string;
  tamper: boolean;
  spanId?: string;
  seq?: number;
  ranges?: [number, number][];
  stream?: string;
  line?: number;
  keyId?: string;
  checkpointSpanId?: string;
}
interface VerifyJson {
  verdict: 'intact' | 'tampered' | 'unverified' | 'empty';
  ok: boolean;
  spansRead: number;
  spansVerified: number;
  streams: { stream: string; spanCount: number; checkpointCount: number; findings: Finding[] }[];
  witness: { file: string; checkpoints: number; findings: Finding[] } | { notChecked: string };
  unsigned: { count: number; sample: { spanId: string; decisionId: string }[] } | null;
  tables: {
    findings: { table: string; code: string; decisionId?: string; spanId?: string }[];
    tables: { table: string; rows: number }[];
  };
}
interface SpanRow {
  spanId: string;
  traceId: string;
  decisionId: string;
  seq: string;
  stream: string;
  timeMs: string;
}

let facts: FixtureFacts;
const copies: string[] = [];
let decisions: SpanRow[];
let stream: string;

beforeAll(async () => {
  facts = await buildPopulatedStore();
  [decisions] = (await storeSql(facts.root, [
    `SELECT SpanId AS spanId, TraceId AS traceId, SpanAttributes['audit.decision.id'] AS decisionId,
            SpanAttributes['audit.integrity.seq'] AS seq, SpanAttributes['audit.integrity.stream'] AS stream,
            toUnixTimestamp64Milli(toDateTime64(Timestamp, 3)) AS timeMs
     FROM otel_traces WHERE SpanAttributes['audit.record.type'] = 'decision'
       AND SpanAttributes['audit.decision.id'] != '${facts.overridden.reference.decisionId}'
     ORDER BY toUInt64(seq)`,
  ])) as [SpanRow[]];
  expect(decisions.length).toBeGreaterThanOrEqual(12);
  stream = decisions[0]!.stream;
});
afterAll(() => {
  for (const root of copies) rmSync(root, { recursive: true, force: true });
  if (facts !== undefined) removePopulatedStore(facts);
});

/** Runs SQL on the store of a project directory, in a child process (see store-sql.ts). */
function storeSql(root: string, statements: readonly string[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--conditions=@decisiontrail/source', STORE_SQL, path.join(root, '.decisiontrail', 'data')],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as unknown[]),
    );
    child.stdin!.end(JSON.stringify(statements));
  });
}

/** A copy of the fixture's project directory (store, keys, witness) with the statements applied to its store. */
async function tamperedCopy(statements: readonly string[]): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'decisiontrail-tamper-'));
  copies.push(root);
  cpSync(facts.root, root, { recursive: true });
  if (statements.length > 0) await storeSql(root, statements);
  return root;
}

function verify(root: string, ...args: string[]): Promise<BinResult> {
  return runBin(['verify', '--json', ...args], { cwd: root });
}

const witnessOf = (root: string): string => path.join(root, 'checkpoints.witness.jsonl');
const sql = (text: string): string =>
  `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`;
const streamFindings = (report: VerifyJson): Finding[] => report.streams.flatMap((s) => s.findings);
const covers = (finding: Finding, seq: number): boolean =>
  (finding.ranges ?? []).some(([from, to]) => seq >= from && seq < to);

describe('verify: tamper matrix', () => {
  it('untouched store: intact, every audit table reproduced, exit 0 — and says so in text', async () => {
    const root = await tamperedCopy([]);
    const result = await verify(root, '--witness', witnessOf(root));
    expect(result.code, result.stderr).toBe(0);
    const report = json<VerifyJson>(result);
    expect(report.verdict).toBe('intact');
    expect(streamFindings(report)).toEqual([]);
    expect(report.tables.findings).toEqual([]);
    expect(report.tables.tables.map((t) => t.table)).toEqual(
      expect.arrayContaining([
        'audit_decisions',
        'audit_oversight',
        'audit_feedback',
        'audit_decision_stats',
      ]),
    );
    expect(report.unsigned).toEqual({ count: 0, sample: [] });
    // Every leaf span read matches its signed leaf; the rest of what was read are the checkpoint spans.
    const leaves = report.streams.reduce((n, s) => n + s.spanCount, 0);
    expect(leaves).toBeGreaterThan(0);
    expect(report.spansVerified).toBe(leaves);
    expect(report.spansRead).toBe(leaves + report.streams.reduce((n, s) => n + s.checkpointCount, 0));
    const text = await runBin(['verify', '--witness', witnessOf(root)], { cwd: root });
    // The summary says what the spans read are beyond the verified ones (the checkpoint spans), in one number format.
    const n = (value: number) => value.toLocaleString('en-US');
    const checkpoints = report.spansRead - leaves;
    expect(text.stdout).toContain(
      `intact: 1 stream(s), ${n(report.spansRead)} spans read (${n(leaves)} signed, ${n(checkpoints)} checkpoints), ${n(leaves)} signed spans verified, `,
    );
  });

  it('--from in the middle of a stream: checked from its first checkpoint in the range, intact, nothing missing', async () => {
    const middle = decisions[Math.floor(decisions.length / 2)]!;
    const from = new Date(Number(middle.timeMs)).toISOString();
    const result = await runBin(['verify', '--json', '--from', from, '--witness', facts.witnessFile], {
      cwd: facts.root,
    });
    expect(result.code, result.stdout).toBe(0);
    const report = json<
      VerifyJson & { streams: { checkedFrom?: number; verifiedRanges: [number, number][] }[] }
    >(result);
    expect(report.verdict).toBe('intact');
    expect(streamFindings(report)).toEqual([]);
    const [only] = report.streams;
    expect(only!.checkedFrom).toBeGreaterThan(0);
    expect(only!.checkedFrom).toBeLessThanOrEqual(Number(middle.seq));
    expect(only!.verifiedRanges[0]![0]).toBeGreaterThanOrEqual(only!.checkedFrom!);
    // A span after the start that is deleted is still missing.
    const later = decisions[decisions.length - 2]!;
    const root = await tamperedCopy([`ALTER TABLE otel_traces DELETE WHERE SpanId = '${later.spanId}'`]);
    const cut = json<VerifyJson>(await verify(root, '--from', from, '--witness', witnessOf(root)));
    expect(streamFindings(cut).some((f) => f.code === 'missing' && covers(f, Number(later.seq)))).toBe(true);
    // The stream's decision counts start when the decisions they count began, before the range, and a checkpoint
    // in the range seals them: read by sequence number, they verify; deleted, they are missing.
    const [counts] = (await storeSql(facts.root, [
      `SELECT SpanId AS spanId, SpanAttributes['audit.integrity.seq'] AS seq,
              toUnixTimestamp64Milli(toDateTime64(Timestamp, 3)) AS timeMs
       FROM otel_traces WHERE SpanAttributes['audit.record.type'] = 'count'`,
    ])) as [SpanRow[]];
    const early = counts.filter((c) => Number(c.timeMs) < Date.parse(from));
    expect(early.length).toBeGreaterThan(0);
    expect(
      report.streams[0]!.verifiedRanges.some(
        ([a, b]) => Number(early[0]!.seq) >= a && Number(early[0]!.seq) < b,
      ),
    ).toBe(true);
    const uncounted = await tamperedCopy([
      `ALTER TABLE otel_traces DELETE WHERE SpanId = '${early[0]!.spanId}'`,
    ]);
    const lost = json<VerifyJson>(await verify(uncounted, '--from', from, '--witness', witnessOf(uncounted)));
    expect(lost.verdict).toBe('tampered');
    expect(streamFindings(lost).some((f) => f.code === 'missing' && covers(f, Number(early[0]!.seq)))).toBe(
      true,
    );
  });

  it('otel_traces: attribute and column edits, a delete, a forged row, a conflicting copy and a swap are each named', async () => {
    const [edited, column, deleted, forged, copied, swapA, swapB] = decisions;
    const root = await tamperedCopy([
      `ALTER TABLE otel_traces UPDATE SpanAttributes = mapUpdate(SpanAttributes, map('audit.decision.outcome', 'edited-outcome'))
       WHERE SpanId = '${edited!.spanId}'`,
      `ALTER TABLE otel_traces UPDATE Duration = Duration + 1 WHERE SpanId = '${column!.spanId}'`,
      `ALTER TABLE otel_traces DELETE WHERE SpanId = '${deleted!.spanId}'`,
      `INSERT INTO otel_traces SELECT * REPLACE ('ffffffffffff0001' AS SpanId)
       FROM (SELECT * FROM otel_traces WHERE SpanId = '${forged!.spanId}')`,
      // The copy: the same span id, the outcome changed, 1 ns later (so a reader keeping the last wins).
      `INSERT INTO otel_traces SELECT * REPLACE (
         mapUpdate(SpanAttributes, map('audit.decision.outcome', 'reject')) AS SpanAttributes,
         Timestamp + toIntervalNanosecond(1) AS Timestamp)
       FROM (SELECT * FROM otel_traces WHERE SpanId = '${copied!.spanId}')`,
      `ALTER TABLE otel_traces UPDATE SpanAttributes = mapUpdate(SpanAttributes,
         map('audit.integrity.seq', if(SpanId = '${swapA!.spanId}', '${swapB!.seq}', '${swapA!.seq}')))
       WHERE SpanId IN ('${swapA!.spanId}', '${swapB!.spanId}')`,
    ]);
    const result = await verify(root, '--witness', witnessOf(root));
    expect(result.code).toBe(1);
    const report = json<VerifyJson>(result);
    expect(report.verdict).toBe('tampered');
    const findings = streamFindings(report);
    const named = (code: string, spanId: string) =>
      findings.some((f) => f.code === code && f.spanId === spanId && f.stream === stream);
    expect(named('modified', edited!.spanId)).toBe(true);
    expect(named('modified', column!.spanId)).toBe(true);
    expect(findings.some((f) => f.code === 'missing' && covers(f, Number(deleted!.seq)))).toBe(true);
    expect(named('unexpected', 'ffffffffffff0001')).toBe(true);
    expect(named('conflicting-copy', copied!.spanId)).toBe(true);
    expect(named('reordered', swapA!.spanId)).toBe(true);
    expect(named('reordered', swapB!.spanId)).toBe(true);
  });

  it('audit tables and rollups: an UPDATE, a DELETE, a forged INSERT and a rollup edit are each named', async () => {
    const [, , , , , , , updated, forgedFeedback] = decisions;
    const overridden = facts.overridden.reference.decisionId;
    const root = await tamperedCopy([
      `ALTER TABLE audit_decisions UPDATE outcome = 'reject', confidence = 0.51 WHERE decision_id = '${updated!.decisionId}'`,
      `ALTER TABLE audit_oversight DELETE WHERE decision_id = '${overridden}'`,
      `INSERT INTO audit_feedback (decision_id, time, trace_id, span_id, correct, actual_outcome, source)
       VALUES ('${forgedFeedback!.decisionId}', now64(9), '${forgedFeedback!.traceId}', 'eeeeeeeeeeee0001', false, 'reject', 'forged')`,
      `INSERT INTO audit_decision_stats (hour, model_id, model_version, service, outcome, decisions)
       SELECT hour, model_id, model_version, service, outcome, 5 FROM audit_decision_stats LIMIT 1`,
    ]);
    const result = await verify(root, '--witness', witnessOf(root));
    expect(result.code).toBe(1);
    const report = json<VerifyJson>(result);
    expect(report.verdict).toBe('tampered');
    // The signed spans are untouched: every finding is about a derived table.
    expect(streamFindings(report).filter((f) => f.tamper)).toEqual([]);
    const tables = report.tables.findings;
    expect(tables.some((f) => f.table === 'audit_decisions' && f.decisionId === updated!.decisionId)).toBe(
      true,
    );
    expect(tables.some((f) => f.table === 'audit_oversight' && f.decisionId === overridden)).toBe(true);
    expect(tables.some((f) => f.table === 'audit_feedback' && f.spanId === 'eeeeeeeeeeee0001')).toBe(true);
    expect(tables.some((f) => f.table === 'audit_decision_stats')).toBe(true);
    const text = await runBin(['verify', '--witness', witnessOf(root)], { cwd: root });
    expect(text.stdout).toContain(`audit_decisions (decision ${updated!.decisionId}`);
    expect(text.stdout).toMatch(/^NOT intact: /m);
  });

  it('exact duplicate redeliveries: intact, and the report counts each decision once', async () => {
    const root = await tamperedCopy([
      `INSERT INTO otel_traces SELECT * FROM otel_traces WHERE SpanAttributes['audit.record.type'] IN ('decision', 'oversight')`,
    ]);
    const result = await verify(root, '--witness', witnessOf(root));
    expect(result.code, result.stdout).toBe(0);
    const report = json<VerifyJson>(result);
    expect(report.verdict).toBe('intact');
    expect(report.tables.findings).toEqual([]);
    const totals = json<{ totals: { decisions: number; overridden: number } }>(
      await runBin(
        [
          'report',
          '--model',
          facts.modelId,
          '--from',
          facts.from.toISOString(),
          '--to',
          facts.to.toISOString(),
          '--format',
          'json',
        ],
        { cwd: root },
      ),
    ).totals;
    expect(totals).toMatchObject({ decisions: facts.decisions.length, overridden: facts.overrides });
  });

  it('a checkpoint re-signed by another key is named by its span', async () => {
    const [checkpoints] = (await storeSql(facts.root, [
      `SELECT SpanId AS spanId, SpanAttributes['audit.checkpoint.note'] AS note FROM otel_traces
       WHERE SpanAttributes['audit.record.type'] = 'checkpoint'
       ORDER BY toUInt64(SpanAttributes['audit.checkpoint.size']) LIMIT 1 OFFSET 3`,
    ])) as [{ spanId: string; note: string }[]];
    const target = checkpoints[0]!;
    const other = generateSigningKey();
    const resigned = other.signer.sign(target.note.slice(0, target.note.indexOf('\n\n') + 1));
    const root = await tamperedCopy([
      `ALTER TABLE otel_traces UPDATE SpanAttributes = mapUpdate(SpanAttributes,
         map('audit.checkpoint.note', ${sql(resigned)}, 'audit.integrity.key_id', '${other.keyId}'))
       WHERE SpanId = '${target.spanId}'`,
    ]);
    const result = await verify(root, '--witness', witnessOf(root));
    expect(result.code).toBe(1);
    const findings = streamFindings(json<VerifyJson>(result));
    expect(
      findings.some(
        (f) =>
          f.code === 'checkpoint-unknown-key' && f.checkpointSpanId === target.spanId && f.stream === stream,
      ),
    ).toBe(true);
  });

  it('the witness: edited, malformed and missing are findings or an error, never intact', async () => {
    const root = await tamperedCopy([]);
    const lines = readFileSync(witnessOf(root), 'utf8').trimEnd().split('\n');
    // Edited: a note's tree size changed, so its signature no longer verifies.
    const edited = JSON.parse(lines[2]!) as { note: string };
    const [origin, size, ...rest] = edited.note.split('\n');
    const editedFile = path.join(root, 'edited.jsonl');
    writeFileSync(
      editedFile,
      [
        ...lines.slice(0, 2),
        JSON.stringify({ note: [origin, String(Number(size) + 1), ...rest].join('\n') }),
        ...lines.slice(3),
      ].join('\n') + '\n',
    );
    const editedRun = await verify(root, '--witness', editedFile);
    expect(editedRun.code).toBe(1);
    const editedReport = json<VerifyJson>(editedRun);
    const witnessFindings = 'file' in editedReport.witness ? editedReport.witness.findings : [];
    expect(witnessFindings.some((f) => f.code === 'checkpoint-invalid' && f.stream === stream)).toBe(true);
    // Malformed: a line that is not a witness entry, named by its line number and stream when it shows.
    const malformedFile = path.join(root, 'malformed.jsonl');
    writeFileSync(
      malformedFile,
      [...lines.slice(0, 4), 'not json', lines[4]!.slice(0, -20), ...lines.slice(5)].join('\n') + '\n',
    );
    const malformed = json<VerifyJson>(await verify(root, '--witness', malformedFile));
    expect(malformed.verdict).toBe('tampered');
    const named = 'file' in malformed.witness ? malformed.witness.findings : [];
    expect(named.filter((f) => f.code === 'witness-malformed').map((f) => [f.line, f.stream])).toEqual([
      [5, undefined],
      [6, stream],
    ]);
    // Missing, by flag or by default (keys.witness): the check cannot run, so verify does not pass.
    const missing = await runBin(['verify', '--witness', path.join(root, 'absent.jsonl')], { cwd: root });
    expect(missing.code).toBe(7);
    expect(missing.stderr).toMatch(/witness file .*absent\.jsonl does not exist/);
    expect((await runBin(['verify'], { cwd: root })).code).toBe(7);
    // Said aloud: without a witness, truncation is not checked.
    const blind = await runBin(['verify', '--no-witness'], { cwd: root });
    expect(blind.code).toBe(0);
    expect(blind.stdout).toContain(
      'witness: not checked (--no-witness): truncation of the newest spans is not detected',
    );
  });

  it('unsigned decisions and a stream nobody trusted signs: unverified (exit 8), never intact; --allow-unsigned accepts them', async () => {
    const [unsigned, untrusted] = decisions.slice(-2);
    const root = await tamperedCopy([
      `INSERT INTO otel_traces SELECT * REPLACE ('eeeeeeeeeeee0002' AS SpanId,
         mapFilter((k, v) -> NOT startsWith(k, 'audit.integrity.'),
           mapUpdate(SpanAttributes, map('audit.decision.id', '01900000-0000-7000-8000-000000000001'))) AS SpanAttributes)
       FROM (SELECT * FROM otel_traces WHERE SpanId = '${unsigned!.spanId}')`,
      `INSERT INTO otel_traces SELECT * REPLACE ('dddddddddddd0001' AS SpanId,
         mapUpdate(SpanAttributes, map('audit.integrity.stream', 'rogue-stream', 'audit.integrity.seq', '0',
           'audit.decision.id', '01900000-0000-7000-8000-000000000002')) AS SpanAttributes)
       FROM (SELECT * FROM otel_traces WHERE SpanId = '${untrusted!.spanId}')`,
    ]);
    const result = await verify(root, '--witness', witnessOf(root));
    expect(result.code).toBe(8);
    const report = json<VerifyJson>(result);
    expect(report.verdict).toBe('unverified');
    expect(report.unsigned).toMatchObject({ count: 1, sample: [{ spanId: 'eeeeeeeeeeee0002' }] });
    const rogue = report.streams.find((s) => s.stream === 'rogue-stream')!;
    expect(rogue.findings.map((f) => [f.code, f.tamper, f.stream])).toEqual([
      ['untrusted-stream', false, 'rogue-stream'],
    ]);
    const text = await runBin(['verify', '--witness', witnessOf(root)], { cwd: root });
    expect(text.stdout).toContain('eeeeeeeeeeee0002');
    expect(text.stdout).toMatch(/^NOT verified: /m);
    expect(text.stdout).not.toMatch(/^intact/m);
    const allowed = await runBin(['verify', '--witness', witnessOf(root), '--allow-unsigned'], { cwd: root });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('accepted by --allow-unsigned');
  });

  it('a store holding only unsigned decisions (the zero-code --import path) never reads intact', async () => {
    // Made the way such a store comes about: every table emptied, then one decision written without integrity.
    const [tables] = (await storeSql(facts.root, [
      `SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'
         AND (startsWith(name, 'otel_') OR startsWith(name, 'audit_'))
         AND name NOT IN ('audit_incidents', 'audit_erasures', 'audit_quarantine')`,
    ])) as [{ name: string }[]];
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['otel_traces', 'audit_decisions']));
    const root = await tamperedCopy([
      `CREATE TABLE unsigned_copy AS otel_traces ENGINE = Memory`,
      `INSERT INTO unsigned_copy SELECT * REPLACE ('eeeeeeeeeeee0003' AS SpanId,
         mapFilter((k, v) -> NOT startsWith(k, 'audit.integrity.'), SpanAttributes) AS SpanAttributes)
       FROM (SELECT * FROM otel_traces WHERE SpanId = '${decisions[0]!.spanId}')`,
      ...tables.map((t) => `TRUNCATE TABLE ${t.name}`),
      `INSERT INTO otel_traces SELECT * FROM unsigned_copy`,
      `DROP TABLE unsigned_copy`,
    ]);
    const result = await verify(root, '--no-witness');
    expect(result.code, result.stdout).toBe(8);
    const report = json<VerifyJson>(result);
    expect(report.verdict).toBe('unverified');
    expect(report.spansRead).toBe(0);
    expect(report.unsigned).toMatchObject({ count: 1, sample: [{ spanId: 'eeeeeeeeeeee0003' }] });
    expect(report.tables.findings).toEqual([]);
    const text = await runBin(['verify', '--no-witness'], { cwd: root });
    expect(text.stdout).not.toMatch(/^intact/m);
  });
});
