/**
 * DNS, TCP, TLS and HTTP probes that tell apart what an operator must fix differently:
 * the name does not resolve, nothing listens (refused), the packets go nowhere (timed out),
 * there is no route (unreachable), the certificate is wrong, or the server accepts the
 * connection and never answers. Adapters: they do I/O and return typed outcomes; every
 * time limit is a parameter.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export type NetFailureKind = 'dns' | 'refused' | 'connect-timeout' | 'unreachable' | 'tls' | 'no-answer' | 'closed' | 'other';

export interface NetFailure {
  ok: false;
  kind: NetFailureKind;
  /** errno-style code when there is one (ECONNREFUSED, ENOTFOUND, DEPTH_ZERO_SELF_SIGNED_CERT, …). */
  code?: string;
  message: string;
  ms: number;
}

export type LookupFn = (
  host: string,
  opts: { all: true },
  cb: (err: NodeJS.ErrnoException | null, addresses: { address: string; family: number }[]) => void,
) => void;

export interface ProbeTimeouts {
  /** DNS lookup and TCP connect. */
  connectMs: number;
  /** From connected to the end of the response (HTTP) or of the handshake (TLS). */
  answerMs: number;
}

const since = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function classify(e: NodeJS.ErrnoException): NetFailureKind {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
    case 'ENODATA':
      return 'dns';
    case 'ETIMEDOUT':
      return 'connect-timeout';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'closed';
  }
  if (
    /^ERR_SSL_|^ERR_TLS_|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(e.code ?? '') ||
    /SSL routines|wrong version number|packet length too long/.test(e.message)
  )
    return 'tls';
  if (/socket hang up/.test(e.message)) return 'closed';
  return 'other';
}

// ----------------------------------------------------------------------------------------- DNS

export async function probeDns(
  host: string,
  opts: { timeoutMs: number; lookup?: LookupFn },
): Promise<{ ok: true; addresses: string[]; ms: number } | NetFailure> {
  const t0 = process.hrtime.bigint();
  const lookup = opts.lookup ?? (dns.lookup as unknown as LookupFn);
  return await new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ ok: false, kind: 'dns', code: 'ETIMEOUT', message: `lookup ${host}: no answer within ${opts.timeoutMs} ms`, ms: since(t0) }),
      opts.timeoutMs,
    );
    lookup(host, { all: true }, (err, addresses) => {
      clearTimeout(timer);
      if (err)
        resolve({
          ok: false,
          kind: 'dns',
          code: err.code,
          message: `lookup ${host}: ${err.code === 'ENOTFOUND' ? 'no such host' : err.message}`,
          ms: since(t0),
        });
      else resolve({ ok: true, addresses: addresses.map((a) => a.address), ms: since(t0) });
    });
  });
}

// ----------------------------------------------------------------------------------------- TCP

export async function probeTcp(address: string, port: number, opts: { timeoutMs: number }): Promise<{ ok: true; ms: number } | NetFailure> {
  const t0 = process.hrtime.bigint();
  const socket = net.connect({ host: address, port });
  const timedOut = (): NetFailure => ({
    ok: false,
    kind: 'connect-timeout',
    code: 'ETIMEDOUT',
    message: `connect ${fmt(address, port)}: no answer within ${opts.timeoutMs} ms (packets dropped, or a firewall)`,
    ms: since(t0),
  });
  return await firstOutcome<{ ok: true; ms: number }>(socket, opts.timeoutMs, timedOut, (done) => {
    socket.once('connect', () => done({ ok: true, ms: since(t0) }));
    socket.once('error', (e: NodeJS.ErrnoException) =>
      done({ ok: false, kind: classify(e), code: e.code, message: `connect ${fmt(address, port)}: ${e.code ?? e.message}`, ms: since(t0) }),
    );
  });
}

/** The first outcome `watch` reports, or `timedOut()` after `timeoutMs`; the socket is closed either way. */
function firstOutcome<T>(
  socket: net.Socket,
  timeoutMs: number,
  timedOut: () => NetFailure,
  watch: (done: (r: T | NetFailure) => void) => void,
): Promise<T | NetFailure> {
  return new Promise((resolve) => {
    const done = (r: T | NetFailure) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(timedOut()), timeoutMs);
    watch(done);
  });
}

// ----------------------------------------------------------------------------------------- TLS

export interface CertificateSummary {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  selfSigned: boolean;
  altNames: string;
}

export interface TlsOutcome {
  ok: true;
  ms: number;
  protocol: string;
  /** Certificate verified against the CA bundle and the host name. */
  authorized: boolean;
  /** Why not, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID. */
  authorizationError?: string;
  certificate?: CertificateSummary;
}

export async function probeTls(address: string, port: number, opts: { servername: string; timeoutMs: number; ca?: string }): Promise<TlsOutcome | NetFailure> {
  const t0 = process.hrtime.bigint();
  const servername = net.isIP(opts.servername) ? undefined : opts.servername;
  // Verify ourselves (rejectUnauthorized: false) so the finding can say why, not just "failed".
  const socket = tls.connect({
    host: address,
    port,
    servername,
    rejectUnauthorized: false,
    ...(opts.ca ? { ca: [...tls.rootCertificates, opts.ca] } : {}),
    checkServerIdentity: (_h, cert) => tls.checkServerIdentity(opts.servername, cert),
  });
  const timedOut = (): NetFailure => ({
    ok: false,
    kind: 'no-answer',
    code: 'ETIMEDOUT',
    message: `TLS handshake with ${fmt(address, port)}: no answer within ${opts.timeoutMs} ms`,
    ms: since(t0),
  });
  return await firstOutcome<TlsOutcome>(socket, opts.timeoutMs, timedOut, (done) => {
    socket.once('secureConnect', () => {
      const c = socket.getPeerCertificate();
      const certificate = c?.subject
        ? {
            subject: dn(c.subject),
            issuer: dn(c.issuer),
            validFrom: c.valid_from,
            validTo: c.valid_to,
            selfSigned: dn(c.subject) === dn(c.issuer),
            altNames: c.subjectaltname ?? '',
          }
        : undefined;
      const authErr = socket.authorizationError as unknown as Error | string | null;
      done({
        ok: true,
        ms: since(t0),
        protocol: socket.getProtocol() ?? '',
        authorized: socket.authorized,
        authorizationError: authErr ? (typeof authErr === 'string' ? authErr : ((authErr as NodeJS.ErrnoException).code ?? authErr.message)) : undefined,
        certificate,
      });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const kind = classify(e);
      done({
        ok: false,
        kind: kind === 'other' || kind === 'closed' ? 'tls' : kind,
        code: e.code,
        message: `TLS handshake with ${fmt(address, port)}: ${e.message}`,
        ms: since(t0),
      });
    });
  });
}

function dn(x: unknown): string {
  if (!x || typeof x !== 'object') return '';
  return Object.entries(x as Record<string, unknown>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ');
}

// ---------------------------------------------------------------------------------------- HTTP

export interface HttpAnswer {
  ok: true;
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The first 16 KiB of the body. */
  body: string;
  ms: number;
}

export interface HttpProbeOptions extends ProbeTimeouts {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** Extra CA (PEM) trusted for https, as `ca_cert_path` does for the Go bouncers. */
  ca?: string;
  /** Skip certificate checks (the bouncer's insecure_skip_verify / SSL_VERIFY=false). */
  insecure?: boolean;
  /** Connect to this address instead of resolving the URL's host (the one DNS gave). */
  address?: string;
  /** Connect from this local address (a canary's `via: source`). */
  localAddress?: string;
}

const MAX_BODY = 16 * 1024;

/**
 * One HTTP request that says which way it failed. A timeout before the TCP connection is
 * `connect-timeout`; after it (the server accepted and then said nothing) is `no-answer`.
 */
export async function probeHttp(url: string, opts: HttpProbeOptions): Promise<HttpAnswer | NetFailure> {
  const t0 = process.hrtime.bigint();
  const u = new URL(url);
  const isHttps = u.protocol === 'https:';
  const mod = isHttps ? https : http;
  return await new Promise((resolve) => {
    let connected = false;
    let secured = false;
    let settled = false;
    const finish = (r: HttpAnswer | NetFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
      req.destroy();
      resolve(r);
    };
    let answerTimer: NodeJS.Timeout | undefined;
    const req = mod.request(
      {
        method: opts.method ?? 'GET',
        host: opts.address ?? u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || (isHttps ? 443 : 80),
        path: `${u.pathname}${u.search}`,
        headers: { Host: u.host, ...opts.headers },
        agent: false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        ...(isHttps
          ? {
              servername: net.isIP(u.hostname) ? undefined : u.hostname,
              rejectUnauthorized: !opts.insecure,
              ...(opts.ca ? { ca: [...tls.rootCertificates, opts.ca] } : {}),
            }
          : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < MAX_BODY) body += chunk.slice(0, MAX_BODY - body.length);
        });
        res.on('end', () => finish({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body, ms: since(t0) }));
        res.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, kind: classify(e), code: e.code, message: e.message, ms: since(t0) }));
      },
    );
    const connectTimer = setTimeout(() => {
      if (!connected)
        finish({ ok: false, kind: 'connect-timeout', code: 'ETIMEDOUT', message: `connect: no answer within ${opts.connectMs} ms`, ms: since(t0) });
    }, opts.connectMs);
    req.on('socket', (s: net.Socket) => {
      const onConnected = () => {
        connected = true;
        clearTimeout(connectTimer);
        answerTimer = setTimeout(
          () =>
            finish({
              ok: false,
              kind: 'no-answer',
              code: 'ETIMEDOUT',
              message: `the server accepted the connection but sent no response within ${opts.answerMs} ms`,
              ms: since(t0),
            }),
          opts.answerMs,
        );
      };
      if (s.connecting) s.once('connect', onConnected);
      else onConnected();
      s.once('secureConnect', () => (secured = true));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      let kind = classify(e);
      // A reset during the handshake of an https URL is a TLS failure (a plain-HTTP port, usually).
      if (isHttps && !secured && kind === 'closed') kind = 'tls';
      finish({ ok: false, kind, code: e.code, message: e.message, ms: since(t0) });
    });
    req.end();
  });
}

const fmt = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
export const formatAddress = fmt;
