import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attributeValueToString } from '@decisiontrail/core';

// The expected strings come from the Collector's own pcommon `Value.AsString`
// (test-vectors/pcommon-asstring/main.go); these are the JavaScript values that reach pcommon as
// the same OTLP AnyValue through the JS OTLP transformer.
const inputs: Record<string, unknown> = {
  empty: undefined,
  string: 'héllo <b>&</b>\n',
  int: -42,
  'int above 2^53': 2 ** 53 + 2,
  'double 0.5': 0.5,
  'double 0.1': 0.1,
  'double 1/3': 1 / 3,
  'double 1e-7': 1e-7,
  'double 0.000001': 0.000001,
  'double -2.5e-8': -2.5e-8,
  'double 5e-324': 5e-324,
  'double 123.456': 123.456,
  'double -0.75': -0.75,
  'double NaN': NaN,
  'double +Inf': Infinity,
  'double -Inf': -Infinity,
  'bool true': true,
  'bool false': false,
  bytes: new Uint8Array([0, 1, 2, 250, 251, 252, 253]),
  'string array': ['a"b\\c<>&\u2028\u2029\b\f\u0001\u007f é 😀', ''],
  'int array': [1, -2, 3],
  'double array': [0.5, 1e-7],
  'bool array': [true, false],
  'array with null': ['a', null],
  'array with NaN': [NaN],
  map: {
    zeta: 'z',
    Alpha: 'A',
    é: 'e-acute',
    '\uff5e': 'fullwidth tilde',
    '😀': 'emoji',
    a: 1,
    nested: { x: 0.25, list: ['y'] },
    b: new Uint8Array([1, 2, 3]),
  },
};

const file = JSON.parse(
  readFileSync(new URL('../../test-vectors/attribute-strings.json', import.meta.url), 'utf8'),
) as {
  vectors: { name: string; asString: string }[];
};

describe('attributeValueToString matches pcommon AsString', () => {
  it('covers every Go vector', () => {
    expect(file.vectors.map((vector) => vector.name).sort()).toEqual(Object.keys(inputs).sort());
  });
  for (const vector of file.vectors) {
    it(vector.name, () => {
      expect(attributeValueToString(inputs[vector.name])).toBe(vector.asString);
    });
  }
  it('replaces lone surrogates as the UTF-8 wire encoding does', () => {
    expect(attributeValueToString('a\ud800b')).toBe('a\ufffdb');
  });
});
