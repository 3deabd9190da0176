import crypto from 'node:crypto';
import http from 'node:http';

/** Loopback addresses 127.0.0.2 … 127.0.0.250: the flood's peers (never any other address). */
export const FLOOD_ADDRESSES = Array.from({ length: 249 }, (_, i) => `127.0.0.${i + 2}`);

export { getStatus as get } from '../support/http-from.ts';

/**
 * `total` requests with a new random key each, from the flood addresses in turn, over keep-alive
 * connections, `concurrency` at a time. `between` runs after each `chunk` requests (flush, move the clock).
 */
export async function floodRandomKeys(
  base: string,
  opts: { total: number; userAgent: string; path?: string; chunk?: number; concurrency?: number; between?: (done: number) => Promise<void> },
): Promise<Map<number, number>> {
  const u = new URL(base);
  const agents = FLOOD_ADDRESSES.map((localAddress) => ({ localAddress, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) }));
  const statuses = new Map<number, number>();
  const chunk = opts.chunk ?? opts.total;
  const concurrency = opts.concurrency ?? 32;
  let next = 0;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const { localAddress, agent } = agents[i % agents.length]!;
      const headers = { 'X-Api-Key': crypto.randomBytes(16).toString('hex'), 'User-Agent': opts.userAgent };
      const req = http.request({ host: u.hostname, port: u.port, path: opts.path ?? '/v1/decisions/stream', headers, localAddress, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1);
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  try {
    for (let done = 0; done < opts.total; done += chunk) {
      const end = Math.min(done + chunk, opts.total);
      next = done;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < end) await one(next++);
        }),
      );
      await opts.between?.(end);
    }
  } finally {
    for (const a of agents) a.agent.destroy();
  }
  return statuses;
}
