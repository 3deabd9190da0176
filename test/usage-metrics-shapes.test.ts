import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { useInProcessServer } from './support/in-process-server.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { hashMachinePassword } from '../src/lib/password.ts';
import { createMachine, getMachine } from '../src/store/machines.ts';
import { latestLogProcessorUsage, logProcessorUsage } from '../src/store/usage-log-processors.ts';
import { createBouncer, getBouncer } from '../src/store/bouncers.ts';
import { latestUsageMetrics, usageMetricsReceivedAt } from '../src/store/usage-metrics.ts';

/**
 * POST /v1/usage-metrics with the exact bodies real components send (test/fixtures/usage-metrics/), over
 * real HTTP on each database: bouncers' reports in every shape CrowdSec takes (null, old lua-cjson's {}),
 * each a sign of life; agents' reports with their JWT, kept and judged for LP No Logs Read.
 */
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);
const HOUR = 3600_000;
const KEY = '5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d';
const AGENT = 'agent-web1';
const PASSWORD = 'a-strong-agent-password-0123456789';
const AGENT_UA = 'crowdsec/v1.7.0-debian-pragmatic-amd64-4144555';
const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'usage-metrics');
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

/** The agent's body with its counters as a quiet window leaves them: no item (zero values are left out). */
function agentBody(read: 'none' | 'read-and-parsed'): string {
  const body = JSON.parse(fixture('crowdsec-agent-1.7.json'));
  if (read === 'none') body.log_processors[0].metrics[0].items = [];
  return JSON.stringify(body);
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: usage metrics as real components send them`, () => {
    const clock = new ManualClock(T0);
    const server = useInProcessServer(dialect, clock);
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`${server().url}/v1/usage-metrics`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });
    const asBouncer = (ua: string) => ({ 'X-Api-Key': KEY, 'User-Agent': ua });
    async function agentToken(): Promise<string> {
      const r = await fetch(`${server().url}/v1/watchers/login`, {
        method: 'POST',
        headers: { 'User-Agent': AGENT_UA, 'Content-Type': 'application/json' },
        body: JSON.stringify({ machine_id: AGENT, password: PASSWORD, scenarios: [] }),
      });
      expect(r.status).toBe(200);
      return ((await r.json()) as { token: string }).token;
    }
    /** What the agent does every cycle: log in (tokens last an hour), beat, report. */
    async function agentReports(body: string): Promise<Response> {
      const token = await agentToken();
      const auth = { Authorization: `Bearer ${token}`, 'User-Agent': AGENT_UA };
      expect((await fetch(`${server().url}/v1/heartbeat`, { headers: auth })).status).toBe(200);
      return post(body, auth);
    }

    beforeAll(async () => {
      await createBouncer(server().store, { name: 'nginx-live', apiKeyHash: hashApiKey(KEY), now: T0 });
      await createMachine(server().store, { machineId: AGENT, passwordHash: await hashMachinePassword(PASSWORD), now: T0, isValidated: true });
    });

    it.each([
      ['lua-cs-bouncer.json', 'crowdsec-nginx-bouncer/v1.0.8', 'lua-bouncer'],
      ['lua-cs-bouncer-old-cjson.json', 'crowdsec-nginx-bouncer/v1.0.8', 'lua-bouncer'],
      ['firewall-bouncer.json', 'crowdsec-firewall-bouncer/v0.0.34', 'crowdsec-firewall-bouncer'],
      ['go-bouncer-no-traffic.json', 'crowdsec-custom-bouncer/v0.0.34', 'crowdsec-custom-bouncer'],
      ['nodejs-bouncer.json', 'nodejs-cs-bouncer/v0.2.0', 'crowdsec-nodejs-bouncer'],
    ])('takes %s byte for byte with 201 and keeps it', async (name, ua, type) => {
      clock.advance(60_000);
      const r = await post(fixture(name), asBouncer(ua));
      expect(await r.text()).toBe('');
      expect(r.status).toBe(201);
      const b = (await getBouncer(server().store, 'nginx-live'))!;
      const kept = await latestUsageMetrics(server().store, b.id);
      expect(kept).toMatchObject({ receivedAt: clock.now(), report: { type } });
    });

    it("counts the lua bouncer's report (log_processors: null) as a live bouncer's sign of life", async () => {
      // No pull for 30 h; the nginx bouncer's report 1 h ago proves it alive (refused with 422 before).
      clock.set(T0 + 29 * HOUR);
      expect((await post(fixture('lua-cs-bouncer.json'), asBouncer('crowdsec-nginx-bouncer/v1.0.8'))).status).toBe(201);
      clock.set(T0 + 30 * HOUR);
      const { open } = await server().health.evaluateNow();
      expect(open.filter((i) => i.bouncerName === 'nginx-live').map((i) => i.kind)).toEqual([]);
      clock.set(T0 + 30 * HOUR + 1);
      // The old-cjson body ({} for the empty feature_flags) counts the same.
      expect((await post(fixture('lua-cs-bouncer-old-cjson.json'), asBouncer('crowdsec-nginx-bouncer/v1.0.8'))).status).toBe(201);
      const b = (await getBouncer(server().store, 'nginx-live'))!;
      expect((await usageMetricsReceivedAt(server().store)).get(b.id)).toBe(T0 + 30 * HOUR + 1);
    });

    it("takes an agent's report with its JWT (403 before), and keeps its lines per window", async () => {
      clock.set(T0 + 31 * HOUR);
      const r = await agentReports(fixture('crowdsec-agent-1.7.json'));
      expect(await r.text()).toBe('');
      expect(r.status).toBe(201);
      const id = (await getMachine(server().store, AGENT))!.id;
      const all = await logProcessorUsage(server().store, 0);
      expect(all.map((u) => u.machineId)).toEqual([id]);
      expect(all[0]).toMatchObject({
        firstReportAt: clock.now(),
        lastReportAt: clock.now(),
        lastReadAt: clock.now(),
        lastParsedAt: clock.now(),
        datasources: { file: 2 },
      });
      expect(all[0]!.windows).toEqual([
        {
          at: clock.now(),
          windowSeconds: 1800,
          read: 1291,
          parsed: 1204,
          unparsed: 87,
          bySource: {
            '/var/log/nginx/access.log': { type: 'file', read: 1204, parsed: 1204, unparsed: 0 },
            '/var/log/auth.log': { type: 'file', read: 87, parsed: 0, unparsed: 87 },
          },
        },
      ]);
      expect((await latestLogProcessorUsage(server().store, all[0]!.machineId))?.report.hub_items.collections).toHaveLength(2);
    });

    it("refuses an agent's report as CrowdSec does: 401 without a valid token, 400 without log processor data", async () => {
      const body = fixture('crowdsec-agent-1.7.json');
      const forged = await post(body, { Authorization: 'Bearer a.b.c', 'User-Agent': AGENT_UA });
      expect(forged.status).toBe(401);
      expect(forged.headers.get('www-authenticate')).toBe('JWT realm=Crowdsec API local');
      expect((await post(body, { 'User-Agent': AGENT_UA })).status).toBe(401);
      const token = await agentToken();
      const rcOnly = await post(fixture('lua-cs-bouncer.json'), { Authorization: `Bearer ${token}`, 'User-Agent': AGENT_UA });
      expect(rcOnly.status).toBe(400);
      expect(((await rcOnly.json()) as { message: string }).message).toMatch(/^Missing log processor data/);
      // A bouncer's key with an agent's body: the bouncer rule (one remediation component).
      const wrongSide = await post(body, asBouncer('crowdsec-nginx-bouncer/v1.0.8'));
      expect(wrongSide.status).toBe(400);
      expect(((await wrongSide.json()) as { message: string }).message).toMatch(/^Missing remediation component data/);
    });

    it('raises LP No Logs Read after 24 h of reports without a line read, and resolves it when lines come', async () => {
      // The agent keeps beating and reporting every 6 h, its windows empty.
      const start = T0 + 40 * HOUR;
      for (let h = 0; h <= 24; h += 6) {
        clock.set(start + h * HOUR);
        expect((await agentReports(agentBody('none'))).status).toBe(201);
      }
      // Its last lines were read at T0 + 31 h (previous test): more than 24 h before.
      const { opened } = await server().health.evaluateNow();
      const issue = opened.find((i) => i.kind === 'lp_no_logs_read');
      expect(issue).toMatchObject({ subject: `machine:${AGENT}`, criticality: 'critical', since: T0 + 31 * HOUR });
      expect((issue!.evidence.causes[0] as { cause: string }).cause).toBe('logs_not_read');

      clock.advance(HOUR);
      expect((await agentReports(agentBody('read-and-parsed'))).status).toBe(201);
      const { resolved } = await server().health.evaluateNow();
      expect(resolved.map((i) => i.kind)).toContain('lp_no_logs_read');
    });
  });
}
