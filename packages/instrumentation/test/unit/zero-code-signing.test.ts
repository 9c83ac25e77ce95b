import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportPublicKey, generateSigningKey, WITNESS_FILE_NAME } from '@decisiontrail/core';
import { describe, expect, it } from 'vitest';
import { signingFromEnvironment } from '@decisiontrail/instrumentation';

const pemOf = (key = generateSigningKey()) => ({
  key,
  pem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
});

function freshDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'dt-zero-code-'));
}

describe('signingFromEnvironment', () => {
  it('takes the key from DECISIONTRAIL_SIGNING_KEY as PEM text, spool and witness at their defaults under cwd', () => {
    const cwd = freshDir();
    const { key, pem } = pemOf();
    const signing = signingFromEnvironment({ DECISIONTRAIL_SIGNING_KEY: pem }, cwd);
    expect(signing.kind).toBe('signed');
    if (signing.kind !== 'signed') return;
    expect(signing.key.keyId).toBe(key.keyId);
    expect(exportPublicKey(signing.key).vkey).toBe(exportPublicKey(key).vkey);
    expect(signing.source).toBe('DECISIONTRAIL_SIGNING_KEY');
    expect(signing.spoolDir).toBe(path.join(cwd, '.decisiontrail', 'spool'));
    expect(signing.witnessPath).toBe(path.join(cwd, '.decisiontrail', 'keys', WITNESS_FILE_NAME));
  });

  it('reads DECISIONTRAIL_SIGNING_KEY_FILE relative to cwd; KEYS_DIR moves the witness, SPOOL_DIR the spool', () => {
    const cwd = freshDir();
    const { key, pem } = pemOf();
    writeFileSync(path.join(cwd, 'app.key'), pem, { mode: 0o600 });
    const signing = signingFromEnvironment(
      {
        DECISIONTRAIL_SIGNING_KEY_FILE: 'app.key',
        DECISIONTRAIL_KEYS_DIR: 'k',
        DECISIONTRAIL_SPOOL_DIR: '/var/spool/dt',
      },
      cwd,
    );
    expect(signing).toMatchObject({
      kind: 'signed',
      source: `key file ${path.join(cwd, 'app.key')}`,
      spoolDir: '/var/spool/dt',
      witnessPath: path.join(cwd, 'k', WITNESS_FILE_NAME),
    });
    expect(signing.kind === 'signed' && signing.key.keyId).toBe(key.keyId);
  });

  it("takes the keys directory and witness from decisiontrail.yaml's keys when given, over DECISIONTRAIL_KEYS_DIR", () => {
    const cwd = freshDir();
    const { key, pem } = pemOf();
    mkdirSync(path.join(cwd, 'conf-keys'));
    writeFileSync(path.join(cwd, 'conf-keys', 'signing.key'), pem);
    const witness = path.join(cwd, 'elsewhere.witness.jsonl');
    const signing = signingFromEnvironment({ DECISIONTRAIL_KEYS_DIR: 'ignored' }, cwd, {
      dir: path.join(cwd, 'conf-keys'),
      witness,
    });
    expect(signing).toMatchObject({ kind: 'signed', witnessPath: witness });
    expect(signing.kind === 'signed' && signing.key.keyId).toBe(key.keyId);
  });

  it('finds signing.key in the keys directory, where `decisiontrail keys generate` writes it', () => {
    const cwd = freshDir();
    const { key, pem } = pemOf();
    mkdirSync(path.join(cwd, '.decisiontrail', 'keys'), { recursive: true });
    writeFileSync(path.join(cwd, '.decisiontrail', 'keys', 'signing.key'), pem);
    const signing = signingFromEnvironment({}, cwd);
    expect(signing.kind === 'signed' && signing.key.keyId).toBe(key.keyId);
  });

  it('without any key: unsigned, not configured, naming every place it looked', () => {
    const cwd = freshDir();
    const signing = signingFromEnvironment({ DECISIONTRAIL_SIGNING_KEY: '' }, cwd);
    expect(signing).toMatchObject({ kind: 'unsigned', configured: false });
    expect(signing.kind === 'unsigned' && signing.reason).toBe(
      `no signing key configured (DECISIONTRAIL_SIGNING_KEY, DECISIONTRAIL_SIGNING_KEY_FILE, or ${path.join(cwd, '.decisiontrail', 'keys', 'signing.key')})`,
    );
  });

  it('refuses both variables at once, a missing file, text that is no key and a key that is not Ed25519', () => {
    const cwd = freshDir();
    const { pem } = pemOf();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [
        { DECISIONTRAIL_SIGNING_KEY: pem, DECISIONTRAIL_SIGNING_KEY_FILE: 'x.key' },
        /^both DECISIONTRAIL_SIGNING_KEY and DECISIONTRAIL_SIGNING_KEY_FILE are set/,
      ],
      [{ DECISIONTRAIL_SIGNING_KEY_FILE: 'missing.key' }, /^cannot read key file .*missing\.key: ENOENT/],
      [
        { DECISIONTRAIL_SIGNING_KEY: 'not a key' },
        /^DECISIONTRAIL_SIGNING_KEY does not hold a PEM private key$/,
      ],
      [
        { DECISIONTRAIL_SIGNING_KEY: rsa },
        /^DECISIONTRAIL_SIGNING_KEY holds a rsa key; an Ed25519 key is required$/,
      ],
    ];
    for (const [env, reason] of cases) {
      const signing = signingFromEnvironment(env, cwd);
      expect(signing).toMatchObject({ kind: 'unsigned', configured: true });
      expect(signing.kind === 'unsigned' && signing.reason).toMatch(reason);
    }
  });
});
