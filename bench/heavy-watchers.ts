// HEAVY_WATCHERS=1 for bench/alerts-load.bench.ts: what issue 27's attack ran at once, fired once
// in the middle of the load, from machines of their own (heavy-0 … heavy-7): 8 searches for a
// scenario no alert has (two per machine), 6 pushes of ~28 MB (1,000 alerts of 50 events, two per
// machine), one push of 1,000 alerts × 250 decisions. The bench reports the pulls sent while they ran.
import http from 'node:http';
import { heavyBodies as attackBodies } from '../test/support/heavy-alerts.ts';

export const HEAVY_MACHINES = Array.from({ length: 8 }, (_, i) => `heavy-${i}`);

/**
 * The bodies (test/support/heavy-alerts.ts, as the attack test sends them), built before the load so
 * building them does not delay it. Their alerts' addresses start at 10.200.0.0, clear of the
 * addresses the load's alerts and lookups use.
 */
export function heavyBodies(): { fat: Buffer; imported: Buffer } {
  return attackBodies(200 << 16);
}

/** Fires them all at once; resolves with each one's status and time, in order. */
export async function fireHeavyWatchers(base: string, tokens: readonly string[], bodies: { fat: Buffer; imported: Buffer }): Promise<string[]> {
  const send = (method: string, path: string, token: string, body?: Buffer) =>
    new Promise<string>((resolve) => {
      const t = performance.now();
      const req = http.request(
        `${base}${path}`,
        { method, agent: false, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(`${res.statusCode}/${Math.round(performance.now() - t)}ms`));
        },
      );
      req.on('error', (e) => resolve(`error ${e.message}/${Math.round(performance.now() - t)}ms`));
      req.end(body);
    });
  return Promise.all([
    ...Array.from({ length: 8 }, (_, i) => send('GET', '/v1/alerts?scenario=no/such-scenario', tokens[i % 4]!)),
    ...Array.from({ length: 6 }, (_, i) => send('POST', '/v1/alerts', tokens[4 + (i % 3)]!, bodies.fat)),
    send('POST', '/v1/alerts', tokens[7]!, bodies.imported),
  ]);
}
