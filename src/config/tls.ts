// The `tls:` block resolved: HTTPS on the Local API listener and client certificates.
import path from 'node:path';
import { VigilError } from '../lib/errors.ts';
import type { ClientVerification, FileConfig } from './file-schema.ts';

/** HTTPS on the Local API listener and client certificates (`tls:`, CrowdSec's `api.server.tls`). */
export interface LapiTlsConfig {
  certFile: string;
  keyFile: string;
  clientVerification: ClientVerification;
  caCertPath: string | null;
  bouncersAllowedOu: string[];
  agentsAllowedOu: string[];
  crlPath: string | null;
}

/** The `tls:` block: both files or neither, OU lists without empty entries, paths from the file's folder. */
export function lapiTls(t: FileConfig['tls'], usedFile: string | null): LapiTlsConfig | null {
  if (t === undefined) return null;
  const where = (key: string) => `${usedFile ?? 'config'}: tls.${key}`;
  const base = usedFile ? path.dirname(usedFile) : process.cwd();
  const file = (v: string | undefined) => (v === undefined || v === '' ? null : path.resolve(base, v));
  const cert = file(t.cert_file);
  const key = file(t.key_file);
  if (cert === null && key === null) {
    const other = Object.keys(t).filter((k) => t[k as keyof typeof t] !== undefined);
    if (other.length === 0) return null;
    throw new VigilError(
      'E_CONFIG',
      `${where('cert_file')}: missing; ${other.map((k) => `tls.${k}`).join(', ')} need HTTPS: give tls.cert_file and tls.key_file`,
    );
  }
  if (cert === null) throw new VigilError('E_CONFIG', `${where('cert_file')}: missing; tls.key_file is set: give both the certificate and its key, or neither`);
  if (key === null) throw new VigilError('E_CONFIG', `${where('key_file')}: missing; tls.cert_file is set: give both the certificate and its key, or neither`);
  const ous = (name: 'bouncers_allowed_ou' | 'agents_allowed_ou', fallback: string) => {
    const list = t[name] ?? [fallback];
    if (list.some((ou) => ou.trim() === '')) throw new VigilError('E_CONFIG', `${where(name)}: an empty OU; remove it or write the OU, e.g. ${fallback}`);
    return [...new Set(list)];
  };
  return {
    certFile: cert,
    keyFile: key,
    clientVerification: t.client_verification ?? 'VerifyClientCertIfGiven',
    caCertPath: file(t.ca_cert_path),
    bouncersAllowedOu: ous('bouncers_allowed_ou', 'bouncer-ou'),
    agentsAllowedOu: ous('agents_allowed_ou', 'agent-ou'),
    crlPath: file(t.crl_path),
  };
}
