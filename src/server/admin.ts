import { META_KEYS } from '../store/meta-keys.ts';
import crypto from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { installErrorHandler } from '../lib/http-errors.ts';
import { createLogger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from '../lib/clock.ts';
import { hashesEqual } from '../core/bouncers/api-key.ts';
import { bouncerStatus } from '../core/health/evaluate.ts';
import { bouncerIdentity, flappingKeys, toHealthInput } from '../health/engine.ts';
import { downtimeLookback, vigilDowntime } from '../health/lapi-alive.ts';
import { issueRunbook, issueStatus } from '../core/health/issue-view.ts';
import type { HealthRules } from '../core/health/types.ts';
import { registerNotifyAdminRoutes } from '../notify/admin-routes.ts';
import { readRunbookSettings } from '../store/runbook-settings.ts';
import { getBouncer, listBouncers } from '../store/bouncers.ts';
import { healthIssue, healthIssues, openHealthIssues } from '../store/health-issues.ts';
import { getMeta, setMeta } from '../store/meta.ts';
import { usageMetricsReceivedAt } from '../store/usage-metrics.ts';

const ADMIN_TOKEN_KEY = META_KEYS.adminToken;

/** Creates (or replaces) the admin token; only its SHA-256 is stored. Returns the token, shown once. */
export async function rotateAdminToken(store: Store): Promise<string> {
  const token = `vigil_${crypto.randomBytes(24).toString('base64url')}`;
  await setMeta(store, ADMIN_TOKEN_KEY, sha256(token));
  return token;
}

function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

export interface AdminAppDeps {
  store: Store;
  clock: Clock;
  rules: HealthRules;
  lapiUrl: () => string;
  /** Also accept a logged-in dashboard session (CSRF-checked for changes) when no bearer token is sent. */
  sessionAuth?: (c: Context) => Promise<'ok' | Response | null>;
  /** Where a request that failed on our side is logged (its answer is a bare 500). */
  log?: Logger;
}

/** The admin token (or, when the dashboard allows it, a logged-in session); anything else is a 401. */
function adminAuth(deps: AdminAppDeps): MiddlewareHandler {
  const unauthorized = (c: Context) => c.json({ message: 'admin token required: Authorization: Bearer <token> (create one with: vigil admin token)' }, 401);
  const { store } = deps;
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    if (header === '' && deps.sessionAuth) {
      const session = await deps.sessionAuth(c);
      if (session === 'ok') return next();
      if (session) return session;
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const stored = await getMeta(store, ADMIN_TOKEN_KEY);
    if (!m || !stored || !hashesEqual(sha256(m[1]!), stored)) return unauthorized(c);
    await next();
  };
}

/**
 * The JSON admin API for the dashboard and automation, under /admin/v1, authenticated with the
 * admin token (`Authorization: Bearer …`), never with a bouncer key.
 */
export function createAdminApp(deps: AdminAppDeps): Hono {
  const { store, clock, rules } = deps;
  const app = new Hono();
  installErrorHandler(app, deps.log ?? createLogger('silent'), 'admin API');
  app.use('*', adminAuth(deps));

  app.get('/bouncers', async (c) => {
    const now = clock.now();
    const list = await listBouncers(store);
    const reported = await usageMetricsReceivedAt(store);
    const downtime = await vigilDowntime(store, downtimeLookback(now, rules), now);
    return c.json(
      list.map((b) => ({
        ...bouncerIdentity(b),
        revoked: b.revoked,
        createdAt: iso(b.createdAt),
        lastPullAt: iso(b.lastPullAt),
        lastRequestAt: iso(b.lastRequestAt),
        pullCadenceMs: b.pullCadenceMs,
        lastUsageMetricsAt: iso(reported.get(b.id) ?? null),
        health: bouncerStatus(toHealthInput(b, reported.get(b.id) ?? null), now, rules, downtime),
      })),
    );
  });

  app.get('/issues', async (c) => {
    const all = c.req.query('all');
    if (all !== undefined && all !== 'true' && all !== 'false') return c.json({ message: 'all: use true or false' }, 400);
    const now = clock.now();
    const [list, flapping] = [await healthIssues(store, { includeResolved: all === 'true' }), await flappingKeys(store, now)];
    return c.json(list.map((i) => ({ ...i, status: issueStatus(i, flapping) })));
  });

  app.get('/issues/:id', async (c) => {
    const id = c.req.param('id');
    if (!/^\d{1,15}$/.test(id)) return c.json({ message: `id "${id}": use a numeric issue id` }, 400);
    // `vigil watch` records CrowdSec's runbook settings (cscli, where it runs) in its store.
    const settings = await readRunbookSettings(store);
    const deployment = c.req.query('deployment') ?? settings?.deployment ?? 'host';
    if (deployment !== 'host' && deployment !== 'docker' && deployment !== 'kubernetes') {
      return c.json({ message: 'deployment: use host, docker or kubernetes' }, 400);
    }
    const issue = await healthIssue(store, Number(id));
    if (!issue) return c.json({ message: `issue ${id} not found` }, 404);
    const bouncer = issue.bouncerName ? await getBouncer(store, issue.bouncerName) : undefined;
    const flapping = await flappingKeys(store, clock.now());
    return c.json({ ...issue, status: issueStatus(issue, flapping), runbook: issueRunbook(issue, bouncer, deps.lapiUrl(), deployment, settings) ?? null });
  });

  app.get('/summary', async (c) => {
    const now = clock.now();
    const bouncers = await listBouncers(store);
    const reported = await usageMetricsReceivedAt(store);
    const byStatus: Record<string, number> = { healthy: 0, late: 0, offline: 0, never_pulled: 0, revoked: 0 };
    const downtime = await vigilDowntime(store, downtimeLookback(now, rules), now);
    for (const b of bouncers) byStatus[bouncerStatus(toHealthInput(b, reported.get(b.id) ?? null), now, rules, downtime)]!++;
    const byCriticality: Record<string, number> = { critical: 0, high: 0, warning: 0, recommended: 0 };
    for (const i of await openHealthIssues(store)) byCriticality[i.criticality] = (byCriticality[i.criticality] ?? 0) + 1;
    return c.json({ bouncers: byStatus, openIssues: byCriticality });
  });

  registerNotifyAdminRoutes(app, { store, clock });

  return app;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
