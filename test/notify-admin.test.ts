import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { useInProcessServer } from './support/in-process-server.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { rotateAdminToken } from '../src/server/admin.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { resolveHealthIssue } from '../src/store/health-issues.ts';

/**
 * The admin API's silences and acknowledgements (what the dashboard builds on), over real HTTP
 * against `vigil serve`: the JSON shapes, the status codes, and that a bouncer key never works.
 */
const T0 = Date.UTC(2026, 10, 5, 8, 0, 0);
const H = 3600_000;

for (const dialect of DIALECTS) {
  describe(`${dialect}: admin API for silences and acknowledgements`, () => {
    let token: string;
    const clock = new ManualClock(T0);
    const server = useInProcessServer(
      dialect,
      clock,
      () => {},
      () => ({ env: {} }),
    );
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${server().url}/admin/v1${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
      });
    const post = (path: string, body: unknown) => api(path, { method: 'POST', body: JSON.stringify(body) });
    let fleetIssue: number;

    beforeAll(async () => {
      token = await rotateAdminToken(server().store);
      // No bouncer yet: se_no_rc opens at the first evaluation.
      fleetIssue = (await server().health.evaluateNow()).opened[0]!.id;
      await createBouncer(server().store, { name: 'web', apiKeyHash: hashApiKey('web-key'), now: T0 });
    });

    it('silences an issue and lists, then removes, the silence', async () => {
      const r = await post(`/issues/${fleetIssue}/silence`, { for: '8h', reason: 'planned maintenance' });
      expect(r.status).toBe(201);
      const s = await r.json();
      expect(s).toEqual({
        id: expect.any(Number),
        issueId: fleetIssue,
        bouncer: null,
        reason: 'planned maintenance',
        createdBy: 'admin-api',
        createdAt: new Date(T0).toISOString(),
        kind: null,
        machine: null,
        labels: null,
        startsAt: new Date(T0).toISOString(),
        endsAt: new Date(T0 + 8 * H).toISOString(),
        removedAt: null,
        every: null,
        active: true,
        nextWindowAt: null,
      });
      expect((await (await api('/silences')).json()).map((x: { id: number }) => x.id)).toEqual([s.id]);

      clock.advance(H);
      const del = await api(`/silences/${s.id}`, { method: 'DELETE' });
      expect(del.status).toBe(200);
      expect(await del.json()).toMatchObject({ id: s.id, active: false, removedAt: new Date(T0 + H).toISOString() });
      expect(await (await api('/silences')).json()).toEqual([]);
      expect((await (await api('/silences?all=true')).json()).map((x: { id: number }) => x.id)).toEqual([s.id]);
      // Removing it again says so.
      const again = await api(`/silences/${s.id}`, { method: 'DELETE' });
      expect(again.status).toBe(409);
      expect((await again.json()).message).toContain(`silence ${s.id} already ended`);
    });

    it('silences a bouncer, including issues that open later', async () => {
      const r = await post('/silences', { bouncer: 'web', for: '2h', reason: 'nginx upgrade' });
      expect(r.status).toBe(201);
      expect(await r.json()).toMatchObject({ issueId: null, bouncer: 'web', active: true });
      const unknown = await post('/silences', { bouncer: 'nope', for: '2h', reason: 'x' });
      expect(unknown.status).toBe(404);
      expect((await unknown.json()).message).toBe("bouncer 'nope' doesn't exist (see: vigil bouncers list; a glob such as 'edge-*' matches later ones too)");
    });

    it('silences by glob, kind and label, later or inside a recurring window', async () => {
      const r = await post('/silences', {
        bouncer: 'edge-*',
        kind: 'rc_integration_offline',
        labels: { bouncer_kind: 'remediation' },
        in: '1h',
        every: { at: '02:00', lasting: '30m', days: ['sun'], timezone: 'Europe/Paris' },
        for: '30d',
        reason: 'Sunday reboots',
      });
      expect(r.status).toBe(201);
      expect(await r.json()).toMatchObject({
        bouncer: 'edge-*',
        kind: 'rc_integration_offline',
        labels: { bouncer_kind: 'remediation' },
        startsAt: new Date(clock.now() + H).toISOString(),
        every: { at: '02:00', lastingMs: 30 * 60_000, days: ['sun'], timeZone: 'Europe/Paris' },
        active: false,
      });
    });

    it('acknowledges an issue once; a second ack returns the first', async () => {
      const r = await post(`/issues/${fleetIssue}/ack`, { reason: 'on it' });
      expect(r.status).toBe(201);
      expect(await r.json()).toEqual({ issueId: fleetIssue, reason: 'on it', createdBy: 'admin-api', createdAt: new Date(clock.now()).toISOString() });
      const again = await api(`/issues/${fleetIssue}/ack`, { method: 'POST' });
      expect(again.status).toBe(200);
      expect((await again.json()).reason).toBe('on it');
      expect(await (await api('/acks')).json()).toEqual([
        { issueId: fleetIssue, reason: 'on it', createdBy: 'admin-api', createdAt: new Date(clock.now()).toISOString() },
      ]);
    });

    it('refuses bad input with the field and the fix', async () => {
      const cases: Array<[string, unknown, number, string]> = [
        [`/issues/${fleetIssue}/silence`, { reason: 'x' }, 400, 'for: how long, e.g. 8h or 2d'],
        [`/issues/${fleetIssue}/silence`, { for: '8x', reason: 'x' }, 400, 'for "8x"'],
        [`/issues/${fleetIssue}/silence`, { for: '8h' }, 400, 'reason: say why'],
        [`/issues/${fleetIssue}/silence`, { for: 8, reason: 'x' }, 400, 'for: must be a string'],
        ['/issues/999999/silence', { for: '8h', reason: 'x' }, 404, "issue 999999 doesn't exist"],
        ['/issues/abc/silence', { for: '8h', reason: 'x' }, 400, 'id "abc": use a numeric issue id'],
        ['/silences', { issueId: fleetIssue, bouncer: 'web', for: '1h', reason: 'x' }, 400, 'give it alone, not both it and a bouncer'],
        ['/silences', { for: '1h', reason: 'x' }, 400, 'say what to silence'],
        ['/silences', { kind: 'nope', for: '1h', reason: 'x' }, 400, 'kind "nope": not an issue kind'],
        ['/silences', { bouncer: 'edge-*', every: { at: '25:00', lasting: '30m' }, for: '30d', reason: 'x' }, 400, 'every at "25:00": a 24-hour time'],
        ['/issues/999999/ack', {}, 404, "issue 999999 doesn't exist"],
      ];
      for (const [path, body, status, message] of cases) {
        const r = await post(path, body);
        expect({ path, status: r.status }).toEqual({ path, status });
        expect((await r.json()).message).toContain(message);
      }
      const notJson = await api(`/issues/${fleetIssue}/silence`, { method: 'POST', body: '{nope' });
      expect(notJson.status).toBe(400);
      expect((await notJson.json()).message).toContain('body: send a JSON object');
      expect((await api('/silences/abc', { method: 'DELETE' })).status).toBe(400);
      expect((await api('/silences/424242', { method: 'DELETE' })).status).toBe(404);
    });

    it('refuses a resolved issue (409) and any request without the admin token', async () => {
      await resolveHealthIssue(server().store, fleetIssue, clock.now());
      const r = await post(`/issues/${fleetIssue}/silence`, { for: '1h', reason: 'x' });
      expect(r.status).toBe(409);
      expect((await r.json()).message).toContain('already resolved');
      // Resolved: its acknowledgement is no longer listed.
      expect(await (await api('/acks')).json()).toEqual([]);
      const noToken = await fetch(`${server().url}/admin/v1/silences`, { headers: { 'X-Api-Key': 'web-key' } });
      expect(noToken.status).toBe(401);
    });
  });
}
