import type { Context, Hono } from 'hono';
import type { Clock } from '../lib/clock.ts';
import { z } from 'zod';
import { httpErrorOf } from '../lib/http-errors.ts';
import { readJsonBody } from '../lib/json-body.ts';
import type { Store } from '../store/store.ts';
import { NotifyStore } from '../store/notify-store.ts';
import { ackJson, acknowledgeIssue, createSilence, silenceJson, type SilenceRequest } from './silence-commands.ts';
import { openHealthIssues } from '../store/health-issues.ts';

const ID = /^\d{1,15}$/;

const text = z.string({ error: 'must be a string' }).optional().nullable();
const SILENCE_BODY = z.object({ for: text, reason: text });
const ACK_BODY = z.object({ reason: text });
const NEW_SILENCE_BODY = z.object({
  issueId: z
    .number({ error: 'must be a positive integer' })
    .int({ error: 'must be a positive integer' })
    .positive({ error: 'must be a positive integer' })
    .optional(),
  bouncer: text,
  kind: text,
  machine: text,
  labels: z
    .record(z.string(), z.string({ error: 'must be a string' }), { error: 'must be an object of strings' })
    .optional()
    .nullable(),
  start: text,
  in: text,
  every: z
    .object(
      { at: z.string(), lasting: z.string(), days: z.array(z.string()).optional(), timezone: z.string().optional() },
      { error: 'must be {at, lasting, days, timezone}' },
    )
    .strict()
    .optional()
    .nullable(),
  for: text,
  reason: text,
});
const orUndefined = (v: string | null | undefined) => v ?? undefined;

/** Known errors become their status and `{ "message": … }`; others go to the app's error handler. */
const handle = (fn: (c: Context) => Promise<Response>) => async (c: Context) => {
  try {
    return await fn(c);
  } catch (e) {
    const known = httpErrorOf(e);
    if (known) return c.body(known.body, known.status, { 'Content-Type': 'application/json; charset=utf-8' });
    throw e;
  }
};
/** As `handle`, for a route on one issue or silence: its `:id` as a number, a 400 naming it when it is not one. */
const handleOne = (what: 'issue' | 'silence', fn: (c: Context, id: number) => Promise<Response>) =>
  handle(async (c) => {
    const id = c.req.param('id')!;
    if (!ID.test(id)) return c.json({ message: `id "${id}": use a numeric ${what} id` }, 400);
    return await fn(c, Number(id));
  });
// Who made a silence or an acknowledgement, in `vigil silences list` and the issue's history.
const createdBy = 'admin-api';

type NotifyAdminDeps = { store: Store; clock: Clock };

/** Both ways to silence (one issue, or by matchers) answer 201 with the silence as listed. */
async function silenceCreated(c: Context, { store, clock }: NotifyAdminDeps, req: Omit<SilenceRequest, 'createdBy' | 'now'>): Promise<Response> {
  const now = clock.now();
  const s = await createSilence(store, { ...req, createdBy, now });
  return c.json(silenceJson(s, now), 201);
}

/**
 * Silences and acknowledgements on the admin API (same token, under /admin/v1):
 * `POST /issues/:id/silence`, `POST /issues/:id/ack`, `GET /acks`, `GET /silences`,
 * `POST /silences`, `DELETE /silences/:id`. Errors are `{ "message": … }` with 400, 404 or 409.
 */
export function registerNotifyAdminRoutes(app: Hono, deps: NotifyAdminDeps): void {
  registerIssueRoutes(app, deps);
  registerSilenceRoutes(app, deps);
}

/** Silence or acknowledge one issue; the acknowledgements of the open issues. */
function registerIssueRoutes(app: Hono, deps: NotifyAdminDeps): void {
  const { store, clock } = deps;
  app.post(
    '/issues/:id/silence',
    handleOne('issue', async (c, id) => {
      const body = await readJsonBody(c, SILENCE_BODY, '{"for":"8h","reason":"planned upgrade"}');
      return await silenceCreated(c, deps, { issueId: id, for: orUndefined(body.for), reason: orUndefined(body.reason) });
    }),
  );

  app.post(
    '/issues/:id/ack',
    handleOne('issue', async (c, id) => {
      const body = await readJsonBody(c, ACK_BODY, '{"reason":"looking into it"}');
      const { ack, created } = await acknowledgeIssue(store, {
        issueId: id,
        reason: orUndefined(body.reason),
        createdBy,
        now: clock.now(),
      });
      return c.json(ackJson(ack), created ? 201 : 200);
    }),
  );

  app.get(
    '/acks',
    handle(async (c) => {
      // The acknowledgements of the issues open now (an acknowledgement ends with its issue).
      const open = (await openHealthIssues(store)).map((i) => i.id);
      const acks = await new NotifyStore(store).acknowledgements(open);
      return c.json([...acks.values()].sort((a, b) => a.issueId - b.issueId).map(ackJson));
    }),
  );
}

/** Silences by issue or bouncer pattern: list, create, end. */
function registerSilenceRoutes(app: Hono, deps: NotifyAdminDeps): void {
  const { store, clock } = deps;
  app.get(
    '/silences',
    handle(async (c) => {
      const all = c.req.query('all');
      if (all !== undefined && all !== 'true' && all !== 'false') return c.json({ message: 'all: use true or false' }, 400);
      const now = clock.now();
      const list = await new NotifyStore(store).silences(now, { includeEnded: all === 'true' });
      return c.json(list.map((s) => silenceJson(s, now)));
    }),
  );

  app.post(
    '/silences',
    handle(async (c) => {
      const body = await readJsonBody(c, NEW_SILENCE_BODY, '{"bouncer":"edge-*","for":"2d","reason":"maintenance"}');
      return await silenceCreated(c, deps, {
        issueId: body.issueId,
        bouncer: orUndefined(body.bouncer),
        kind: orUndefined(body.kind),
        machine: orUndefined(body.machine),
        labels: body.labels ? Object.entries(body.labels).map(([k, v]) => `${k}=${v}`) : undefined,
        start: orUndefined(body.start),
        in: orUndefined(body.in),
        every: body.every ? { at: body.every.at, lasting: body.every.lasting, days: body.every.days ?? [], timeZone: body.every.timezone ?? 'UTC' } : undefined,
        for: orUndefined(body.for),
        reason: orUndefined(body.reason),
      });
    }),
  );

  app.delete(
    '/silences/:id',
    handleOne('silence', async (c, id) => {
      const now = clock.now();
      const s = await new NotifyStore(store).removeSilence(id, now);
      return c.json(silenceJson(s, now));
    }),
  );
}
