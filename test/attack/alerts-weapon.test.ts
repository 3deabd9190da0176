import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAlerts } from '../../src/core/alerts/build.ts';
import { parseAlertsPayload } from '../../src/core/alerts/payload.ts';
import { runToEnd } from '../../src/lib/turns.ts';
import { hashMachinePassword } from '../../src/lib/password.ts';
import { createMachine } from '../../src/store/machines.ts';
import { Store } from '../../src/store/store.ts';
import { freshDbUrl } from '../support/databases.ts';
import { requestFrom, type RequestFrom } from '../support/http-from.ts';
import { agentAlert, heavyBodies, heavyEvents } from '../support/heavy-alerts.ts';
import { until } from '../support/wait.ts';
import { BOUNCER_KEY, BOUNCER_UA, startVigilChild, type VigilChild } from './vigil-child.ts';
import { addAlerts } from '../../src/store/decisions.ts';

/**
 * Issue 27 item 5, alerts as a memory and event-loop weapon: an authenticated machine sent alerts
 * of 20 MB (900 events of 20 KB, a 500 KB `as_name`, 1,000 labels) that were stored as sent and
 * answered back whole; 8 scans over 21k alerts, 6 POSTs of 28 MB and one of 1,000 × 250 decisions
 * held bouncer lookups for up to 4 s. Loopback only; every loop bounded.
 */
const PASSWORD = 'alerts-attack-password-0123456789';
const AGENT_UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';
const MACHINES = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8'];
const SEEDED = 21_000;

describe('alerts as a memory and event-loop weapon', () => {
  let vigil: VigilChild;
  let cleanupDb: () => Promise<void>;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    const db = await freshDbUrl('sqlite');
    cleanupDb = db.cleanup;
    const store = await Store.open(db.url);
    const passwordHash = await hashMachinePassword(PASSWORD);
    for (const m of MACHINES) await createMachine(store, { machineId: m, passwordHash, now: Date.now(), isValidated: true });
    // 21k alerts, each with its ban, as agents would have left them.
    for (let from = 0; from < SEEDED; from += 1_000) {
      const parsed = parseAlertsPayload(Array.from({ length: 1_000 }, (_, i) => agentAlert(from + i)));
      if (!parsed.ok) throw new Error(parsed.message);
      await addAlerts(store, runToEnd(buildAlerts(parsed.alerts, [], 'm1', Date.now())));
    }
    await store.close();
    // Debug: the server logs each event-loop tick held over 20 ms (server/metrics-loop.ts), shown if the bound below fails.
    vigil = await startVigilChild({ db: db.url, metrics: true, env: { VIGIL_LOG_LEVEL: 'debug' } });
    for (const m of MACHINES) {
      const r = await lapi('/v1/watchers/login', {
        method: 'POST',
        headers: { 'User-Agent': AGENT_UA, 'Content-Type': 'application/json' },
        body: JSON.stringify({ machine_id: m, password: PASSWORD, scenarios: [] }),
      });
      expect(r.status).toBe(200);
      tokens.set(m, (JSON.parse(r.text) as { token: string }).token);
    }
  }, 120_000);

  afterAll(async () => {
    await vigil?.stop();
    await cleanupDb?.();
  });

  const lapi = (path: string, opts: RequestFrom = {}) => requestFrom(`http://127.0.0.1:${vigil.port}${path}`, { timeoutMs: 120_000, ...opts });
  const as = (m: string) => ({ 'User-Agent': AGENT_UA, Authorization: `Bearer ${tokens.get(m)}`, 'Content-Type': 'application/json' });
  const post = (m: string, alerts: unknown[]) => lapi('/v1/alerts', { method: 'POST', headers: as(m), body: JSON.stringify(alerts) });

  it('an alert of 20 MB is not stored as sent: fields refused or cut as CrowdSec cuts them, the answer bounded', async () => {
    // 900 events of 20 KB: the events beyond what an alert keeps are dropped, each event cut to CrowdSec's 8,191 bytes.
    const big = await post('m1', [agentAlert(1_000_001, { events: heavyEvents(900, 20_000), events_count: 900 })]);
    expect(big.status).toBe(201);
    const id = (JSON.parse(big.text) as string[])[0];
    const shown = await lapi(`/v1/alerts/${id}`, { headers: as('m1') });
    expect(shown.status).toBe(200);
    expect(shown.text.length).toBeLessThan(600 * 1024);
    const got = JSON.parse(shown.text) as { events: Array<{ meta: unknown[] }>; events_count: number };
    expect(got.events_count).toBe(900);
    expect(got.events.length).toBeLessThanOrEqual(250);
    for (const e of got.events) expect(JSON.stringify(e.meta).length).toBeLessThanOrEqual(8191);

    // Alert meta values cut to CrowdSec's 4,095 characters (its meta.value column).
    const meta = await post('m1', [agentAlert(1_000_002, { meta: [{ key: 'k', value: 'v'.repeat(200_000) }] })]);
    expect(meta.status).toBe(201);
    const metaShown = JSON.parse((await lapi(`/v1/alerts/${JSON.parse(meta.text)[0]}`, { headers: as('m1') })).text) as {
      meta: Array<{ value: string }>;
    };
    expect(metaShown.meta[0]!.value.length).toBe(4095);

    // Fields CrowdSec leaves unbounded: Vigil's bounds, refused naming the field, nothing stored.
    const refusals: Array<[Record<string, unknown>, RegExp]> = [
      [{ source: { scope: 'Ip', value: '10.9.9.9', ip: '10.9.9.9', as_name: 'a'.repeat(500_000) } }, /0\.source\.as_name: 500000 characters; at most 256/],
      [{ labels: Array.from({ length: 1_000 }, (_, i) => `label-${i}`) }, /0\.labels: 1000 labels; at most 64/],
      [{ leakspeed: 'l'.repeat(200_000) }, /0\.leakspeed: 200000 characters; at most 64/],
      [{ scenario_hash: 'h'.repeat(200_000) }, /0\.scenario_hash: 200000 characters; at most 256/],
    ];
    for (const [over, message] of refusals) {
      const r = await post('m1', [agentAlert(1_000_003, over)]);
      expect(r.status).toBe(400);
      expect((JSON.parse(r.text) as { message: string }).message).toMatch(message);
    }
    const listed = await lapi('/v1/alerts?value=10.9.9.9', { headers: as('m1') });
    expect(listed.text).toBe('null');

    // The attack's 12 alerts of 20 MB: one GET answers at most what the caps allow (it was 248 MB).
    const all = await lapi('/v1/alerts', { headers: as('m1') });
    expect(all.status).toBe(200);
    expect(all.text.length).toBeLessThan(8 * 1024 * 1024);
  }, 120_000);

  it('a machine gets two alerts requests at once; the third is told to retry', async () => {
    const three = await Promise.all(Array.from({ length: 3 }, () => lapi('/v1/alerts?scenario=no/such&limit=0', { headers: as('m1') })));
    const refused = three.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]!.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused[0]!.text).message).toMatch(/too many alerts requests at once from machine m1; retry in 1 s/);
    expect(three.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("heavy watcher requests (scans over 21k alerts, 28 MB pushes, a 250k-decision push) keep bouncers' lookups fast", async () => {
    // The bodies first: building them here must not delay the lookups measured.
    const { fat, imported } = heavyBodies(2_000_000);
    expect(fat.length).toBeGreaterThan(25_000_000);

    // A bouncer asking about one address after another, on a keep-alive connection, from a process of its own.
    const bouncer = spawn(process.execPath, ['-e', LOOKUP_CLIENT, String(vigil.port), BOUNCER_KEY, BOUNCER_UA], { stdio: ['pipe', 'pipe', 'inherit'] });
    let report = '';
    bouncer.stdout.on('data', (d: Buffer) => (report += d.toString()));
    const reported = new Promise<void>((resolve) => bouncer.on('exit', () => resolve()));
    await until('the bouncer to start asking', () => (report.includes('started') ? true : undefined), undefined, 10_000, 20);
    const loopBefore = await loopBusy(vigil.metricsUrl!);
    const rssBefore = vigil.rssKb();
    let rssPeak = rssBefore;
    const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, vigil.rssKb())), 50);

    // 8 scans for a scenario no alert has (two per machine on m1-m4), 6 pushes of ~28 MB (two per
    // machine on m5-m7), one push of 1,000 alerts × 250 decisions (m8): what the attack ran at once,
    // each within its machine's share, so all of it runs.
    const heavy = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => lapi('/v1/alerts?scenario=no/such-scenario', { headers: as(MACHINES[i % 4]!) })),
      ...Array.from({ length: 6 }, (_, i) => lapi('/v1/alerts', { method: 'POST', headers: as(MACHINES[4 + (i % 3)]!), body: fat })),
      lapi('/v1/alerts', { method: 'POST', headers: as('m8'), body: imported }),
    ]);
    const loopAfter = await loopBusy(vigil.metricsUrl!);
    bouncer.stdin.end();
    await reported;
    clearInterval(rssTimer);

    expect(heavy.map((h) => h.status)).toEqual([...Array(8).fill(200), ...Array(7).fill(201)]);
    for (const s of heavy.slice(0, 8)) if (s.status === 200) expect(s.text).toBe('null');
    const { lookups, statuses } = JSON.parse(report.slice(report.indexOf('{'))) as { lookups: number[]; statuses: number[] };
    expect(statuses).toEqual([200]);
    const sorted = [...lookups].sort((a, b) => a - b);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    // The server's own probe (vigil_event_loop_busy_seconds): the main thread's CPU between two
    // 10 ms ticks while the heavy requests ran, by bucket. CPU, not wall time: on a loaded machine the
    // time the process waited for a core is not the server's work (the lookups' wall-clock
    // latencies, printed, are: p99 90-270 ms under CI load, 5-60 ms on a quiet machine).
    const ticks = new Map([...loopAfter].map(([le, n]) => [le, n - (loopBefore.get(le) ?? 0)]));
    const total = ticks.get(Infinity)!;
    const over = (s: number) => total - ticks.get(s)!;
    console.log(
      `[alerts-weapon] ${lookups.length} lookups during the heavy requests: p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ` +
        `event-loop ticks ${total}, main-thread CPU between two over 20 ms: ${over(0.02)}, over 50 ms: ${over(0.05)}, over 100 ms: ${over(0.1)} ` +
        `(largest: ${heldTicks(vigil.output(), 0).slice(0, 5).join(', ')}); ` +
        `heavy: ${heavy.map((h) => `${h.status}/${Math.round(h.ms)}ms`).join(' ')}; RSS ${Math.round(rssBefore / 1024)} → peak ${Math.round(rssPeak / 1024)} MB`,
    );
    expect(lookups.length).toBeGreaterThan(20);
    expect(total).toBeGreaterThan(100);
    // Before, parsing and checking the 28 MB pushes on the loop (and the garbage they left) held it
    // over 50 ms 14 times here. The big pushes' COMMITs now run on a worker thread (sqlite-big-writer.ts:
    // 0 over 50 ms in every run since, largest 17-42 ms); a major collection of the main heap could still
    // pass 50 ms, so the bound stays at 2, never 100.
    const held = `the ticks that held the loop:\n${heldTicks(vigil.output(), 30).join('\n')}`;
    expect(over(0.05), held).toBeLessThanOrEqual(2);
    expect(over(0.1), held).toBe(0);
    // RSS is printed, not asserted: the 250k decisions pushed stay in the decision index (legitimately),
    // and the peak follows V8's heap sizing more than what is live.
  }, 300_000);
});

/** The server's debug lines for ticks held over 20 ms (server/metrics-loop.ts), `cpu N ms, late M ms`, most CPU first, those with at least `minCpuMs`. */
function heldTicks(output: string, minCpuMs: number): string[] {
  return output
    .split('\n')
    .filter((l) => l.includes('"event loop held"'))
    .map((l) => ({ cpuMs: Number(/"cpuMs":(\d+)/.exec(l)?.[1] ?? 0), lateMs: Number(/"lateMs":(\d+)/.exec(l)?.[1] ?? 0) }))
    .filter((t) => t.cpuMs >= minCpuMs)
    .sort((a, b) => b.cpuMs - a.cpuMs)
    .map((t) => `cpu ${t.cpuMs} ms, late ${t.lateMs} ms`);
}

/** `vigil_event_loop_busy_seconds` by bucket (`le` in seconds, Infinity for +Inf): cumulative tick counts. */
async function loopBusy(metricsUrl: string): Promise<Map<number, number>> {
  const { text } = await requestFrom(metricsUrl);
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(/^vigil_event_loop_busy_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm))
    buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  if (!buckets.has(Infinity)) throw new Error(`no vigil_event_loop_busy_seconds on ${metricsUrl}`);
  return buckets;
}

/** The bouncer: `GET /v1/decisions?ip=` one after another until stdin closes, then its latencies as JSON. */
const LOOKUP_CLIENT = `
const http = require('node:http');
const [port, key, ua] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const lookups = [];
const statuses = new Set();
let stop = false;
process.stdin.on('end', () => (stop = true));
process.stdin.resume();
const one = (i) => new Promise((resolve, reject) => {
  const started = performance.now();
  const req = http.get({ host: '127.0.0.1', port, agent, path: '/v1/decisions?ip=10.0.' + ((i >> 8) & 63) + '.' + (i & 255), headers: { 'X-Api-Key': key, 'User-Agent': ua } }, (res) => {
    res.resume();
    res.on('end', () => { lookups.push(performance.now() - started); statuses.add(res.statusCode); resolve(); });
  });
  req.on('error', reject);
});
(async () => {
  process.stdout.write('started;');
  for (let i = 0; !stop && i < 100000; i++) {
    await one(i);
    await new Promise((r) => setTimeout(r, 5));
  }
  agent.destroy();
  process.stdout.write(JSON.stringify({ lookups, statuses: [...statuses] }));
})();
`;
