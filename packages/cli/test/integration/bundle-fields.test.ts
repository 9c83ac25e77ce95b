import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@decisiontrail/clickhouse';
import { loadSigningKey } from '@decisiontrail/core';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { json, runBin } from '../support/run-bin.ts';
import { signAsStream, toolRunFor } from '../support/signed-spans.ts';

// verify-bundle recomputes every field a bundle's timeline shows from the bundle's proven spans: each
// edit below is one field an investigator reads, and each must fail naming that field.

interface Bundle {
  timelines: {
    decision: Record<string, unknown>;
    entries: { kind: string; title: string; time: string; details: { label: string; value: string }[] }[];
  }[];
}

let facts: FixtureFacts;
let bundleFile: string;
let original: string;

beforeAll(async () => {
  facts = await buildPopulatedStore();
  // A tool run the decision requested, recorded in a trace of its own and signed: an action entry of its timeline.
  const store = await openStore({ dataDir: facts.dataDir, migrate: false });
  try {
    const trusted = await loadSigningKey(path.join(facts.keysDir, 'signing.key'));
    await store.insertSpans(signAsStream([await toolRunFor(store, facts.overridden.reference)], trusted));
  } finally {
    await store.close();
  }
  bundleFile = path.join(facts.root, 'decision.bundle.json');
  const exported = await runBin(
    ['export', '--decision', facts.overridden.reference.decisionId, '--out', bundleFile],
    {
      cwd: facts.root,
    },
  );
  expect(exported.code).toBe(0);
  original = readFileSync(bundleFile, 'utf8');
});
afterAll(() => {
  if (facts !== undefined) removePopulatedStore(facts);
});

async function verifyEdited(edit: (bundle: Bundle) => void, name: string) {
  const bundle = JSON.parse(original) as Bundle;
  edit(bundle);
  const file = path.join(facts.root, `edited-${name}.json`);
  writeFileSync(file, JSON.stringify(bundle));
  return runBin(['verify-bundle', file, '--key', facts.publicKeyFile, '--json'], { cwd: facts.root });
}

const entry = (bundle: Bundle, kind: string) => bundle.timelines[0]!.entries.find((e) => e.kind === kind)!;
const detail = (bundle: Bundle, kind: string, label: string) =>
  entry(bundle, kind).details.find((d) => d.label === label)!;

describe('verify-bundle recomputes every displayed field', () => {
  it('the untouched bundle holds, and says which entries are not signed', async () => {
    const result = await runBin(['verify-bundle', bundleFile, '--key', facts.publicKeyFile], {
      cwd: facts.root,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'every field the timelines show for them recomputed from the proven spans',
    );
    expect(result.stdout).toMatch(/note: timelines\[0\]\.entries\[\d+\] \(checkpoint\): not a signed span/);
    // The tool run is a signed span: proven and recomputed like the others, not noted as unsigned.
    expect(JSON.parse(original).timelines[0].entries.map((e: { kind: string }) => e.kind)).toContain(
      'action',
    );
    expect(result.stdout).not.toMatch(/\(action\): not a signed span/);
  });

  const edits: [string, string, (bundle: Bundle) => void][] = [
    [
      'decision.finalOutcome',
      'timelines[0].decision.finalOutcome',
      (b) => (b.timelines[0]!.decision.finalOutcome = 'reject'),
    ],
    [
      'decision.confidence',
      'timelines[0].decision.confidence',
      (b) => (b.timelines[0]!.decision.confidence = 0.99),
    ],
    [
      'decision.outcome',
      'timelines[0].decision.outcome',
      (b) => (b.timelines[0]!.decision.outcome = 'approve'),
    ],
    [
      'decision.subjectId',
      'timelines[0].decision.subjectId',
      (b) => (b.timelines[0]!.decision.subjectId = 'someone-else'),
    ],
    [
      'decision.modelVersion',
      'timelines[0].decision.modelVersion',
      (b) => (b.timelines[0]!.decision.modelVersion = 'v1'),
    ],
    [
      'decision.riskLevel',
      'timelines[0].decision.riskLevel',
      (b) => (b.timelines[0]!.decision.riskLevel = 'minimal'),
    ],
    [
      'oversight reason',
      '.details.reason',
      (b) => (detail(b, 'oversight', 'reason').value = 'never reviewed'),
    ],
    [
      'oversight reviewer',
      '.details.reviewer',
      (b) => (detail(b, 'oversight', 'reviewer').value = 'analyst-9'),
    ],
    ['oversight title', '.title', (b) => (entry(b, 'oversight').title = 'override → reject')],
    [
      'decision entry confidence',
      '.details.confidence',
      (b) => (detail(b, 'decision', 'confidence').value = '0.99'),
    ],
    ['decision entry time', '.time', (b) => (entry(b, 'decision').time = '2020-01-01T00:00:00.000000Z')],
    [
      'deployment changelog',
      '.details.changelog',
      (b) => (detail(b, 'deployment', 'changelog').value = 'no change'),
    ],
    ['trace span title', '.title', (b) => (entry(b, 'span').title = 'GET /nothing')],
    ['tool run title', '.title', (b) => (entry(b, 'action').title = 'tool close_account ran')],
    [
      'tool run arguments',
      '.details.arguments',
      (b) => (detail(b, 'action', 'arguments').value = 'b'.repeat(64)),
    ],
  ];
  for (const [name, field, edit] of edits) {
    it(`an edited ${name} fails, naming the field`, async () => {
      const result = await verifyEdited(edit, name.replace(/\W+/g, '-'));
      expect(result.code).toBe(1);
      const report = json<{ ok: boolean; findings: { kind: string; field?: string; message: string }[] }>(
        result,
      );
      expect(report.ok).toBe(false);
      expect(report.findings.some((f) => f.kind === 'timeline' && (f.field ?? '').endsWith(field))).toBe(
        true,
      );
    });
  }
});
