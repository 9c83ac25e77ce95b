import { describe, expect, it } from 'vitest';
import { StreamIntegrityChecker } from '@decisiontrail/processor/internal';
import { parseVerifierKey } from '@decisiontrail/core';
import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import type { SpanRecord } from '@decisiontrail/core';
import { makeDecisionSpans, signBatches, testKey } from '../support/signed-batches.ts';

async function signedRecords(): Promise<{ batches: SpanRecord[][]; vkey: string }> {
  const { key, vkey } = testKey();
  const batches = await signBatches(await makeDecisionSpans(12), key, 4);
  return { batches: batches.map((b) => b.map(spanRecordFromReadableSpan)), vkey };
}

const noLateFindings = (): void => {
  throw new Error('unexpected late finding');
};

describe('StreamIntegrityChecker', () => {
  it('drops exact repeats of accepted spans and checkpoints, also after a restart from its state', async () => {
    const { batches, vkey } = await signedRecords();
    const keys = [parseVerifierKey(vkey)];
    const checker = new StreamIntegrityChecker(keys, undefined, noLateFindings);
    for (const batch of batches.slice(0, 2)) expect(checker.check(batch)).toEqual(batch.map(() => undefined));
    // The client resends the second request (its acknowledgement was lost): nothing of it is new.
    expect(checker.check(batches[1]!)).toEqual(batches[1]!.map(() => 'duplicate'));

    const restarted = new StreamIntegrityChecker(
      keys,
      JSON.parse(JSON.stringify(checker.snapshot())),
      noLateFindings,
    );
    expect(restarted.check([...batches[0]!, ...batches[2]!])).toEqual([
      ...batches[0]!.map(() => 'duplicate'),
      ...batches[2]!.map(() => undefined),
    ]);
  });

  it('still reports a different span at an accepted seq', async () => {
    const { batches, vkey } = await signedRecords();
    const checker = new StreamIntegrityChecker([parseVerifierKey(vkey)], undefined, noLateFindings);
    checker.check(batches[0]!);
    const original = batches[0]![0]!;
    const altered: SpanRecord = {
      ...original,
      attributes: { ...original.attributes, 'audit.decision.outcome': 'changed' },
    };
    const [outcome] = checker.check([altered]);
    expect(outcome).toMatchObject({ code: expect.stringMatching(/^(modified|unexpected)$/) });
  });

  it('refuses a changed span that the checkpoint of its own batch exposes, and only that one', async () => {
    const { batches, vkey } = await signedRecords();
    const checker = new StreamIntegrityChecker([parseVerifierKey(vkey)], undefined, noLateFindings);
    expect(checker.check(batches[0]!)).toEqual(batches[0]!.map(() => undefined));
    // The second request's leaves and then its checkpoint, one leaf changed on the way: the leaf alone proves
    // nothing, the checkpoint after it in the same batch names it (its leaf list and root disagree with it).
    const batch = [...batches[1]!];
    const changed = 2;
    const original = batch[changed]!;
    batch[changed] = {
      ...original,
      attributes: { ...original.attributes, 'audit.decision.outcome': 'changed' },
    };
    const outcomes = checker.check(batch);
    expect(outcomes[changed]).toMatchObject({ code: expect.stringMatching(/^(modified|unexpected)$/) });
    expect(outcomes.filter((outcome) => outcome !== undefined)).toHaveLength(1);
    // The stream goes on: the next request verifies.
    expect(checker.check(batches[2]!)).toEqual(batches[2]!.map(() => undefined));
  });

  it('reads the state of logs written before the repeat index (verifier states alone)', async () => {
    const { batches, vkey } = await signedRecords();
    const keys = [parseVerifierKey(vkey)];
    const checker = new StreamIntegrityChecker(keys, undefined, noLateFindings);
    checker.check(batches[0]!);
    const { verifiers } = checker.snapshot() as { verifiers: Record<string, unknown> };
    const legacy = new StreamIntegrityChecker(keys, JSON.parse(JSON.stringify(verifiers)), noLateFindings);
    // Without the index a repeat is not recognized, but it verifies as before.
    expect(legacy.check(batches[0]!)).toEqual(batches[0]!.map(() => undefined));
    expect(legacy.check(batches[1]!)).toEqual(batches[1]!.map(() => undefined));
  });
});
