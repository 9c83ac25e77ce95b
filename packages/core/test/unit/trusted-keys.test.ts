import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SigningError,
  exportPublicKey,
  generateSigningKey,
  loadTrustedKeys,
  trustedKeyFiles,
} from '@decisiontrail/core';

describe('loadTrustedKeys', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dt-trusted-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trusts every .pub and .vkey file of the keys directory, in name order, and nothing else', async () => {
    const current = generateSigningKey('decisiontrail');
    const retired = generateSigningKey('decisiontrail');
    const foreign = generateSigningKey('decisiontrail');
    await writeFile(path.join(dir, 'signing.pub'), `${exportPublicKey(current).vkey}\n`);
    await writeFile(path.join(dir, 'archive.vkey'), `${exportPublicKey(retired).vkey}\n`);
    // Neither a public key file by name: a note, and a private key PEM.
    await writeFile(path.join(dir, 'notes.txt'), `${exportPublicKey(foreign).vkey}\n`);
    await writeFile(path.join(dir, 'signing.key'), 'not read');

    const keys = await loadTrustedKeys({ dir, publicKeys: [] });
    expect(keys.map((key) => key.keyId)).toEqual([retired.keyId, current.keyId]);
  });

  it('trusts exactly the listed files when publicKeys names any, whatever the directory holds', async () => {
    const listed = generateSigningKey('decisiontrail');
    const inDir = generateSigningKey('decisiontrail');
    const file = path.join(dir, 'listed.txt');
    await writeFile(file, `${exportPublicKey(listed).vkey}\n`);
    await writeFile(path.join(dir, 'other.pub'), `${exportPublicKey(inDir).vkey}\n`);

    const keys = await loadTrustedKeys({ dir, publicKeys: [file] });
    expect(keys.map((key) => key.keyId)).toEqual([listed.keyId]);
  });

  it('finds no keys in a keys directory that does not exist', async () => {
    await expect(trustedKeyFiles({ dir: path.join(dir, 'absent'), publicKeys: [] })).resolves.toEqual([]);
  });

  it('refuses a keys directory it cannot read instead of trusting nothing', async () => {
    const notADir = path.join(dir, 'keys');
    await writeFile(notADir, 'a file where the directory should be');
    const failure = loadTrustedKeys({ dir: notADir, publicKeys: [] });
    await expect(failure).rejects.toBeInstanceOf(SigningError);
    await expect(failure).rejects.toMatchObject({ code: 'KEY_UNREADABLE' });
    await expect(failure).rejects.toThrow(notADir);
  });

  it('fails the whole load on a public key file that does not parse, instead of skipping it', async () => {
    await writeFile(
      path.join(dir, 'good.pub'),
      `${exportPublicKey(generateSigningKey('decisiontrail')).vkey}\n`,
    );
    await writeFile(path.join(dir, 'broken.vkey'), 'decisiontrail+zzzz+not-base64\n');
    await expect(loadTrustedKeys({ dir, publicKeys: [] })).rejects.toBeInstanceOf(SigningError);
  });
});
