import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { isOneLineError, json, runBin } from '../support/run-bin.ts';

let facts: FixtureFacts;
const run = (...args: string[]) => runBin(args, { cwd: facts.root });

interface SubjectJson {
  subjectId: string;
  decisions: {
    decision: { id: string; finalOutcome: string | null };
    entries: { kind: string; title: string }[];
  }[];
  content: {
    decisionId: string;
    field: string;
    recorded: string;
    text: string | null;
    unreadable: string | null;
  }[];
  bundle?: { out: string; proofs: number };
}

beforeAll(async () => {
  facts = await buildPopulatedStore();
});
afterAll(() => {
  if (facts !== undefined) removePopulatedStore(facts);
});

describe('subject (GDPR Art. 15)', () => {
  it('lists the subject’s decisions with their reviews and overrides, and what was recorded of the input', async () => {
    const doc = json<SubjectJson>(await run('subject', 'applicant-special', '--json'));
    expect(doc.decisions.map((d) => d.decision.id)).toEqual([facts.overridden.reference.decisionId]);
    expect(doc.decisions[0]!.decision.finalOutcome).toBe(facts.overridden.newOutcome);
    expect(doc.decisions[0]!.entries.filter((e) => e.kind === 'oversight').map((e) => e.title)).toEqual([
      `override → ${facts.overridden.newOutcome}`,
    ]);
    // This decision's input was recorded as a keyed hash only (the fixture's default capture).
    expect(doc.content).toEqual([
      expect.objectContaining({
        field: 'input',
        recorded: 'hash',
        text: null,
        unreadable: 'only a keyed hash was recorded',
      }),
    ]);
    // Every decision about one of the ordinary subjects, and its labels.
    const subject = facts.decisions[3]!.subject;
    const ordinary = json<SubjectJson>(await run('subject', subject, '--json'));
    expect(ordinary.decisions.map((d) => d.decision.id)).toEqual(
      facts.decisions.filter((d) => d.subject === subject).map((d) => d.reference.decisionId),
    );
    expect(ordinary.decisions[0]!.entries.some((e) => e.kind === 'feedback')).toBe(
      facts.feedback.has(facts.decisions[3]!.reference.decisionId),
    );
  });

  it('decrypts encrypted input while the subject’s key exists, and says why not once it is erased', async () => {
    const { subjectId, decisionId } = facts.encryptedSubject;
    const before = json<SubjectJson>(await run('subject', subjectId, '--json'));
    const input = before.content.find((c) => c.decisionId === decisionId && c.field === 'input')!;
    expect(input.recorded).toBe('encrypted');
    expect(input.text).toContain('Erika Mustermann');
    expect(input.text).toContain('DE89370400440532013000');
    const text = await run('subject', subjectId);
    expect(text.stdout).toMatch(/^ {2}input {2}decrypted: .*Erika Mustermann/m);
    expect((await run('erase', '--subject', subjectId, '--reason', 'test')).code).toBe(0);
    const after = json<SubjectJson>(await run('subject', subjectId, '--json'));
    const gone = after.content.find((c) => c.decisionId === decisionId && c.field === 'input')!;
    expect(gone).toMatchObject({ recorded: 'encrypted', text: null });
    expect(gone.unreadable).toMatch(/^key \S+ is not held/);
    expect(JSON.stringify(after)).not.toContain('Erika Mustermann');
  });

  it('--out writes a bundle whose proofs verify offline and which carries the content as read', async () => {
    const file = path.join(facts.root, 'subject.bundle.json');
    const result = json<SubjectJson>(await run('subject', 'applicant-special', '--out', file, '--json'));
    expect(result.bundle!.proofs).toBeGreaterThan(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as {
      target: { kind: string; id: string };
      content: unknown[];
      proofs: unknown[];
    };
    expect(bundle.target).toEqual({ kind: 'subject', id: 'applicant-special' });
    expect(bundle.content).toEqual(result.content);
    const verified = await run('verify-bundle', file, '--key', facts.publicKeyFile);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });

  it('an unknown subject is exit 3; an unusable id exit 2', async () => {
    const unknown = await run('subject', 'nobody-at-all');
    expect(unknown.code).toBe(3);
    expect(isOneLineError(unknown)).toBe(true);
    const bad = await run('subject', ' padded ');
    expect(bad.code).toBe(2);
    expect(isOneLineError(bad)).toBe(true);
  });
});
