/**
 * A small recording HTTP reverse proxy for compatibility tests: put it between a real client (the
 * CrowdSec agent, cscli, a bouncer) and a real server (CrowdSec's LAPI or vigil serve) and read back
 * every exchange exactly as it went over the wire: method, path with query, request headers and body,
 * response status, headers and body.
 *
 *   const proxy = await startRecordingProxy('http://127.0.0.1:8080/');
 *   // point the client at proxy.url
 *   const login = await proxy.waitFor((x) => x.path === '/v1/watchers/login', 10_000);
 *   await proxy.close();
 *
 * Bodies are kept as text (gzip responses are decoded for reading; the client gets the bytes as
 * sent). Loopback only; no TLS.
 */
import http from 'node:http';
import type net from 'node:net';
import zlib from 'node:zlib';
import { until } from './wait.ts';

export interface RecordedExchange {
  /** ms since the epoch when the request arrived */
  at: number;
  method: string;
  /** path with query string, as sent */
  path: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: string;
  /** ms from the request's arrival to the end of the response */
  ms: number;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:PORT/` (trailing slash) */
  url: string;
  exchanges(): RecordedExchange[];
  /** The first exchange (already recorded or future) matching pred; rejects on timeout. */
  waitFor(pred: (x: RecordedExchange) => boolean, timeoutMs: number): Promise<RecordedExchange>;
  /** Forget what was recorded so far. */
  clear(): void;
  close(): Promise<void>;
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function decode(body: Buffer, encoding: string | undefined): string {
  try {
    if (encoding === 'gzip') return zlib.gunzipSync(body).toString('utf8');
    if (encoding === 'deflate') return zlib.inflateSync(body).toString('utf8');
  } catch {
    // not what it said it was: show the bytes
  }
  return body.toString('utf8');
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const t = new URL(target);
  let recorded: RecordedExchange[] = [];
  const sockets = new Set<net.Socket>();

  const server = http.createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const upstream = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (up) => {
        const rchunks: Buffer[] = [];
        up.on('data', (c: Buffer) => rchunks.push(c));
        up.on('end', () => {
          const rbody = Buffer.concat(rchunks);
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(rbody);
          recorded.push({
            at,
            method: req.method ?? '',
            path: req.url ?? '',
            requestHeaders: flatHeaders(req.headers),
            requestBody: decode(body, req.headers['content-encoding']),
            status: up.statusCode ?? 0,
            responseHeaders: flatHeaders(up.headers),
            responseBody: decode(rbody, up.headers['content-encoding'] as string | undefined),
            ms: Date.now() - at,
          });
        });
      });
      upstream.on('error', (err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`recording proxy: upstream error: ${err.message}`);
      });
      upstream.end(body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    exchanges: () => recorded.slice(),
    clear: () => {
      recorded = [];
    },
    waitFor: (pred, timeoutMs) =>
      until(
        'a matching exchange',
        () => recorded.find(pred),
        () => `seen: ${recorded.map((x) => `${x.method} ${x.path} ${x.status}`).join(', ') || 'none'}`,
        timeoutMs,
        25,
      ),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One exchange in the fixture shape of test/fixtures/crowdsec-1.4.6/*.json (JSON bodies parsed). */
export interface ExchangeFixture {
  request: { method: string; path: string; headers: Record<string, string>; body: unknown };
  response: { status: number; headers: Record<string, string>; body: unknown };
}

function parseMaybe(s: string): unknown {
  if (s === '') return '';
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/**
 * An exchange as a fixture, with `replace` applied to every string in it (e.g. temp paths and
 * ports made stable): `[['/tmp/x/auth.log', '/var/log/auth.log'], ['127.0.0.1:41267', '127.0.0.1:8080']]`.
 */
export function toFixture(x: RecordedExchange, replace: Array<[string, string]> = []): ExchangeFixture {
  const fix = (s: string) => replace.reduce((acc, [from, to]) => acc.split(from).join(to), s);
  const fixHeaders = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, fix(v)]));
  return {
    request: { method: x.method, path: fix(x.path), headers: fixHeaders(x.requestHeaders), body: parseMaybe(fix(x.requestBody)) },
    response: { status: x.status, headers: fixHeaders(x.responseHeaders), body: parseMaybe(fix(x.responseBody)) },
  };
}
