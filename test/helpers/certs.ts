import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Throwaway PKI made with the openssl CLI in a temp folder at test time: no key is committed.
 * EC P-256 keys keep it fast (a few ms per certificate).
 */
export interface TestPki {
  readonly dir: string;
  /** PEM of the CA. */
  readonly caPem: string;
  readonly caFile: string;
  /** A server certificate for 127.0.0.1 / localhost, signed by the CA. */
  readonly server: IssuedCert;
  /** Issue a client (or server) certificate signed by this CA. */
  issue(name: string, options?: IssueOptions): IssuedCert;
}

export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  readonly cn?: string;
  /** subjectAltName value, e.g. `URI:spiffe://example/svc,email:a@example.com`. */
  readonly san?: string;
  /** `clientAuth` (default) or `serverAuth`. */
  readonly usage?: 'clientAuth' | 'serverAuth';
  readonly days?: number;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function createTestPki(label = 'ca'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), `rampart-pki-${label}-`));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    `/CN=Rampart test ${label}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 1;
  const issue = (name: string, options: IssueOptions = {}): IssuedCert => {
    const usage = options.usage ?? 'clientAuth';
    const ext = join(dir, `${name}.ext`);
    writeFileSync(
      ext,
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        `extendedKeyUsage=${usage}`,
        options.san ? `subjectAltName=${options.san}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
    run([
      'req',
      '-new',
      ...EC,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${options.cn ?? name}`,
    ]);
    run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(serial++ + 1000),
      '-days',
      String(options.days ?? 1),
      '-out',
      `${name}.pem`,
      '-extfile',
      ext,
    ]);
    const certFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}.key`);
    return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  };
  const server = issue('server', { usage: 'serverAuth', cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
  const caFile = join(dir, 'ca.pem');
  return { dir, caPem: readFileSync(caFile, 'utf8'), caFile, server, issue };
}
