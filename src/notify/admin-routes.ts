import type { Context, Hono } from 'hono';
import type { Clock } from '../lib/clock.ts';
import { httpErrorOf } from '../lib/http-errors.ts';
import type { Store } from '../store/store.ts';
import { NotifyStore } from '../store/notify-store.ts';
import { ackJson, acknowledgeIssue, createSilence, silenceJson } from './silence-commands.ts';

const ID = /^\d{1,15}$/;

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw Object.assign(new Error('body: send a JSON object, e.g. {"for":"8h","reason":"planned upgrade"}'), { status: 400 });
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw Object.assign(new Error(`${key}: must be a string`), { status: 400 });
  return v;
}

/**
 * Silences and acknowledgements on the admin API (same token, under /admin/v1):
 * `POST /issues/:id/silence`, `POST /issues/:id/ack`, `GET /acks`, `GET /silences`,
 * `POST /silences`, `DELETE /silences/:id`. Errors are `{ "message": … }` with 400, 404 or 409.
 */
export function registerNotifyAdminRoutes(app: Hono, deps: { store: Store; clock: Clock }): void {
  const { store, clock } = deps;
  const handle = (fn: (c: Context) => Promise<Response>) => async (c: Context) => {
    try {
      return await fn(c);
    } catch (e) {
      const known = httpErrorOf(e);
      if (known) return c.body(known.body, known.status, { 'Content-Type': 'application/json; charset=utf-8' });
      const status = (e as { status?: number }).status;
      if (status === 400) return c.json({ message: (e as Error).message }, 400);
      throw e;
    }
  };
  const badId = (c: Context, id: string, what: string) => c.json({ message: `id "${id}": use a numeric ${what} id` }, 400);

  app.post(
    '/issues/:id/silence',
    handle(async (c) => {
      const id = c.req.param('id')!;
      if (!ID.test(id)) return badId(c, id, 'issue');
      const body = await jsonBody(c);
      const now = clock.now();
      const s = await createSilence(store, {
        issueId: Number(id),
        for: optionalString(body, 'for'),
        reason: optionalString(body, 'reason'),
        createdBy: 'admin-api',
        now,
      });
      return c.json(silenceJson(s, now), 201);
    }),
  );

  app.post(
    '/issues/:id/ack',
    handle(async (c) => {
      const id = c.req.param('id')!;
      if (!ID.test(id)) return badId(c, id, 'issue');
      const body = await jsonBody(c);
      const { ack, created } = await acknowledgeIssue(store, {
        issueId: Number(id),
        reason: optionalString(body, 'reason'),
        createdBy: 'admin-api',
        now: clock.now(),
      });
      return c.json(ackJson(ack), created ? 201 : 200);
    }),
  );

  app.get(
    '/acks',
    handle(async (c) => {
      // The acknowledgements of the issues open now (an acknowledgement ends with its issue).
      const open = (await store.openHealthIssues()).map((i) => i.id);
      const acks = await new NotifyStore(store).acknowledgements(open);
      return c.json([...acks.values()].sort((a, b) => a.issueId - b.issueId).map(ackJson));
    }),
  );

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
      const body = await jsonBody(c);
      const issueId = body.issueId;
      if (issueId !== undefined && (typeof issueId !== 'number' || !Number.isSafeInteger(issueId) || issueId < 1)) {
        return c.json({ message: 'issueId: must be a positive integer' }, 400);
      }
      const now = clock.now();
      const s = await createSilence(store, {
        issueId: issueId as number | undefined,
        bouncer: optionalString(body, 'bouncer'),
        for: optionalString(body, 'for'),
        reason: optionalString(body, 'reason'),
        createdBy: 'admin-api',
        now,
      });
      return c.json(silenceJson(s, now), 201);
    }),
  );

  app.delete(
    '/silences/:id',
    handle(async (c) => {
      const id = c.req.param('id')!;
      if (!ID.test(id)) return badId(c, id, 'silence');
      const now = clock.now();
      const s = await new NotifyStore(store).removeSilence(Number(id), now);
      return c.json(silenceJson(s, now));
    }),
  );
}
