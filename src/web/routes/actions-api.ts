/** The JSON API behind the pages' buttons: the session, adding and deleting decisions, every change CSRF-checked. */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { buildDecision, manualAlert } from '../../core/decisions/new-decisions.ts';
import { readJsonBody } from '../../lib/json-body.ts';
import { allowlistMatches } from '../../store/allowlists.ts';
import { addDecisions, softDeleteDecisions } from '../../store/decisions.ts';
import type { DashboardContext, Env } from '../context.ts';

/** Who made dashboard decisions, as cscli's manual decisions name their machine. */
export const DASHBOARD_MACHINE_ID = 'vigil-dashboard';

/** The JSON API of the pages' actions: CSRF-checked changes, the session, adding and deleting decisions. */
export function registerActionsApi(app: Hono<Env>, ui: DashboardContext): void {
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const refused = ui.csrfRefusal(c, ui.sessionIn(c), c.req.header('x-csrf-token'));
    if (refused) return refused;
    await next();
  });

  app.get('/api/session', (c) => c.json({ via: ui.sessionIn(c).via, expiresAt: new Date(ui.sessionIn(c).expiresAt).toISOString() }));
  app.post('/api/decisions', (c) => addDecision(c, ui));
  app.delete('/api/decisions/:id', (c) => deleteDecision(c, ui));
}

/** A manual decision from the dashboard, validated and recorded as `vigil decisions add` does. */
async function addDecision(c: Context<Env>, ui: DashboardContext): Promise<Response> {
  const { store, clock, log, sync } = ui;
  if (!sync) return c.json({ message: 'decisions are not managed here' }, 404);
  const body = await readJsonBody(c, NEW_DECISION_BODY, '{"value":"192.0.2.1","type":"ban","duration":"4h"}');
  const field = (k: keyof typeof body) => body[k] ?? '';
  const value = field('value').trim();
  const type = field('type').trim() || 'ban';
  const now = clock.now();
  const reason = field('reason').trim() || `manual '${type}' from '${DASHBOARD_MACHINE_ID}'`;
  // Same validation and records as `vigil decisions add` (cscli's origin, a manual alert).
  const d = buildDecision(
    { scope: value.includes('/') ? 'Range' : 'Ip', value, type, duration: field('duration').trim() || '4h', reason, origin: 'cscli' },
    now,
  );
  // As `vigil decisions add` (cscli 1.6.6+): an allowlisted address or range is refused unless bypassed.
  if (field('bypass_allowlist') !== 'on') {
    const items = await allowlistMatches(store, d.value, now);
    if (items.length > 0) {
      return c.json({ message: `value: ${d.value} is allowlisted by item ${items.join(', ')}; tick "add even if allowlisted" to add it anyway` }, 409);
    }
  }
  const { decisionIds } = await addDecisions(
    store,
    manualAlert({ now, scenario: reason, scope: d.scope, value: d.value, count: 1, machineId: DASHBOARD_MACHINE_ID }),
    [d],
  );
  await sync.refresh();
  log.info(
    { decision: decisionIds[0], scope: d.scope, value: d.value, type: d.type, until: new Date(d.until).toISOString() },
    'decision added from the dashboard',
  );
  return c.json({ id: decisionIds[0], scope: d.scope, value: d.value, type: d.type, until: new Date(d.until).toISOString() }, 201);
}

/** A decision deleted from the dashboard (soft, as `vigil decisions delete`), and the index refreshed. */
async function deleteDecision(c: Context<Env, '/api/decisions/:id'>, ui: DashboardContext): Promise<Response> {
  const { store, clock, log, sync } = ui;
  const id = c.req.param('id');
  if (!sync) return c.json({ message: 'decisions are not managed here' }, 404);
  if (!/^\d{1,15}$/.test(id)) return c.json({ message: `id "${id}": use the numeric decision id` }, 400);
  const n = await softDeleteDecisions(store, [Number(id)], clock.now());
  if (n === 0) return c.json({ message: `decision ${id} is not active (it expired or was deleted already)` }, 404);
  await sync.refresh();
  log.info({ decision: Number(id) }, 'decision deleted from the dashboard');
  return c.json({ deleted: n });
}

/** A decision added from the dashboard: every field a string, checked further as `vigil decisions add` checks it. */
const NEW_DECISION_BODY = z.object({
  value: z.string({ error: 'must be a string (an IP address or a range)' }).optional(),
  type: z.string({ error: 'must be a string, e.g. ban' }).optional(),
  duration: z.string({ error: 'must be a string, e.g. 4h' }).optional(),
  reason: z.string({ error: 'must be a string' }).optional(),
  // A checkbox: "on" when ticked, absent otherwise.
  bypass_allowlist: z.string({ error: 'must be a string: "on" to add an allowlisted value anyway' }).optional(),
});
