import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A small PKI made with the real `openssl` (scripts/install-openssl.sh): a CA, a server certificate
 * for 127.0.0.1, and client certificates with OUs, signed by `openssl ca` so that one can be
 * expired (explicit dates) and one revoked (a real CRL); and, for tests that only need TLS, one
 * self-signed certificate (makeSelfSignedCert).
 */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  crl: string;
  /** A client certificate: `.crt` and `.key` paths. */
  client(name: string): { cert: string; key: string; certPem: string; keyPem: string };
  /** Issues a client certificate (CN, OU), optionally with explicit validity (`YYYYMMDDHHMMSSZ`). */
  issue(name: string, subject: { cn: string; ou?: string }, dates?: { start: string; end: string }): void;
  revoke(name: string): void;
  /** Writes the CA's current CRL to `crl` (or `to`). */
  gencrl(to?: string): void;
}

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for localhost / 127.0.0.1, written into `dir` (cert.pem, key.pem). */
export function makeSelfSignedCert(dir: string): { cert: string; key: string; certPath: string } {
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert: fs.readFileSync(certPath, 'utf8'), key: fs.readFileSync(keyPath, 'utf8'), certPath };
}

export function makeTestPki(): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pki-'));
  const p = (f: string) => path.join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  fs.mkdirSync(p('newcerts'));
  fs.writeFileSync(p('index.txt'), '');
  fs.writeFileSync(p('serial'), '1000\n');
  fs.writeFileSync(p('crlnumber'), '1000\n');
  fs.writeFileSync(
    p('ca.cnf'),
    `[ ca ]
default_ca = testca
[ testca ]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = anything
unique_subject = no
copy_extensions = copy
[ anything ]
commonName = supplied
organizationalUnitName = optional
[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
`,
  );
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '30',
    '-subj',
    '/CN=Vigil Test CA',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const sign = (name: string, subj: string, ext: string, dates?: { start: string; end: string }) => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj);
    const when = dates ? ['-startdate', dates.start, '-enddate', dates.end] : [];
    ssl('ca', '-batch', '-config', 'ca.cnf', '-extensions', ext, '-in', `${name}.csr`, '-out', `${name}.crt`, '-notext', ...when);
  };
  sign('server', '/CN=127.0.0.1', 'server_ext');
  const pki: TestPki = {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    crl: p('crl.pem'),
    client(name) {
      return {
        cert: p(`${name}.crt`),
        key: p(`${name}.key`),
        certPem: fs.readFileSync(p(`${name}.crt`), 'utf8'),
        keyPem: fs.readFileSync(p(`${name}.key`), 'utf8'),
      };
    },
    issue(name, subject, dates) {
      sign(name, `/CN=${subject.cn}${subject.ou ? `/OU=${subject.ou}` : ''}`, 'client_ext', dates);
    },
    revoke(name) {
      ssl('ca', '-config', 'ca.cnf', '-revoke', `${name}.crt`);
    },
    gencrl(to = p('crl.pem')) {
      ssl('ca', '-config', 'ca.cnf', '-gencrl', '-out', to);
    },
  };
  pki.gencrl();
  return pki;
}
