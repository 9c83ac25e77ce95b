import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readOnnxModelInfo, uuidv7 } from '@decisiontrail/instrumentation/internal';
import { buildCreditModel, CREDIT_MODEL_ID } from '../../../../test/support/onnx/credit-model.ts';

describe('readOnnxModelInfo', () => {
  it('reads metadata_props, producer and model_version, and hashes the bytes', () => {
    const bytes = buildCreditModel('2.0.0');
    const info = readOnnxModelInfo(bytes);
    expect(info.metadata).toMatchObject({ model_id: CREDIT_MODEL_ID, model_version: '2.0.0' });
    expect(info.producerName).toBe('decisiontrail-demo');
    expect(info.modelVersion).toBe('2');
    expect(info.weightsHash).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('rejects truncated models instead of reading past the end', () => {
    const bytes = buildCreditModel('1.0.0');
    expect(() => readOnnxModelInfo(bytes.subarray(0, bytes.length - 5))).toThrow(RangeError);
  });
});

describe('uuidv7', () => {
  it('encodes the time first, carries version 7 and the RFC variant, and sorts by time', () => {
    const early = uuidv7(Date.UTC(2026, 0, 1));
    const late = uuidv7(Date.UTC(2026, 0, 2));
    expect(early).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(early.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 0, 1));
    expect(early < late).toBe(true);
    expect(uuidv7()).not.toBe(uuidv7());
  });

  it('reads every id out whole: the time of its own call, fresh random digits, no character left from the last id', () => {
    const ids = new Set<string>();
    for (let index = 0; index < 2_000; index++) {
      // The time going back and forth across its 32-bit boundary, so every part of the time prefix is rewritten.
      const time = Date.UTC(2026, 0, 1) + (index % 7) * 0x1_0000_0001;
      const id = uuidv7(time);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(time);
      ids.add(id);
    }
    expect(ids.size).toBe(2_000);
  });
});
