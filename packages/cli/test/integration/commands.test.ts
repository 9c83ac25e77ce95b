import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@decisiontrail/clickhouse';
import { generateSigningKeyFile, exportPublicKey } from '@decisiontrail/core';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { isOneLineError, json, runBin } from '../support/run-bin.ts';

let facts: FixtureFacts;
const run = (...args: string[]) => runBin(args, { cwd: facts.root });

beforeAll(async () => {
  facts = await buildPopulatedStore();
});
afterAll(() => {
  if (facts !== undefined) removePopulatedStore(facts);
});

describe('timeline', () => {
  it('renders the overridden decision with its trace, override, deployment and checkpoint', async () => {
    const result = await run('timeline', facts.overridden.reference.decisionId);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Decision ${facts.overridden.reference.decisionId}`);
    expect(result.stdout).toContain('reject → approve (overridden)');
    expect(result.stdout).toContain('reviewer: analyst-3');
    expect(result.stdout).toMatch(/deployment\s+credit-risk v1 → v2/);
    expect(result.stdout).toContain('POST /applications');
    expect(result.stdout).toContain('signed checkpoint');
    expect(result.stdout).toMatch(/integrity\s+verified: 2 signed span\(s\) shown/);
  });

  it('--json gives the same data', async () => {
    const doc = json<{
      query: { kind: string };
      decision: { id: string; finalOutcome: string; modelVersion: string; subjectId: string };
      entries: { kind: string; title: string }[];
      verification: { status: string };
    }>(await run('timeline', facts.overridden.reference.decisionId, '--json'));
    expect(doc.query.kind).toBe('decision');
    expect(doc.decision).toMatchObject({
      id: facts.overridden.reference.decisionId,
      finalOutcome: 'approve',
      modelVersion: 'v2',
      subjectId: 'applicant-special',
    });
    expect(new Set(doc.entries.map((e) => e.kind))).toEqual(
      new Set(['decision', 'span', 'oversight', 'deployment', 'checkpoint']),
    );
    expect(doc.verification.status).toBe('verified');
  });

  it('finds a trace by trace id', async () => {
    const doc = json<{ query: { kind: string }; entries: { title: string }[] }>(
      await run('timeline', facts.overridden.reference.traceId, '--json'),
    );
    expect(doc.query.kind).toBe('trace');
    expect(doc.entries.map((e) => e.title)).toEqual(
      expect.arrayContaining([expect.stringContaining('SELECT applicants')]),
    );
  });

  it('unknown and malformed ids: one line, exit 3 and 2', async () => {
    const unknown = await run('timeline', '01a20000-0000-7000-8000-000000000000');
    expect(unknown.code).toBe(3);
    expect(isOneLineError(unknown)).toBe(true);
    const malformed = await run('timeline', 'DROP TABLE otel_traces');
    expect(malformed.code).toBe(2);
    expect(isOneLineError(malformed)).toBe(true);
  });
});

describe('report', () => {
  it('JSON numbers match what the fixture sent', async () => {
    const report = json<{
      totals: { decisions: number; overridden: number };
      oversight: { action: string; count: number }[];
      accuracyByVersion: { version: string; withFeedback: number; accuracy: number }[];
      fairness: { outcome: string; groups: { group: string; decisions: number; outcomeCount: number }[] };
      decisionsOverTime: { decisions: number }[];
      confidenceHistogram: { count: number }[];
    }>(await run('report', '--model', 'credit-risk', '--from', '1d', '--to', '1h', '--json'));
    // --to 1h is an hour ago: nothing. The real window follows.
    expect(report.totals.decisions).toBe(0);
    const full = json<typeof report>(
      await run(
        'report',
        '--model',
        'credit-risk',
        '--from',
        facts.from.toISOString(),
        '--to',
        facts.to.toISOString(),
        '--format',
        'json',
      ),
    );
    expect(full.totals.decisions).toBe(facts.decisions.length);
    expect(full.totals.overridden).toBe(facts.overrides);
    expect(full.oversight).toEqual(
      expect.arrayContaining([
        { action: 'override', count: facts.overrides },
        { action: 'review', count: facts.reviews },
      ]),
    );
    for (const version of ['v1', 'v2']) {
      const labelled = facts.decisions.filter(
        (d) => d.version === version && facts.feedback.has(d.reference.decisionId),
      );
      const correct = labelled.filter((d) => facts.feedback.get(d.reference.decisionId)).length;
      const row = full.accuracyByVersion.find((v) => v.version === version)!;
      expect(row.withFeedback).toBe(labelled.length);
      expect(row.accuracy).toBeCloseTo(correct / labelled.length, 10);
    }
    expect(full.fairness.outcome).toBe('approve');
    for (const group of ['a', 'b']) {
      const ofGroup = facts.decisions.filter((d) => d.group === group);
      expect(full.fairness.groups.find((g) => g.group === group)).toMatchObject({
        decisions: ofGroup.length,
        outcomeCount: ofGroup.filter((d) => d.outcome === 'approve').length,
      });
    }
    expect(full.decisionsOverTime.reduce((n, b) => n + b.decisions, 0)).toBe(facts.decisions.length);
    expect(full.confidenceHistogram.reduce((n, b) => n + b.count, 0)).toBe(facts.decisions.length);
  });

  it('Markdown has every section', async () => {
    const result = await run('report', '--model', 'credit-risk', '--from', '1d');
    expect(result.code).toBe(0);
    for (const heading of [
      'Model information',
      'Outcomes',
      'Accuracy and error rate',
      'Human oversight',
      'Bias monitoring',
      'Serious incidents',
      'Record keeping',
    ]) {
      expect(result.stdout).toContain(heading);
    }
  });

  it('bad input: unknown model 3, malformed or reversed times 2, unwritable --out 7', async () => {
    expect((await run('report', '--model', 'nope', '--from', '1d')).code).toBe(3);
    expect((await run('report', '--model', 'credit-risk', '--version', 'v9')).code).toBe(3);
    const malformed = await run('report', '--model', 'credit-risk', '--from', '2026-02-30');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--from: malformed time "2026-02-30"');
    expect((await run('report', '--model', 'credit-risk', '--from', '1h', '--to', '2d')).code).toBe(2);
    const out = await run(
      'report',
      '--model',
      'credit-risk',
      '--format',
      'html',
      '--out',
      path.join(facts.root, 'missing-dir', 'r.html'),
    );
    expect(out.code).toBe(7);
    expect(isOneLineError(out)).toBe(true);
  });
});

describe('verify, export and verify-bundle', () => {
  it('verify passes and says so', async () => {
    const result = await run('verify', '--witness', facts.witnessFile);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/intact: 1 stream\(s\)/);
    const report = json<{ ok: boolean; streams: { verifiedSize: number; findings: unknown[] }[] }>(
      await run('verify', '--witness', facts.witnessFile, '--from', '1d', '--json'),
    );
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.findings).toEqual([]);
    const unknown = await run('verify', '--stream', 'no-such-stream', '--witness', facts.witnessFile);
    expect(unknown.code).toBe(3);
    expect(isOneLineError(unknown)).toBe(true);
  });

  it('exports a decision bundle that verifies offline, and fails on one changed byte', async () => {
    const file = path.join(facts.root, 'decision.bundle.json');
    const exported = await run('export', '--decision', facts.overridden.reference.decisionId, '--out', file);
    expect(exported.code).toBe(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as {
      proofs: { span: { spanId: string; attributes: Record<string, string> } }[];
    };
    // The decision, its override, and the two spans of its request.
    expect(bundle.proofs.length).toBeGreaterThanOrEqual(4);
    const ok = await run('verify-bundle', file, '--key', facts.publicKeyFile);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('intact');

    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('"reject"');
    const tampered = path.join(facts.root, 'tampered.bundle.json');
    writeFileSync(tampered, `${text.slice(0, at + 1)}R${text.slice(at + 2)}`);
    const bad = await run('verify-bundle', tampered, '--key', facts.publicKeyFile);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAIL');

    writeFileSync(tampered, text.slice(0, text.length / 2));
    const truncated = await run('verify-bundle', tampered, '--key', facts.publicKeyFile);
    expect(truncated.code).toBe(1);
    expect(isOneLineError(truncated)).toBe(true);
  });

  it('verify-bundle trusts only the key it is given', async () => {
    const file = path.join(facts.root, 'decision.bundle.json');
    const otherDir = path.join(facts.root, 'other-key');
    mkdirSync(otherDir, { recursive: true });
    const other = await generateSigningKeyFile(path.join(otherDir, 'signing.key'));
    writeFileSync(path.join(otherDir, 'signing.pub'), exportPublicKey(other).vkey);
    expect((await run('verify-bundle', file, '--key', path.join(otherDir, 'signing.pub'))).code).toBe(1);
    const noKey = await run('verify-bundle', file);
    expect(noKey.code).toBe(2);
    const missingKey = await run('verify-bundle', file, '--key', path.join(facts.root, 'nope.pub'));
    expect(missingKey.code).toBe(5);
    expect(isOneLineError(missingKey)).toBe(true);
    writeFileSync(path.join(otherDir, 'garbage.pub'), 'not a key');
    expect((await run('verify', '--key', path.join(otherDir, 'garbage.pub'))).code).toBe(5);
    expect(
      (await run('verify-bundle', path.join(facts.root, 'absent.json'), '--key', facts.publicKeyFile)).code,
    ).toBe(7);
  });
});

describe('incident', () => {
  let incidentId = '';

  it('opens an incident with the Art. 73 deadline and shows its evidence', async () => {
    const opened = json<{
      incidentId: string;
      reporting: { days: number; deadline: string; basis: string };
      occurredAt: string;
    }>(
      await run(
        'incident',
        'open',
        '--title',
        'v2 rejects eligible applicants',
        '--severity',
        'high',
        '--category',
        'fundamental_rights',
        '--model',
        'credit-risk',
        '--version',
        'v2',
        '--from',
        facts.from.toISOString(),
        '--to',
        facts.to.toISOString(),
        '--aware-at',
        '2h',
        '--json',
      ),
    );
    incidentId = opened.incidentId;
    expect(opened.reporting.days).toBe(15);
    expect(opened.reporting.basis).toBe('Art. 73(2)');
    expect(new Date(opened.reporting.deadline).getTime() - new Date(opened.occurredAt).getTime()).toBe(
      15 * 86_400_000,
    );

    const show = await run('incident', 'show', incidentId);
    expect(show.code).toBe(0);
    const v2 = facts.decisions.filter((d) => d.version === 'v2').length;
    expect(show.stdout).toContain(`Affected decisions: ${v2}`);
    expect(show.stdout).toContain(`degradation: degraded around deployment ${facts.deploymentId}`);
    expect(show.stdout).toMatch(/left\)/);
    expect(show.stdout).toContain('drift: not computable (baseline window before the incident: 0 decisions');
    const shown = json<{ affectedDecisions: { total: number }; signals: { signal: string }[] }>(
      await run('incident', 'show', incidentId, '--json'),
    );
    expect(shown.affectedDecisions.total).toBe(v2);
    expect(shown.signals.map((s) => s.signal)).toEqual(['drift', 'degradation', 'adversarial']);
  });

  it('exports the incident and a trace as bundles that verify offline', async () => {
    const file = path.join(facts.root, 'incident.bundle.json');
    const exported = json<{ proofs: number; unproven: number }>(
      await run('export', '--incident', incidentId, '--out', file, '--json'),
    );
    // Every v2 decision in the window, with its oversight and feedback spans.
    expect(exported.proofs).toBeGreaterThanOrEqual(facts.decisions.filter((d) => d.version === 'v2').length);
    expect(exported.unproven).toBe(0);
    expect((await run('verify-bundle', file, '--key', facts.publicKeyFile)).code).toBe(0);
    const traceFile = path.join(facts.root, 'trace.bundle.json');
    expect(
      (await run('export', '--trace', facts.overridden.reference.traceId, '--out', traceFile)).code,
    ).toBe(0);
    expect((await run('verify-bundle', traceFile, '--key', facts.publicKeyFile)).code).toBe(0);
    expect(
      (
        await run(
          'export',
          '--trace',
          facts.overridden.reference.traceId,
          '--decision',
          facts.overridden.reference.decisionId,
          '--out',
          traceFile,
        )
      ).code,
    ).toBe(2);
  });

  it('updates, lists and closes', async () => {
    const updated = json<{ category: string; reporting: { days: number } }>(
      await run('incident', 'update', incidentId, '--category', 'death', '--json'),
    );
    expect(updated).toMatchObject({ category: 'death', reporting: { days: 10 } });
    const list = await run('incident', 'list');
    expect(list.stdout).toContain(incidentId);
    expect(list.stdout).toContain('Art. 73(4): 10 days');
    const closed = json<{ status: string }>(
      await run('incident', 'close', incidentId, '--notes', 'rolled back', '--json'),
    );
    expect(closed.status).toBe('closed');
    expect((await run('incident', 'close', incidentId)).code).toBe(2);
  });

  it('bad input changes nothing', async () => {
    const before = json<unknown[]>(await run('incident', 'list', '--json')).length;
    expect(
      (
        await run(
          'incident',
          'open',
          '--title',
          'x',
          '--severity',
          'high',
          '--category',
          'flood',
          '--model',
          'm',
          '--from',
          '1d',
        )
      ).code,
    ).toBe(2);
    expect(
      (
        await run(
          'incident',
          'open',
          '--title',
          'x',
          '--severity',
          'high',
          '--category',
          'death',
          '--model',
          'm',
          '--from',
          'yesterday',
        )
      ).code,
    ).toBe(2);
    expect((await run('incident', 'show', '01a20000-0000-7000-8000-000000000000')).code).toBe(3);
    expect(
      (await run('incident', 'update', '01a20000-0000-7000-8000-000000000000', '--severity', 'low')).code,
    ).toBe(3);
    expect(json<unknown[]>(await run('incident', 'list', '--json')).length).toBe(before);
  });
});

describe('erase', () => {
  it('shreds the subject key, lists what became unreadable, and verify still passes', async () => {
    const { subjectId, decisionId } = facts.encryptedSubject;
    const keyFiles = () => readdirSync(facts.keysDir).filter((name) => name.startsWith('sk-'));
    expect(keyFiles()).toHaveLength(1);
    const result = json<{
      keyDestroyed: boolean;
      decisions: string[];
      unreadableRecords: { decisionId: string; fields: string[] }[];
      tombstone: { erasureId: string };
    }>(await run('erase', '--subject', subjectId, '--reason', 'GDPR request 1', '--json'));
    expect(result.keyDestroyed).toBe(true);
    expect(result.decisions).toEqual([decisionId]);
    expect(result.unreadableRecords).toEqual([expect.objectContaining({ decisionId, fields: ['input'] })]);
    expect(keyFiles()).toHaveLength(0);
    expect((await run('verify', '--witness', facts.witnessFile)).code).toBe(0);
  });

  it('an unknown subject is exit 3 and changes nothing', async () => {
    const result = await run('erase', '--subject', 'nobody');
    expect(result.code).toBe(3);
    expect(isOneLineError(result)).toBe(true);
  });
});

describe('keys', () => {
  it('generate, show, rotate; old checkpoints stay verifiable', async () => {
    const dir = path.join(facts.root, 'keys-test');
    const env = { DECISIONTRAIL_KEYS_DIR: dir };
    const generated = json<{ keyId: string }>(
      await runBin(['keys', 'generate', '--json'], { cwd: facts.root, env }),
    );
    expect(existsSync(path.join(dir, 'signing.key'))).toBe(true);
    expect(readFileSync(path.join(dir, 'signing.pub'), 'utf8')).toContain(`+${generated.keyId}+`);
    // Key files are owner-only, in an owner-only directory.
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of ['signing.key', 'signing.pub'])
      expect([name, statSync(path.join(dir, name)).mode & 0o777]).toEqual([name, 0o600]);
    const again = await runBin(['keys', 'generate'], { cwd: facts.root, env });
    expect(again.code).toBe(5);
    const shown = json<{ keyId: string }>(await runBin(['keys', 'show', '--json'], { cwd: facts.root, env }));
    expect(shown.keyId).toBe(generated.keyId);
    // Rotating the key that signed the fixture's stream: its public key stays trusted, so verify still passes.
    const rotated = json<{ previous: { keyId: string; publicKey: string }; current: { keyId: string } }>(
      await run('keys', 'rotate', '--json'),
    );
    expect(rotated.current.keyId).not.toBe(rotated.previous.keyId);
    expect(
      readdirSync(facts.keysDir)
        .filter((name) => name.endsWith('.pub'))
        .sort(),
    ).toEqual(['signing.pub', `signing.${rotated.previous.keyId}.pub`].sort());
    for (const name of readdirSync(facts.keysDir).filter((n) => n.startsWith('signing.')))
      expect([name, statSync(path.join(facts.keysDir, name)).mode & 0o777]).toEqual([name, 0o600]);
    expect((await run('verify', '--witness', facts.witnessFile)).code).toBe(0);
    // Against only the freshly generated keys, nothing trusted signs the fixture's stream: unverified (exit 8),
    // never intact, naming the key that did sign it.
    const verify = await runBin(['verify', '--no-witness'], { cwd: facts.root, env });
    expect(verify.code).toBe(8);
    expect(verify.stdout).toContain('untrusted-stream');
    expect(verify.stdout).toContain(rotated.previous.keyId);
    expect(verify.stdout).not.toMatch(/^intact/m);
    expect(
      (await runBin(['verify', '--no-witness', '--allow-unsigned'], { cwd: facts.root, env })).code,
    ).toBe(0);
    // The witness's checkpoints under a key nobody trusts are findings of their own.
    const witnessed = await runBin(['verify', '--witness', facts.witnessFile], { cwd: facts.root, env });
    expect(witnessed.code).toBe(1);
    expect(witnessed.stdout).toContain('checkpoint-unknown-key');
    // The default witness file (keys.witness) does not exist in this project: a check that cannot run is an error.
    const blind = await runBin(['verify'], { cwd: facts.root, env });
    expect(blind.code).toBe(7);
    expect(blind.stderr).toMatch(/witness file .*checkpoints\.witness\.jsonl does not exist/);
  });
});

describe('store and configuration errors', () => {
  it('a missing or empty store is exit 4 and nothing is created', async () => {
    const missing = path.join(facts.root, 'no-store');
    const result = await run('report', '--model', 'credit-risk', '--data', missing);
    expect(result.code).toBe(4);
    expect(isOneLineError(result)).toBe(true);
    expect(existsSync(missing)).toBe(false);
    const empty = path.join(facts.root, 'empty-store');
    mkdirSync(empty);
    expect((await run('timeline', facts.overridden.reference.traceId, '--data', empty)).code).toBe(4);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('migrate creates a store (named by flag or environment), then finds nothing to do', async () => {
    const dir = path.join(facts.root, 'migrated', 'data');
    const first = await run('migrate', '--data', dir);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied migration\(s\) /);
    const again = json<{ applied: number[]; current: number }>(
      await runBin(['migrate', '--json'], { cwd: facts.root, env: { DECISIONTRAIL_DATA_DIR: dir } }),
    );
    expect(again.applied).toEqual([]);
    // A migrated but empty store answers: the decision is simply not there.
    expect((await run('timeline', facts.overridden.reference.decisionId, '--data', dir)).code).toBe(3);
  });

  it('an invalid decisiontrail.yaml is exit 6 and names the key', async () => {
    const dir = path.join(facts.root, 'bad-config');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'decisiontrail.yaml'), 'storage:\n  dataDri: ./x\n');
    const result = await runBin(['incident', 'list'], { cwd: dir });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('storage.dataDri');
    expect(isOneLineError(result)).toBe(true);
  });
});

describe('tampering', () => {
  it('one altered stored row: verify fails naming the span, the timeline marks the decision failed', async () => {
    const { decisionId, spanId } = facts.overridden.reference;
    const store = await openStore({ dataDir: facts.dataDir, migrate: false });
    try {
      await store.client.command({
        query: `ALTER TABLE otel_traces UPDATE SpanAttributes = mapUpdate(SpanAttributes, map('audit.decision.outcome', 'approve'))
                WHERE SpanId = {span:String}`,
        query_params: { span: spanId },
        clickhouse_settings: { mutations_sync: '2' },
      });
    } finally {
      await store.close();
    }
    const verify = await run('verify', '--witness', facts.witnessFile);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(new RegExp(`modified \\(span ${spanId}`));
    expect(verify.stdout).toContain('NOT intact');
    const timeline = json<{ verification: { status: string; detail: string } }>(
      await run('timeline', decisionId, '--json'),
    );
    expect(timeline.verification.status).toBe('failed');
    expect(timeline.verification.detail).toContain('modified');
  });
});
