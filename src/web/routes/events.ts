/** GET /ui/events: the open pages' live updates. */
import type { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import type { DashboardContext, Env } from '../context.ts';
import { SESSION_COOKIE } from '../session.ts';

/** Live updates (Server-Sent Events): `refresh` when the data changed, `ping` to keep proxies open, `expired` when the session ends. */
export function registerLiveEvents(app: Hono<Env>, ui: DashboardContext): void {
  const { live, streams } = ui;
  app.get('/events', (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    // nginx would hold the events in its buffer (proxy_buffering is on by default): pass them as they come.
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => (finish = resolve));
      streams.add(finish);
      stream.onAbort(finish);
      // The session can end while the page stays open: say so, and the page goes to the login.
      const stillValid = async () => (await ui.validSession(cookie)) !== null;
      const send = async (event: string, payload: string) => {
        if (event !== 'expired' && !(await stillValid())) {
          await stream.writeSSE({ event: 'expired', data: '' }).catch(() => {});
          finish();
          return;
        }
        await stream.writeSSE({ event, data: payload }).catch(finish);
      };
      const unsubscribe = live.subscribe((version) => void send('refresh', String(version)));
      const keepAlive = setInterval(() => void send('ping', ''), 25_000);
      keepAlive.unref();
      try {
        await stream.writeSSE({ event: 'hello', data: String(live.version), retry: 3000 });
        void live.poll();
        await finished;
      } finally {
        clearInterval(keepAlive);
        unsubscribe();
        streams.delete(finish);
      }
    });
  });
}
