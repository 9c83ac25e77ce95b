import { describe, expect, it } from 'vitest';
import { ConfigError, exportPublicKey, generateSigningKey, parseConfig } from '@decisiontrail/core';
import { createTestCosigner } from '../support/test-witness.ts';

// The `witnesses:` block of decisiontrail.yaml: every bad entry is named by its path with what is wrong, before
// serve submits anything or verify trusts any key.

const w1 = createTestCosigner('witness.example/w1');
const w2 = createTestCosigner('witness.example/w2');

function entry(name: string, url: string, key: string): string {
  return `    - { name: ${JSON.stringify(name)}, url: ${JSON.stringify(url)}, key: ${JSON.stringify(key)} }`;
}

function witnesses(entries: string[], extra = ''): string {
  return ['witnesses:', extra, '  list:', ...entries].filter(Boolean).join('\n');
}

function issuesOf(yaml: string): { path: string; message: string }[] {
  try {
    parseConfig(yaml, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('witnesses in decisiontrail.yaml', () => {
  it('takes a valid list with its defaults: quorum 1 with witnesses, 0 without', () => {
    const config = parseConfig(
      witnesses([
        entry(w1.name, 'https://w1.example/', w1.vkey),
        entry(w2.name, 'http://127.0.0.1:7380', w2.vkey),
      ]),
      { env: {} },
    );
    expect(config.witnesses).toEqual({
      list: [
        { name: w1.name, url: 'https://w1.example/', key: w1.vkey },
        { name: w2.name, url: 'http://127.0.0.1:7380', key: w2.vkey },
      ],
      quorum: 1,
      intervalMs: 5000,
      timeoutMs: 10_000,
      retryMaxMs: 300_000,
    });
    expect(parseConfig('', { env: {} }).witnesses.quorum).toBe(0);
    expect(
      parseConfig(witnesses([entry(w1.name, 'https://w1.example/', w1.vkey)], '  quorum: 0'), { env: {} })
        .witnesses.quorum,
    ).toBe(0);
  });

  it('refuses a URL that is not http(s)', () => {
    expect(
      issuesOf(
        witnesses([entry(w1.name, 'ftp://w1.example/', w1.vkey), entry(w2.name, 'w2.example', w2.vkey)]),
      ),
    ).toEqual([
      { path: 'witnesses.list[0].url', message: 'not an http(s) URL: "ftp://w1.example/"' },
      { path: 'witnesses.list[1].url', message: 'not an http(s) URL: "w2.example"' },
    ]);
  });

  it('refuses a key that is not a cosignature key of that witness', () => {
    // The base64 key may hold '+' itself: the name and key id are the first two fields.
    const [name, id] = w1.vkey.split('+') as [string, string];
    const encoded = w1.vkey.slice(name.length + id.length + 2);
    const logKey = exportPublicKey(generateSigningKey()).vkey;
    const otherId = id === '00000000' ? '00000001' : '00000000';
    expect(
      issuesOf(
        witnesses([
          entry(w1.name, 'https://w1.example/', 'not a key'),
          entry('log', 'https://w1.example/', logKey),
          entry(w2.name, 'https://w2.example/', w1.vkey),
          entry(name, 'https://w3.example/', `${name}+${otherId}+${encoded}`),
        ]),
      ),
    ).toEqual([
      { path: 'witnesses.list[0].key', message: 'witness key must be <name>+<keyid>+<key>' },
      {
        path: 'witnesses.list[1].key',
        message: 'witness key is not a cosignature/v1 (type 0x04) Ed25519 signed-note key',
      },
      {
        path: 'witnesses.list[2].key',
        message: `the key is named ${w1.name}, not the witness name ${w2.name}`,
      },
      { path: 'witnesses.list[3].key', message: 'witness key id does not match its name and key' },
      { path: 'witnesses.list[3].name', message: `${w1.name} is listed twice` },
    ]);
  });

  it('refuses a quorum the listed witnesses cannot reach, naming both numbers', () => {
    const yaml = witnesses(
      [entry(w1.name, 'https://w1.example/', w1.vkey), entry(w2.name, 'https://w2.example/', w2.vkey)],
      '  quorum: 3',
    );
    expect(issuesOf(yaml)).toEqual([
      { path: 'witnesses.quorum', message: '3 is more than the 2 witness(es) listed' },
    ]);
    expect(() => parseConfig(yaml, { env: {} })).toThrow(
      'invalid configuration: witnesses.quorum: 3 is more than the 2 witness(es) listed',
    );
    expect(issuesOf('witnesses:\n  quorum: 1')).toEqual([
      { path: 'witnesses.quorum', message: '1 is more than the 0 witness(es) listed' },
    ]);
  });

  it('refuses a longest backoff shorter than its first wait', () => {
    expect(issuesOf('witnesses:\n  intervalMs: 60000\n  retryMaxMs: 1000')).toEqual([
      {
        path: 'witnesses.retryMaxMs',
        message: '1000 is less than witnesses.intervalMs (60000), the first wait of the backoff',
      },
    ]);
  });

  it('names a missing field or an unknown one in an entry', () => {
    expect(issuesOf(`witnesses:\n  list:\n    - { name: ${w1.name}, url: "https://w1.example/" }`)).toEqual([
      { path: 'witnesses.list[0].key', message: 'expected a string, got undefined' },
    ]);
    expect(issuesOf(witnesses([`    - { name: a, url: "https://a/", key: k, pubkey: k }`]))).toEqual([
      { path: 'witnesses.list[0].pubkey', message: 'unknown key (expected one of name, url, key)' },
    ]);
  });
});
