import { describe, expect, it } from 'vitest';
import { attributeValueToString } from '@decisiontrail/core';
import { PCOMMON_INPUTS, PCOMMON_VECTORS } from '../support/pcommon-vectors.ts';

// The expected strings come from the Collector's own pcommon `Value.AsString`
// (test-vectors/pcommon-asstring/main.go).
describe('attributeValueToString matches pcommon AsString', () => {
  it('covers every Go vector', () => {
    expect(PCOMMON_VECTORS.map((vector) => vector.name).sort()).toEqual(Object.keys(PCOMMON_INPUTS).sort());
  });
  for (const vector of PCOMMON_VECTORS) {
    it(vector.name, () => {
      expect(attributeValueToString(PCOMMON_INPUTS[vector.name])).toBe(vector.asString);
    });
  }
  it('replaces lone surrogates as the UTF-8 wire encoding does', () => {
    expect(attributeValueToString('a\ud800b')).toBe('a\ufffdb');
  });
});
