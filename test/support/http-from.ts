import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';

/** What a request got back: enough to check a status, a header or a page. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** From sending the request to the last byte of the answer. */
  ms: number;
}

export interface RequestFrom {
  method?: string;
  /** As given: a string[] value sends the header once per element (a repeated X-Api-Key, …). */
  headers?: http.OutgoingHttpHeaders;
  /** Sent as is (already encoded by the caller), so a test can send bytes a browser would. */
  body?: string | Buffer;
  /** The source address of the connection (127.0.0.2, …): how a test plays several clients on loopback. */
  localAddress?: string;
  /** A certificate to trust for https:// (the tests' self-signed one). */
  ca?: string;
  /** A client certificate and its key for https:// (mutual TLS). */
  cert?: string;
  key?: string;
  /** The newest TLS version to offer (to check that an old one is refused). */
  maxVersion?: tls.SecureVersion;
  /** Fails the request when no answer has come by then (a server that hangs fails the test, not the run). */
  timeoutMs?: number;
}

/**
 * One HTTP(S) request on a connection of its own, from a chosen loopback source address. fetch
 * cannot pick the source address, and it normalises what it sends; this sends exactly what it is given.
 */
export function requestFrom(url: string, opts: RequestFrom = {}): Promise<Answer> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port,
        // The path and query as written: URL would re-encode them.
        path: url.slice(url.indexOf('/', u.protocol.length + 2)) || '/',
        method: opts.method ?? 'GET',
        headers: { ...(opts.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        localAddress: opts.localAddress,
        agent: false,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        maxVersion: opts.maxVersion,
        timeout: opts.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${opts.method ?? 'GET'} ${url}: no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The `name=value` of a response's Set-Cookie, '' when none. */
export function cookieOf(a: Answer): string {
  return (a.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
}

/** One GET from `localAddress`, answering its status code. */
export async function getStatus(base: string, path: string, headers: Record<string, string>, localAddress: string): Promise<number> {
  return (await requestFrom(`${base}${path}`, { headers, localAddress })).status;
}

/** The dashboard's login form posted as a browser does (from `from`, trusting `ca` for https). */
export function postLogin(base: string, secret: string, opts: { from?: string; headers?: Record<string, string>; ca?: string } = {}): Promise<Answer> {
  return requestFrom(`${base}/ui/login`, {
    method: 'POST',
    localAddress: opts.from,
    ca: opts.ca,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: base, ...opts.headers },
    body: new URLSearchParams({ secret }).toString(),
  });
}
