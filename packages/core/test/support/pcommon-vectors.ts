import { readFileSync } from 'node:fs';

/**
 * The JavaScript values behind the Go vectors of `test-vectors/attribute-strings.json`: what reaches
 * pcommon as the same OTLP AnyValue through the JS OTLP transformer. Shared by every package that
 * turns values into pcommon's AsString form, so each of them is held to the Go output.
 */
export const PCOMMON_INPUTS: Record<string, unknown> = {
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

/** The Go vectors: each name of {@link PCOMMON_INPUTS} with the string pcommon's `AsString` gave. */
export const PCOMMON_VECTORS = (
  JSON.parse(readFileSync(new URL('../../test-vectors/attribute-strings.json', import.meta.url), 'utf8')) as {
    vectors: { name: string; asString: string }[];
  }
).vectors;
