/**
 * A small web server that enforces decisions, as a bouncer in front of an application would, for
 * `vigil verify` tests until a real one is available. Two modes, like the real bouncers:
 *
 * - `live`: for every request, asks the Local API `GET /v1/decisions?ip=<client>` with its key and
 *   answers 403 on a ban, a captcha page on a captcha, the application page otherwise;
 * - `stream`: pulls `GET /v1/decisions/stream` every `pollMs` (startup first), keeps the decisions
 *   in memory, and enforces from them: verify must wait for its pull to see the block.
 *
 * The client address is the first `X-Forwarded-For` entry when `trustForwardedFor` (default), else
 * the TCP peer — turning it off reproduces a proxy whose real-IP setting is missing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EnforcingServerOptions {
  lapiUrl: string;
  apiKey: string;
  mode: 'live' | 'stream';
  pollMs?: number;
  trustForwardedFor?: boolean;
  userAgent?: string;
}

export interface EnforcingServer {
  url: string;
  /** Stream pulls done so far. */
  pulls(): number;
  /** Stop pulling (the process "hangs") while still serving pages. */
  stopPulling(): void;
  close(): Promise<void>;
}

interface WireDecision {
  type: string;
  scope: string;
  value: string;
}

export async function startEnforcingServer(opts: EnforcingServerOptions): Promise<EnforcingServer> {
  const base = opts.lapiUrl.endsWith('/') ? opts.lapiUrl : `${opts.lapiUrl}/`;
  const headers = { 'X-Api-Key': opts.apiKey, 'User-Agent': opts.userAgent ?? 'test-enforcing-bouncer/1.0' };
  const banned = new Map<string, string>(); // ip -> type (stream mode)
  let pulls = 0;
  let pulling = opts.mode === 'stream';
  let timer: NodeJS.Timeout | undefined;

  async function pull(startup: boolean): Promise<void> {
    const res = await fetch(`${base}v1/decisions/stream${startup ? '?startup=true' : '?'}`, { headers });
    if (res.status !== 200) throw new Error(`stream pull: ${res.status}`);
    const body = (await res.json()) as { new: WireDecision[] | null; deleted: WireDecision[] | null };
    for (const d of body.deleted ?? []) banned.delete(d.value);
    for (const d of body.new ?? []) if (d.scope.toLowerCase() === 'ip') banned.set(d.value, d.type);
    pulls++;
  }
  if (opts.mode === 'stream') {
    await pull(true);
    const loop = () => {
      timer = setTimeout(async () => {
        if (!pulling) return;
        await pull(false).catch(() => {});
        loop();
      }, opts.pollMs ?? 1000);
    };
    loop();
  }

  async function decisionFor(ip: string): Promise<string | undefined> {
    if (opts.mode === 'stream') return banned.get(ip);
    const res = await fetch(`${base}v1/decisions?ip=${encodeURIComponent(ip)}`, { headers });
    if (res.status !== 200) return undefined; // fail open, as most bouncers do by default
    const list = (await res.json()) as WireDecision[] | null;
    return list?.[0]?.type;
  }

  const server = http.createServer(async (req, res) => {
    const xff = typeof req.headers['x-forwarded-for'] === 'string' ? req.headers['x-forwarded-for'].split(',')[0].trim() : '';
    const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const ip = opts.trustForwardedFor === false || !xff ? peer : xff;
    let type: string | undefined;
    try {
      type = await decisionFor(ip);
    } catch {
      type = undefined;
    }
    if (type === 'ban') {
      res.writeHead(403, { 'Content-Type': 'text/html' });
      res.end('<html><body><h1>Forbidden</h1><p>Your address is blocked.</p></body></html>');
    } else if (type === 'captcha') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html><body><form><div class="captcha-box">Please solve the captcha</div></form></body></html>');
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html><body>Welcome to the application.</body></html>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    pulls: () => pulls,
    stopPulling() {
      pulling = false;
      if (timer) clearTimeout(timer);
    },
    async close() {
      pulling = false;
      if (timer) clearTimeout(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
