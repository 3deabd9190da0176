import { getStatus as get } from './support/http-from.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import type { HealthIssue } from '../src/core/model/health-issue.ts';
import { rotateAdminToken } from '../src/server/admin.ts';
import { createBouncer, deleteBouncers } from '../src/store/bouncers.ts';
import { healthIssues, openHealthIssues } from '../src/store/health-issues.ts';
import { recordLapiStart } from '../src/store/lapi-runs.ts';

/**
 * The health engine fed by real HTTP traffic against the running server: each likely cause is
 * produced by what a broken bouncer really sends (wrong key, wrong path, silence), from its own
 * loopback address (127.0.0.x), and time is moved with a manual clock across the 24 h boundary.
 */
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
const H = 3600_000;
/** Newer than any release in component-versions.ts: Component Outdated is not what these tests are about. */
const FW_UA = 'crowdsec-firewall-bouncer/v1.0.0';

for (const dialect of DIALECTS) {
  describe(`${dialect}: health engine over real traffic`, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    const clock = new ManualClock(T0);

    const evaluate = async () => {
      await server.activity.flush();
      return server.health.evaluateNow();
    };
    const openIssues = async () => (await openHealthIssues(server.store)).map((i) => `${i.kind}:${i.subject}`).sort();
    const issueFor = async (subject: string): Promise<HealthIssue> => (await openHealthIssues(server.store)).find((i) => i.subject === subject)!;
    const topCause = (i: HealthIssue) => (i.evidence.causes[0] as { cause: string }).cause;

    beforeAll(async () => {
      const db = await freshDbUrl(dialect);
      cleanup = db.cleanup;
      const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
      config.health.evaluateEveryMs = 0; // evaluated by hand below
      server = await startServer(config, { clock, log: createLogger('silent') });
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    it('raises se_no_rc while no bouncer is registered, and resolves it on registration', async () => {
      expect((await evaluate()).opened.map((i) => i.kind)).toEqual(['se_no_rc']);
      await createBouncer(server.store, { name: 'web', apiKeyHash: hashApiKey('web-key'), now: clock.now() });
      await createBouncer(server.store, { name: 'fw', apiKeyHash: hashApiKey('fw-key'), now: clock.now() });
      expect((await evaluate()).resolved.map((i) => i.kind)).toEqual(['se_no_rc']);
    });

    it('opens RC and Firewall Integration Offline one second after 24 h of silence, cause "stopped or network"', async () => {
      expect(
        await get(server.url, '/v1/decisions/stream?startup=true', { 'X-Api-Key': 'web-key', 'User-Agent': 'crowdsec-nginx-bouncer/v1.0.8' }, '127.0.0.2'),
      ).toBe(200);
      expect(await get(server.url, '/v1/decisions/stream?startup=true', { 'X-Api-Key': 'fw-key', 'User-Agent': FW_UA }, '127.0.0.3')).toBe(200);
      const pulledAt = clock.now();
      clock.set(pulledAt + 24 * H);
      expect((await evaluate()).opened).toEqual([]);
      clock.set(pulledAt + 24 * H + 1000);
      const r = await evaluate();
      expect(r.opened.map((i) => `${i.kind}:${i.subject}:${i.criticality}`).sort()).toEqual([
        'fw_integration_offline:bouncer:fw:critical',
        'rc_integration_offline:bouncer:web:critical',
        'se_no_active_rc:fleet:critical',
      ]);
      const web = await issueFor('bouncer:web');
      expect(topCause(web)).toBe('stopped_or_network');
      expect(web.summary).toContain("bouncer 'web' (crowdsec-nginx-bouncer) has not pulled decisions for 24h0m1s");
      expect(web.since).toBe(pulledAt);
      // Still silent: the same issues stay open, no new ones.
      clock.advance(60_000);
      expect((await evaluate()).opened).toEqual([]);
    });

    it('turns the cause into fail-open (authentication) when its key is refused from its address', async () => {
      for (let i = 0; i < 3; i++) {
        expect(await get(server.url, '/v1/decisions/stream?', { 'X-Api-Key': 'stale-key', 'User-Agent': 'crowdsec-nginx-bouncer/v1.0.8' }, '127.0.0.2')).toBe(
          403,
        );
      }
      await evaluate();
      const web = await issueFor('bouncer:web');
      // Surely its own (its address and User-Agent), nothing succeeding since: it fails open (fail-open.ts).
      expect(topCause(web)).toBe('fail_open');
      const cause = web.evidence.causes[0] as { confidence: string; evidence: string[] };
      expect(cause.confidence).toBe('high');
      expect(cause.evidence[0]).toMatch(/^3 request\(s\) refused since /);
      expect(cause.evidence.join('\n')).toContain('GET /v1/decisions/stream from 127.0.0.2 with User-Agent crowdsec-nginx-bouncer/v1.0.8');
      // The firewall bouncer's issue is not blamed on the web bouncer's key.
      expect(topCause(await issueFor('bouncer:fw'))).toBe('stopped_or_network');
    });

    it('names a wrong API URL when its requests hit wrong paths', async () => {
      expect(await get(server.url, '//v1/decisions/stream?startup=true', { 'X-Api-Key': 'fw-key', 'User-Agent': FW_UA }, '127.0.0.3')).toBe(404);
      await evaluate();
      const fw = await issueFor('bouncer:fw');
      expect(topCause(fw)).toBe('configuration');
      expect((fw.evidence.causes[0] as { evidence: string[] }).evidence.join('\n')).toContain('//v1/decisions/stream');
    });

    it('resolves by itself when pulls resume, and when a bouncer is deleted', async () => {
      expect(await get(server.url, '/v1/decisions/stream?', { 'X-Api-Key': 'web-key', 'User-Agent': 'crowdsec-nginx-bouncer/v1.0.8' }, '127.0.0.2')).toBe(200);
      const r = await evaluate();
      expect(r.resolved.map((i) => `${i.kind}:${i.subject}`).sort()).toEqual(['rc_integration_offline:bouncer:web', 'se_no_active_rc:fleet']);
      expect(await openIssues()).toEqual(['fw_integration_offline:bouncer:fw']);
      await deleteBouncers(server.store, ['fw']);
      expect((await evaluate()).resolved.map((i) => i.subject)).toEqual(['bouncer:fw']);
      expect(await openIssues()).toEqual([]);
      // History is kept.
      const all = await healthIssues(server.store, { includeResolved: true });
      expect(
        all
          .filter((i) => i.resolvedAt !== null)
          .map((i) => i.kind)
          .sort(),
      ).toEqual(['fw_integration_offline', 'rc_integration_offline', 'se_no_active_rc', 'se_no_rc']);
    });

    it('explains a silence that began at a LAPI restart', async () => {
      const lastPull = clock.now();
      clock.advance(30_000);
      await recordLapiStart(server.store, clock.now(), 'restarted-instance');
      clock.set(lastPull + 24 * H + 1000);
      await evaluate();
      const web = await issueFor('bouncer:web');
      expect(topCause(web)).toBe('lapi_restart');
      expect((web.evidence.causes[0] as { evidence: string[] }).evidence[0]).toContain('it did not reconnect');
    });

    it('serves the admin API only with the admin token, never with a bouncer key', async () => {
      const token = await rotateAdminToken(server.store);
      const url = `${server.url}/admin/v1`;
      expect((await fetch(`${url}/issues`)).status).toBe(401);
      expect((await fetch(`${url}/issues`, { headers: { 'X-Api-Key': 'web-key' } })).status).toBe(401);
      expect((await fetch(`${url}/issues`, { headers: { Authorization: 'Bearer web-key' } })).status).toBe(401);
      const auth = { Authorization: `Bearer ${token}` };
      const issues = await (await fetch(`${url}/issues`, { headers: auth })).json();
      expect(issues.map((i: { kind: string; status: string }) => `${i.kind}:${i.status}`).sort()).toEqual([
        'rc_integration_offline:open',
        'se_no_active_rc:open',
      ]);
      const rc = issues.find((i: { kind: string }) => i.kind === 'rc_integration_offline');
      const one = await (await fetch(`${url}/issues/${rc.id}?deployment=docker`, { headers: auth })).json();
      expect(one.runbook.sections.map((x: { title: string }) => x.title)).toEqual(['Diagnose', 'Resolve', 'Verify']);
      expect((await fetch(`${url}/issues/abc`, { headers: auth })).status).toBe(400);
      expect((await fetch(`${url}/issues/1?deployment=mars`, { headers: auth })).status).toBe(400);
      expect((await fetch(`${url}/issues/999999`, { headers: auth })).status).toBe(404);
      const bouncers = await (await fetch(`${url}/bouncers`, { headers: auth })).json();
      expect(bouncers).toMatchObject([{ name: 'web', health: 'offline', kind: 'remediation', ipAddress: '127.0.0.2' }]);
      const summary = await (await fetch(`${url}/summary`, { headers: auth })).json();
      expect(summary).toMatchObject({ bouncers: { offline: 1 }, openIssues: { critical: 2 } });
      // Rotating the token retires the old one.
      await rotateAdminToken(server.store);
      expect((await fetch(`${url}/issues`, { headers: auth })).status).toBe(401);
    });
  });
}
