/** The pages behind the login (fleet, issues, one issue, one bouncer, decisions) and the logout. */
import type { Hono } from 'hono';
import { deleteCookie } from 'hono/cookie';
import type { Deployment } from '../../core/health/runbooks/index.ts';
import type { DashboardContext, Env } from '../context.ts';
import { issueMarks } from '../issue-marks.ts';
import { bouncerPage } from '../pages/bouncer.ts';
import { decisionsPage } from '../pages/decisions.ts';
import { fleetPage } from '../pages/fleet.ts';
import { issuePage, issuesPage, issueTitle } from '../pages/issues.ts';
import { SESSION_COOKIE } from '../session.ts';

/** Rows the fleet table draws unless asked for all: problems come first, so none is hidden behind healthy ones. */
export const FLEET_ROWS = 200;

/** The logout and the pages: fleet, issues, one issue, one bouncer, decisions. */
export function registerPages(app: Hono<Env>, ui: DashboardContext): void {
  const { store, clock, data } = ui;
  app.post('/logout', async (c) => {
    const s = ui.sessionIn(c);
    const form = await c.req.parseBody();
    const refused = ui.csrfRefusal(c, s, c.req.header('x-csrf-token') ?? (typeof form.csrf === 'string' ? form.csrf : undefined));
    if (refused) return refused;
    await ui.ended.end(s, clock.now());
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: ui.isHttps(c) });
    return c.redirect('/ui/login', 303);
  });

  app.get('/', async (c) => {
    const s = ui.sessionIn(c);
    const all = c.req.query('all') === '1';
    return ui.page(c, s, 'Fleet', 'fleet', fleetPage(await data.fleet(clock.now(), all ? Infinity : FLEET_ROWS)));
  });

  app.get('/issues', async (c) => {
    const s = ui.sessionIn(c);
    const now = clock.now();
    const all = c.req.query('all') === '1';
    const rows = await data.issues(now, all);
    const marks = await issueMarks(store, rows, now);
    return ui.page(c, s, 'Issues', 'issues', issuesPage(rows, marks, now, all));
  });

  app.get('/issues/:id', async (c) => {
    const s = ui.sessionIn(c);
    const id = c.req.param('id');
    const deployment = c.req.query('deployment') as Deployment | undefined;
    if (!/^\d{1,15}$/.test(id) || (deployment !== undefined && !['host', 'docker', 'kubernetes'].includes(deployment))) return ui.notFound(c, s);
    const now = clock.now();
    const v = await data.issue(Number(id), now, deployment);
    if (!v) return ui.notFound(c, s);
    const marks = (await issueMarks(store, [v.issue], now)).get(v.issue.id);
    return ui.page(c, s, `#${v.issue.id} ${issueTitle(v.issue)}`, 'issues', issuePage(v, marks, ui.actions));
  });

  app.get('/bouncers/:name', async (c) => {
    const s = ui.sessionIn(c);
    const v = await data.bouncer(c.req.param('name'), clock.now());
    if (!v) return ui.notFound(c, s);
    return ui.page(c, s, v.row.name, 'fleet', bouncerPage(v));
  });

  app.get('/decisions', async (c) => {
    const s = ui.sessionIn(c);
    if (!ui.sync) return ui.notFound(c, s);
    const v = data.decisions(c.req.query('q'), clock.now());
    return ui.page(c, s, 'Decisions', 'decisions', decisionsPage(v), v.query.kind === 'invalid' ? 400 : 200);
  });
}
