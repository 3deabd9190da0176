import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { LapiTlsConfig } from '../config/config.ts';
import type { Clock } from '../lib/clock.ts';
import { VigilError } from '../lib/errors.ts';
import { ClientCertAuth } from './client-cert.ts';

/** CrowdSec re-reads its CRL file at most this often (docs/reference/crowdsec-1.6-1.7.md §2). */
export const CRL_CHECK_EVERY_MS = 5_000;

export interface LapiListener {
  server: http.Server;
  /** Present on a TLS listener that asks for client certificates. */
  clientCerts: ClientCertAuth | undefined;
  scheme: 'http' | 'https';
}

/**
 * The Local API's server: plain HTTP, or HTTPS (TLS 1.2 or later) with CrowdSec's client
 * verification modes. Client certificates are verified by OpenSSL against `ca_cert_path` (added to
 * the system's CAs) and the CRL, but a bad one does not fail the handshake as in Go: the request is
 * answered 403 and recorded with the reason (`tls:expired`, `tls:revoked`, …) so the health engine
 * can tell the operator why that bouncer stopped.
 */
export function createLapiListener(
  cfg: LapiTlsConfig | null,
  options: http.ServerOptions,
  handler: http.RequestListener,
  deps: { clock: Clock; log: Logger },
): LapiListener {
  if (cfg === null) return { server: http.createServer(options, handler), clientCerts: undefined, scheme: 'http' };
  const mode = cfg.clientVerification;
  const wantsCert = mode !== 'NoClientCert';
  const context: tls.SecureContextOptions = {
    cert: readPem(cfg.certFile, 'tls.cert_file'),
    key: readPem(cfg.keyFile, 'tls.key_file'),
    minVersion: 'TLSv1.2',
  };
  if (wantsCert && cfg.caCertPath !== null) context.ca = [...tls.rootCertificates, readPem(cfg.caCertPath, 'tls.ca_cert_path')];
  const crl = wantsCert && cfg.crlPath !== null ? new CrlFile(cfg.crlPath, deps.log) : undefined;
  if (crl) context.crl = crl.initial();
  try {
    tls.createSecureContext(context);
  } catch (e) {
    throw new VigilError(
      'E_CONFIG',
      `tls: the certificate, key, CA or CRL files do not load (${(e as Error).message}): check tls.cert_file, tls.key_file, tls.ca_cert_path and tls.crl_path`,
    );
  }
  const server = https.createServer({ ...options, ...context, requestCert: wantsCert, rejectUnauthorized: false }, handler);
  const requireCert = mode === 'RequireAnyClientCert' || mode === 'RequireAndVerifyClientCert';
  // Connections that presented a certificate: closed when the CRL changes, so each is verified again.
  const certSockets = new Set<tls.TLSSocket>();
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    if (!wantsCert) return;
    const cert = socket.getPeerCertificate();
    const has = cert && Object.keys(cert).length > 0;
    if (!has) {
      if (requireCert) socket.destroy();
      return;
    }
    certSockets.add(socket);
    socket.once('close', () => certSockets.delete(socket));
  });
  if (crl) {
    let checkedAt = deps.clock.now();
    // Before the TLS wrapper takes the connection (it is the server's own 'connection' listener),
    // so a CRL changed on disk applies to this very handshake.
    server.prependListener('connection', () => {
      const now = deps.clock.now();
      if (now - checkedAt < CRL_CHECK_EVERY_MS && now >= checkedAt) return;
      checkedAt = now;
      const next = crl.changed();
      if (next === undefined) return;
      try {
        server.setSecureContext({ ...context, crl: next });
      } catch (e) {
        deps.log.warn({ file: crl.file }, `tls.crl_path ${crl.file}: does not load (${(e as Error).message}); keeping the previous CRLs`);
        return;
      }
      context.crl = next;
      deps.log.info({ file: crl.file }, `tls.crl_path ${crl.file}: CRLs reloaded; certificate connections are verified again`);
      for (const s of certSockets) s.destroy();
      certSockets.clear();
    });
  }
  const clientCerts = wantsCert
    ? new ClientCertAuth({ bouncersAllowedOu: cfg.bouncersAllowedOu, agentsAllowedOu: cfg.agentsAllowedOu, clock: deps.clock })
    : undefined;
  return { server, clientCerts, scheme: 'https' };
}

function readPem(file: string, key: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new VigilError('E_CONFIG', `${key} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a readable PEM file`);
  }
}

const CRL_BLOCK = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g;

/** The CRL file: its CRLs (PEM, one or more), re-read only when its mtime or size changed. */
class CrlFile {
  readonly file: string;
  #seen = '';
  #log: Logger;

  constructor(file: string, log: Logger) {
    this.file = file;
    this.#log = log;
  }

  initial(): string[] {
    const crls = this.#read();
    if (crls === undefined)
      throw new VigilError('E_CONFIG', `tls.crl_path ${this.file}: no CRL in it; give a PEM file with one or more "BEGIN X509 CRL" blocks`);
    return crls;
  }

  /** The new CRLs when the file changed and still holds some, else undefined (keep the previous ones). */
  changed(): string[] | undefined {
    let stamp: string;
    try {
      const st = fs.statSync(this.file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch (e) {
      this.#log.warn({ file: this.file }, `tls.crl_path ${this.file}: cannot read (${(e as NodeJS.ErrnoException).code}); keeping the previous CRLs`);
      return undefined;
    }
    if (stamp === this.#seen) return undefined;
    let crls: string[] | undefined;
    try {
      crls = this.#read();
    } catch (e) {
      this.#log.warn({ file: this.file }, `${(e as Error).message}; keeping the previous CRLs`);
      return undefined;
    }
    if (crls === undefined) this.#log.warn({ file: this.file }, `tls.crl_path ${this.file}: no CRL in it; keeping the previous CRLs`);
    return crls;
  }

  #read(): string[] | undefined {
    let text: string;
    try {
      const st = fs.statSync(this.file);
      text = fs.readFileSync(this.file, 'utf8');
      this.#seen = `${st.mtimeMs}:${st.size}`;
    } catch (e) {
      throw new VigilError(
        'E_CONFIG',
        `tls.crl_path ${this.file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a readable PEM file`,
      );
    }
    const blocks = text.match(CRL_BLOCK);
    return blocks && blocks.length > 0 ? [...blocks] : undefined;
  }
}
