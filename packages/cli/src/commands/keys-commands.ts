import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_KEY_NAME,
  exportPublicKey,
  generateSigningKeyFile,
  loadSigningKey,
  loadVerifierKey,
  rotateSigningKeyFile,
  type SigningKey,
} from '@decisiontrail/core';
import { CliError } from '../cli-error.ts';
import type { CommandContext, CommandGroupSpec, CommandSpec } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { SIGNING_KEY_FILE } from '../trusted-keys.ts';
import { stringOption } from './option-values.ts';

const KEY_OPTION = {
  key: {
    type: 'string' as const,
    valueName: 'FILE',
    description: `signing key file (default <keys.dir>/${SIGNING_KEY_FILE})`,
  },
};

function keyPath(context: CommandContext): string {
  const given = stringOption(context, 'key');
  return given === undefined
    ? path.join(context.settings.config.keys.dir, SIGNING_KEY_FILE)
    : path.resolve(context.settings.cwd, given);
}

/** `signing.key` → `signing.pub`; `other.pem` → `other.pem.pub`. */
function publicPathFor(privatePath: string): string {
  return privatePath.endsWith('.key') ? `${privatePath.slice(0, -'.key'.length)}.pub` : `${privatePath}.pub`;
}

async function writePublicKey(file: string, key: SigningKey): Promise<void> {
  // Owner-only like every key file we write (also one rotate rewrites); copy it to where verifiers run.
  await writeFile(file, `${exportPublicKey(key).vkey}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

function describeKey(context: CommandContext, key: SigningKey, files: Record<string, string>): void {
  const { vkey, pem } = exportPublicKey(key);
  if (context.settings.json) {
    context.out.json({ name: key.name, keyId: key.keyId, verifierKey: vkey, publicKeyPem: pem, ...files });
    return;
  }
  context.out.line(`key id        ${key.keyId}`);
  context.out.line(`name          ${key.name}`);
  for (const [label, file] of Object.entries(files)) context.out.line(`${label.padEnd(13)} ${file}`);
  context.out.line(`verifier key  ${vkey}`);
  context.out.write(pem);
}

const generateCommand: CommandSpec = {
  kind: 'command',
  name: 'keys generate',
  summary: 'create an Ed25519 checkpoint signing key and its public key file',
  usage: `keys generate [--key FILE] [--name NAME]`,
  description:
    'Writes the private key (PKCS#8 PEM) and next to it the public key as a signed-note verifier key\n' +
    '(<name>+<key id>+<key>), the file verify, export and verify-bundle trust; both mode 0600 in a 0700\n' +
    'directory (copy the public key to where verifiers run). Never overwrites a key.',
  options: {
    ...KEY_OPTION,
    name: {
      type: 'string',
      valueName: 'NAME',
      description: `signed-note key name (default ${DEFAULT_KEY_NAME})`,
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    { command: 'keys generate', note: `a key in ./.decisiontrail/keys/${SIGNING_KEY_FILE}` },
    {
      command: 'keys generate --key /etc/decisiontrail/signing.key --name acme-credit',
      note: 'another place and name',
    },
  ],
  async run(context) {
    const file = keyPath(context);
    const publicFile = publicPathFor(file);
    if (existsSync(publicFile))
      throw new CliError(
        'KEY',
        `keys generate: ${publicFile} already exists; use "keys rotate" to replace a key`,
      );
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const key = await generateSigningKeyFile(file, stringOption(context, 'name') ?? DEFAULT_KEY_NAME);
    await writePublicKey(publicFile, key);
    describeKey(context, key, { 'private key': file, 'public key': publicFile });
    return EXIT_CODES.OK;
  },
};

const showCommand: CommandSpec = {
  kind: 'command',
  name: 'keys show',
  summary: 'print a key’s id and public key (from a private or a public key file)',
  usage: 'keys show [--key FILE] [--json]',
  options: {
    ...KEY_OPTION,
    name: {
      type: 'string',
      valueName: 'NAME',
      description: `key name for a PEM file (default ${DEFAULT_KEY_NAME})`,
    },
  },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [
    { command: 'keys show', note: 'the current signing key' },
    {
      command: 'keys show --key ./.decisiontrail/keys/signing.pub --json',
      note: 'a public key file, as JSON',
    },
  ],
  async run(context) {
    const file = keyPath(context);
    const name = stringOption(context, 'name') ?? DEFAULT_KEY_NAME;
    if (file.endsWith('.pub')) {
      const key = await loadVerifierKey(file, name);
      const pem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
      if (context.settings.json)
        context.out.json({
          name: key.name,
          keyId: key.keyId,
          verifierKey: key.vkey,
          publicKeyPem: pem,
          'public key': file,
        });
      else
        context.out.write(
          `key id        ${key.keyId}\nname          ${key.name}\npublic key    ${file}\nverifier key  ${key.vkey}\n${pem}`,
        );
      return EXIT_CODES.OK;
    }
    describeKey(context, await loadSigningKey(file, name), {
      'private key': file,
      'public key': publicPathFor(file),
    });
    return EXIT_CODES.OK;
  },
};

const rotateCommand: CommandSpec = {
  kind: 'command',
  name: 'keys rotate',
  summary: 'replace the signing key; the old public key stays trusted for old checkpoints',
  usage: 'keys rotate [--key FILE] [--json]',
  description:
    'Moves the old private key aside (<file>.<old key id>.retired), keeps its public key as\n' +
    '<name>.<old key id>.pub next to the new one, and writes a new key and public key. verify trusts every *.pub in\n' +
    'the keys directory, so checkpoints signed before the rotation keep verifying. Restart the exporters to pick it up.',
  options: { ...KEY_OPTION },
  positionals: { min: 0, max: 0, names: '' },
  json: true,
  examples: [{ command: 'keys rotate', note: 'rotate the key in ./.decisiontrail/keys' }],
  async run(context) {
    const file = keyPath(context);
    const current = await loadSigningKey(file);
    const publicFile = publicPathFor(file);
    const retiredPublic = publicFile.replace(/\.pub$/, `.${current.keyId}.pub`);
    await writePublicKey(retiredPublic, current);
    const rotated = await rotateSigningKeyFile(file, current.name);
    await writePublicKey(publicFile, rotated.current);
    if (context.settings.json) {
      context.out.json({
        previous: {
          keyId: rotated.previous.keyId,
          retiredKey: rotated.retiredPath,
          publicKey: retiredPublic,
        },
        current: {
          keyId: rotated.current.keyId,
          key: file,
          publicKey: publicFile,
          verifierKey: exportPublicKey(rotated.current).vkey,
        },
      });
      return EXIT_CODES.OK;
    }
    context.out.line(`rotated ${rotated.previous.keyId} → ${rotated.current.keyId}`);
    context.out.line(`  new key          ${file}`);
    context.out.line(`  new public key   ${publicFile}`);
    context.out.line(`  retired key      ${rotated.retiredPath}`);
    context.out.line(`  old public key   ${retiredPublic} (still trusted by verify)`);
    return EXIT_CODES.OK;
  },
};

/** `decisiontrail keys generate|show|rotate` */
export const keysCommands: CommandGroupSpec = {
  kind: 'group',
  name: 'keys',
  summary: 'checkpoint signing keys: generate, show, rotate',
  description: 'Ed25519 keys that sign the Merkle checkpoints of each integrity stream (C2SP signed notes).',
  subcommands: [generateCommand, showCommand, rotateCommand],
};
