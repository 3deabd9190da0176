/**
 * `vigil bouncer forward-auth`: an HTTP service that answers a reverse proxy's "may this request
 * pass?" subrequest from the bouncer's memory: nginx `auth_request`, Traefik `forwardAuth`, Caddy
 * `forward_auth`.
 *
 *   GET /health                 healthy (200) or not (503), with the age of the last successful pull
 *   /.vigil/captcha/verify      the captcha answer (nginx routes /.vigil/ here directly)
 *   /.vigil/remediation         the page for nginx's `error_page 401 403` (ban page or challenge)
 *   anything else               the check: 200 allow, 403 ban, 401 captcha (with the page as body:
 *                               Traefik and Caddy show it; nginx only reads the status)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { formatListen } from '../../lib/listen-address.ts';
import { bindListener } from '../../lib/listen.ts';
import { formatRfc3339 } from '../../lib/duration.ts';
import type { Clock } from '../../lib/clock.ts';
import { createBouncer, type Bouncer, type HandleMode, type Outcome } from '../bouncer.ts';
import { requestView, writeOutcome } from '../adapters/node-http.ts';
import { REMEDIATION_PATH, VERIFY_PATH, VIGIL_PATH_PREFIX } from '../pages.ts';
import { BOUNCER_VERSION } from '../version.ts';
import type { ForwardAuthConfig } from './config.ts';

export interface ForwardAuthServer {
  /** `http://HOST:PORT` actually bound. */
  url: string;
  bouncer: Bouncer;
  close(): Promise<void>;
}

/** The /health body: what an operator or a probe needs to see at a glance. */
export function healthBody(bouncer: Bouncer): { status: number; body: Record<string, unknown> } {
  const h = bouncer.health();
  return {
    status: h.healthy ? 200 : 503,
    body: {
      status: h.status,
      healthy: h.healthy,
      mode: h.mode,
      last_pull: h.lastSuccessAt === null ? null : formatRfc3339(h.lastSuccessAt),
      last_pull_age_seconds: h.lastSuccessAt === null ? null : Math.round(h.ageMs / 100) / 10,
      unhealthy_after_seconds: h.unhealthyAfterMs / 1000,
      consecutive_failures: h.consecutiveFailures,
      last_error: h.lastFailure
        ? { at: formatRfc3339(h.lastFailure.at), kind: h.lastFailure.kind, status: h.lastFailure.status, message: h.lastFailure.message }
        : null,
      decisions: bouncer.cache.size,
      version: BOUNCER_VERSION,
      summary: h.summary,
    },
  };
}

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as Promise<T>)?.then === 'function';

export async function startForwardAuth(config: ForwardAuthConfig, opts: { log: Logger; clock?: Clock }): Promise<ForwardAuthServer> {
  const { log } = opts;
  const bouncer = createBouncer({ ...config.bouncer, clock: opts.clock, logger: log });

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/health') {
      const h = healthBody(bouncer);
      const body = `${JSON.stringify(h.body)}\n`;
      res.writeHead(h.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    let mode: HandleMode = 'forward-auth';
    if (path.startsWith(VIGIL_PATH_PREFIX)) {
      if (path === VERIFY_PATH) mode = 'middleware';
      else if (path === REMEDIATION_PATH) mode = 'render';
      else {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('not found\n');
        return;
      }
    }
    const send = (o: Outcome) => {
      if (o.action === 'allow') {
        res.writeHead(200, { 'Content-Length': '0', 'Cache-Control': 'no-store' });
        res.end();
      } else writeOutcome(req, res, o);
    };
    const fail = (e: unknown) => {
      log.error({ err: e }, 'forward-auth check failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    };
    try {
      const out = bouncer.handle(requestView(req), mode);
      if (isPromise(out)) out.then(send, fail);
      else send(out);
    } catch (e) {
      fail(e);
    }
  });
  server.keepAliveTimeout = 65_000;

  try {
    await bindListener(server, config.listen, 'listen', `stop the other service or set listen: in ${config.file} (or --listen)`);
  } catch (e) {
    await bouncer.stop();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const url = `http://${formatListen({ host: addr.address, port: addr.port })}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    bouncer,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await bouncer.stop();
      })();
      return closing;
    },
  };
}
