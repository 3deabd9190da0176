// HEAVY_WATCHERS=1 for bench/alerts-load.bench.ts: what issue 27's attack ran at once, fired once
// in the middle of the load, from machines of their own (heavy-0 … heavy-7): 8 searches for a
// scenario no alert has (two per machine), 6 pushes of ~28 MB (1,000 alerts of 50 events, two per
// machine), one push of 1,000 alerts × 250 decisions. The bench reports the pulls sent while they ran.
import http from 'node:http';

export const HEAVY_MACHINES = Array.from({ length: 8 }, (_, i) => `heavy-${i}`);

function alert(n: number, over: Record<string, unknown>): Record<string, unknown> {
  const ip = `192.${168 + ((n >> 16) & 7)}.${(n >> 8) & 255}.${n & 255}`;
  const at = new Date().toISOString();
  return {
    capacity: 5,
    events: [],
    events_count: 1,
    leakspeed: '10s',
    message: `heavy ${n}`,
    scenario: 'bench/heavy',
    scenario_hash: 'h',
    scenario_version: '0.1',
    simulated: false,
    source: { ip, scope: 'Ip', value: ip },
    start_at: at,
    stop_at: at,
    ...over,
  };
}

/** The bodies, built before the load so building them does not delay it. */
export function heavyBodies(): { fat: Buffer; imported: Buffer } {
  const events = Array.from({ length: 50 }, (_, i) => ({ meta: [{ key: 'log', value: String(i).padEnd(520, 'x') }], timestamp: new Date().toISOString() }));
  const fat = Buffer.from(JSON.stringify(Array.from({ length: 1_000 }, (_, i) => alert(i, { events, events_count: 50 }))));
  const decisions = (n: number) =>
    Array.from({ length: 250 }, (_, j) => ({
      duration: '4h',
      origin: 'cscli',
      scenario: 'import',
      scope: 'Ip',
      type: 'ban',
      value: `172.${16 + (n % 16)}.${j}.${(n >> 4) & 255}`,
    }));
  const imported = Buffer.from(JSON.stringify(Array.from({ length: 1_000 }, (_, n) => alert(100_000 + n, { decisions: decisions(n) }))));
  return { fat, imported };
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
