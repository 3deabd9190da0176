import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP hop in front of a Local API: every request is forwarded as is, and each successful
 * `/v1/decisions/stream` answer goes through `rewrite` first (what a bouncer pulling through the hop
 * then holds is what `rewrite` left). `url` is the hop's, with a trailing slash as bouncers want it.
 */
export async function startStreamHop(target: URL, rewrite: (body: Buffer) => Buffer): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (ur) => {
        const body: Buffer[] = [];
        ur.on('data', (c) => body.push(c));
        ur.on('end', () => {
          let out: Buffer = Buffer.concat(body);
          if (req.url?.startsWith('/v1/decisions/stream') && ur.statusCode === 200) out = rewrite(out);
          const headers = { ...ur.headers, 'content-length': String(out.length) };
          delete headers['transfer-encoding'];
          res.writeHead(ur.statusCode!, headers);
          res.end(out);
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}
