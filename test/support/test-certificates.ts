import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** PEM files written by {@link writeTestCertificates}; paths inside the directory it was given. */
export interface TestCertificates {
  /** CA that issued the server certificate (what clients trust). */
  ca: string;
  /** Server certificate for 127.0.0.1, ::1 and localhost, and its key. */
  serverCert: string;
  serverKey: string;
  /** CA that issues client certificates (serve's `tls.clientCa`). */
  clientCa: string;
  /** Client certificates from `clientCa`, by common name: `{ cert, key }`. */
  clients: Record<string, { cert: string; key: string }>;
  /** A client certificate from a CA serve does not know. */
  stranger: { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
}

function issue(dir: string, ca: string, name: string, extensions: string): { cert: string; key: string } {
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

/**
 * Generates throwaway certificates with the `openssl` command into `dir` (a test's temporary directory): no
 * private key is ever committed. Two days of validity, P-256 keys.
 */
export function writeTestCertificates(dir: string, clientNames: readonly string[] = []): TestCertificates {
  makeCa(dir, 'server-ca');
  makeCa(dir, 'client-ca');
  makeCa(dir, 'stranger-ca');
  const server = issue(
    dir,
    'server-ca',
    'server',
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  const clients: Record<string, { cert: string; key: string }> = {};
  for (const name of clientNames)
    clients[name] = issue(dir, 'client-ca', name, 'extendedKeyUsage=clientAuth\n');
  return {
    ca: path.join(dir, 'server-ca.pem'),
    serverCert: server.cert,
    serverKey: server.key,
    clientCa: path.join(dir, 'client-ca.pem'),
    clients,
    stranger: issue(dir, 'stranger-ca', 'stranger', 'extendedKeyUsage=clientAuth\n'),
  };
}
