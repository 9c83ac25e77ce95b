import { describe, expect, it } from 'vitest';
import {
  batchRowCount,
  classifyRow,
  tensorsRowToJson,
  tensorsToJson,
} from '@decisiontrail/instrumentation/internal';

const tensor = (type: string, dims: number[], data: ArrayLike<number | bigint>) => ({ type, dims, data });

describe('batchRowCount', () => {
  it('is the leading dimension the feeds of rank 2 or more share', () => {
    expect(batchRowCount({ x: tensor('float32', [3, 4], new Float32Array(12)) })).toBe(3);
    expect(
      batchRowCount({
        x: tensor('float32', [5, 4], new Float32Array(20)),
        mask: tensor('int64', [5, 2], new BigInt64Array(10)),
        scale: tensor('float32', [1], new Float32Array(1)),
      }),
    ).toBe(5);
    expect(batchRowCount({ x: tensor('float32', [0, 4], new Float32Array(0)) })).toBe(0);
  });

  it('is one decision when the shape names no rows or the feeds disagree', () => {
    expect(batchRowCount({ x: tensor('float32', [4], new Float32Array(4)) })).toBe(1);
    expect(
      batchRowCount({
        x: tensor('float32', [3, 4], new Float32Array(12)),
        y: tensor('float32', [2, 4], new Float32Array(8)),
      }),
    ).toBe(1);
    expect(batchRowCount({ x: tensor('float32', [-1, 4], new Float32Array(4)) })).toBe(1);
    expect(batchRowCount(undefined)).toBe(1);
    expect(batchRowCount({ x: 'not a tensor' })).toBe(1);
  });
});

describe('tensorsRowToJson', () => {
  it('cuts tensors with the batch as leading dimension to the row and keeps the others whole', () => {
    const feeds = {
      x: tensor('float32', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6])),
      ids: tensor('int64', [3], BigInt64Array.from([7n, 8n, 9n])),
      scale: tensor('float32', [1], Float32Array.from([0.5])),
    };
    expect(tensorsRowToJson(feeds, 1, 3)).toEqual({
      x: { type: 'float32', dims: [1, 2], data: [3, 4] },
      ids: { type: 'int64', dims: [1], data: ['8'] },
      scale: { type: 'float32', dims: [1], data: [0.5] },
    });
  });

  it('gives a row the form of the same row run alone', () => {
    const batch = { x: tensor('float32', [2, 2], Float32Array.from([1, 2, 3, 4])) };
    const alone = { x: tensor('float32', [1, 2], Float32Array.from([3, 4])) };
    expect(JSON.stringify(tensorsRowToJson(batch, 1, 2))).toBe(JSON.stringify(tensorsToJson(alone)));
  });
});

describe('classifyRow', () => {
  const outputs = { probabilities: tensor('float32', [3, 2], Float32Array.from([0.9, 0.1, 0, 1, 0.4, 0.6])) };

  it('reads the row’s top class and its probability', () => {
    const config = { labels: ['reject', 'approve'] };
    expect(classifyRow(outputs, config, 0, 3)).toEqual({
      outcome: 'reject',
      confidence: expect.closeTo(0.9, 6),
    });
    expect(classifyRow(outputs, config, 1, 3)).toEqual({ outcome: 'approve', confidence: 1 });
    expect(classifyRow(outputs, config, 2, 3)).toEqual({
      outcome: 'approve',
      confidence: expect.closeTo(0.6, 6),
    });
  });

  it('says nothing for a batch whose probabilities have no row per decision', () => {
    const single = { probabilities: tensor('float32', [1, 2], Float32Array.from([0.2, 0.8])) };
    expect(classifyRow(single, {}, 1, 3)).toEqual({});
    expect(classifyRow({ label: tensor('int64', [3, 1], new BigInt64Array(3)) }, {}, 0, 3)).toEqual({});
  });
});
