import { beforeEach, describe, expect, it } from 'vitest';
import { configureAudit, decision, decisionBatch } from '@decisiontrail/instrumentation';
import { installTestTracing } from '../helpers/tracing.ts';

const tracing = installTestTracing();
beforeEach(() => tracing.reset());

const features = (index = 0): unknown => {
  const recorded = tracing.spans()[index]?.attributes['audit.input.features'];
  return recorded === undefined ? undefined : JSON.parse(String(recorded));
};

describe('drift features on decision spans', () => {
  it('records only the allow-listed finite numbers of the input, whatever the capture mode', () => {
    configureAudit({
      hmacKey: 'k',
      captureInput: 'none',
      models: { scorer: { driftFeatures: ['income', 'ratio', 'age', 'missing', 'label'] } },
    });
    decision(
      {
        modelId: 'scorer',
        input: {
          income: 52_000,
          ratio: 0.31,
          age: Number.NaN,
          label: '7',
          name: 'Erika Mustermann',
          debt: 9,
        },
      },
      (d) => d.setOutcome('approve'),
    );
    // NaN and the string are no numbers; name and debt are not allow-listed.
    expect(features()).toEqual({ income: 52_000, ratio: 0.31 });
    expect(String(tracing.spans()[0]!.attributes['audit.input.features'])).toBe(
      '{"income":52000,"ratio":0.31}',
    );
    expect(tracing.spans()[0]!.attributes['audit.input.capture_mode']).toBe('none');
  });

  it('records nothing for a model that allow-lists none, or an input that is not an object', () => {
    configureAudit({ hmacKey: 'k', models: { scorer: { driftFeatures: ['income'] } } });
    decision({ modelId: 'other', input: { income: 1 } }, (d) => d.setOutcome('x'));
    decision({ modelId: 'scorer', input: [1, 2] }, (d) => d.setOutcome('x'));
    decision({ modelId: 'scorer', input: 'income=1' }, (d) => d.setOutcome('x'));
    expect([features(0), features(1), features(2)]).toEqual([undefined, undefined, undefined]);
  });

  it('each row of a batch records its own features', () => {
    configureAudit({ hmacKey: 'k', models: { scorer: { driftFeatures: ['income'] } } });
    decisionBatch({ modelId: 'scorer', inputs: [{ income: 1 }, { income: 2 }, { other: 3 }] }, (rows) =>
      rows.forEach((row) => row.setOutcome('x')),
    );
    const rows = tracing
      .spans()
      .filter((s) => s.attributes['audit.record.type'] === 'decision')
      .sort((a, b) => Number(a.attributes['audit.batch.index']) - Number(b.attributes['audit.batch.index']));
    expect(rows.map((s) => s.attributes['audit.input.features'])).toEqual([
      '{"income":1}',
      '{"income":2}',
      undefined,
    ]);
  });
});
