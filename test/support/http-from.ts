import http from 'node:http';
import https from 'node:https';

/** What a request got back: enough to check a status, a header or a page. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface RequestFrom {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as is (already encoded by the caller), so a test can send bytes a browser would. */
  body?: string;
  /** The source address of the connection (127.0.0.2, …): how a test plays several clients on loopback. */
  localAddress?: string;
  /** A certificate to trust for https:// (the tests' self-signed one). */
  ca?: string;
}

/**
 * One HTTP(S) request on a connection of its own, from a chosen loopback source address. fetch
 * cannot pick the source address, and it normalises what it sends; this sends exactly what it is given.
 */
export function requestFrom(url: string, opts: RequestFrom = {}): Promise<Answer> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
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
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The `name=value` of a response's Set-Cookie, '' when none. */
export function cookieOf(a: Answer): string {
  return (a.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
}

/** One GET from `localAddress`, answering its status code. */
export function getStatus(base: string, path: string, headers: Record<string, string>, localAddress: string): Promise<number> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, headers, localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
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
