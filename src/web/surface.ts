/**
 * Where the admin API (/admin/v1) and the dashboard (/ui) are served (`admin_listen`): on the Local
 * API listener (`lapi`, the default), on a listener of their own (`HOST:PORT`), or not at all
 * (`off`). Neither is ever served without authentication: the admin API wants the admin token or a
 * dashboard session, every dashboard page but the login wants a session.
 */
import http from 'node:http';
import { listenOn } from '../server/listen.ts';
import { ADMIN_MOUNT, DASHBOARD_MOUNT, isUnder } from '../server/routes.ts';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { getRequestListener } from '@hono/node-server';
import type { VigilConfig } from '../config/config.ts';
import type { ListenAddress } from '../lib/listen-address.ts';
import { formatListen } from '../lib/listen-address.ts';
import type { Store } from '../store/store.ts';
import { createDashboard, isLoopback, type AdminSessionAuth, type Dashboard } from './dashboard.ts';
import { prepareDashboardPassword, storeDashboardPassword } from './credentials.ts';
import type { DashboardDeps } from './context.ts';

// biome-ignore lint/suspicious/noExplicitAny: Hono apps and @hono/node-server disagree on the env type; this layer only passes it through.
type Fetch = (request: Request, env?: any) => Response | Promise<Response>;

export interface WebSurface {
  /** Where /admin/v1 goes: 'lapi' (the LAPI app mounts it), 'own' (our listener), or null (off). */
  adminOn: 'lapi' | 'own' | null;
  /** For createAdminApp: dashboard sessions may use the admin API too. */
  adminAuth: AdminSessionAuth | undefined;
  /** Hands over the admin API app (to serve on our own listener, and to learn its endpoints). */
  attachAdmin(admin: import('hono').Hono | undefined): void;
  /** Wraps the LAPI listener's fetch so /ui reaches the dashboard when it shares that listener. */
  onLapiListener(fetch: Fetch): Fetch;
  /** Once the LAPI listens: opens our own listener if configured. */
  start(lapiUrl: string): Promise<void>;
  /** The dashboard's address once started; null when off. */
  dashboardUrl: string | null;
  dashboard: Dashboard | null;
  close(): Promise<void>;
}

/** The dashboard's own dependencies, and where it listens with the password handed over on first start. */
export interface WebSurfaceDeps extends Pick<DashboardDeps, 'store' | 'clock' | 'rules' | 'sync' | 'log' | 'lapiUrl' | 'livePollMs'> {
  config: Pick<VigilConfig, 'adminListen' | 'adminSessionTtlMs' | 'listen'> & Partial<Pick<VigilConfig, 'adminTrustedProxies'>>;
  /**
   * Creates the dashboard password on first start and hands it over, with the dashboard's
   * configured address, to be printed once.
   */
  firstStartPassword?: (password: string, dashboardUrl: string) => void;
}
/** The dashboard's mount and home page, as the Local API's route table (server/routes.ts) has them. */
const isDashboardPath = (path: string) => isUnder(path, DASHBOARD_MOUNT);
const DASHBOARD_HOME = `${DASHBOARD_MOUNT}/`;

export async function createWebSurface(deps: WebSurfaceDeps): Promise<WebSurface> {
  const where = deps.config.adminListen;
  if (where === null) return surfaceOff();
  const { config, firstStartPassword, ...dashboardDeps } = deps;
  const dashboard = await createDashboard({ ...dashboardDeps, sessionTtlMs: config.adminSessionTtlMs, trustedProxies: config.adminTrustedProxies });
  const dashboardFetch = dashboard.app.fetch as Fetch;
  if (deps.firstStartPassword) await showFirstStartPassword(deps.store, deps.firstStartPassword, where === 'lapi' ? deps.config.listen : where);
  let adminApp: Hono | undefined;
  let server: http.Server | undefined;
  let closing: Promise<void> | undefined;

  const surface: WebSurface = {
    adminOn: where === 'lapi' ? 'lapi' : 'own',
    adminAuth: dashboard.adminAuth,
    dashboard,
    dashboardUrl: null,
    attachAdmin(admin) {
      adminApp = admin ? new Hono().route(ADMIN_MOUNT, admin) : undefined;
      if (admin) dashboard.attachAdmin(admin);
    },
    onLapiListener(fetch) {
      if (where !== 'lapi') return fetch;
      return (req, env) => (isDashboardPath(new URL(req.url).pathname) ? dashboardFetch(req, env) : fetch(req, env));
    },
    async start(lapiUrl) {
      let base = lapiUrl;
      let bound: ListenAddress = deps.config.listen;
      if (where !== 'lapi') {
        server = await listen(
          where,
          ownFetch(dashboardFetch, () => adminApp),
        );
        const addr = server.address() as AddressInfo;
        bound = { host: addr.address, port: addr.port };
        base = `http://${formatListen(bound)}`;
      }
      surface.dashboardUrl = `${base}${DASHBOARD_HOME}`;
      if (!isLoopback(bound.host)) {
        deps.log.warn(
          { listen: formatListen(bound) },
          `the admin API and dashboard listen on ${formatListen(bound)}, reachable from other hosts over plain HTTP (login required): put TLS in front, or keep them local with admin_listen: 127.0.0.1:8081`,
        );
      }
    },
    close() {
      // Once: serve ends the dashboard's live streams before its listeners close, then again in the part's own place.
      closing ??= (async () => {
        await dashboard.close();
        if (server) {
          const s = server;
          await new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeIdleConnections();
          });
        }
      })();
      return closing;
    },
  };
  return surface;
}

/** `admin_listen: off`: no admin API, no dashboard. */
function surfaceOff(): WebSurface {
  return {
    adminOn: null,
    adminAuth: undefined,
    attachAdmin() {},
    onLapiListener: (fetch) => fetch,
    async start() {},
    dashboardUrl: null,
    dashboard: null,
    async close() {},
  };
}

/**
 * Before anything listens (scrypt takes a moment, and a start that fails later has printed it
 * anyway), with the configured address: the password is never created without being shown.
 */
async function showFirstStartPassword(store: Store, show: (password: string, dashboardUrl: string) => void, at: ListenAddress): Promise<void> {
  const prepared = await prepareDashboardPassword(store);
  const password = prepared ? await storeDashboardPassword(store, prepared) : null;
  if (password) show(password, `http://${formatListen(at)}${DASHBOARD_HOME}`);
}

/** Our own listener: the dashboard, the admin API, and / sending a browser to the dashboard. */
function ownFetch(dashboardFetch: Fetch, admin: () => Hono | undefined): Fetch {
  return (req, env) => {
    const path = new URL(req.url).pathname;
    if (isDashboardPath(path)) return dashboardFetch(req, env);
    const a = admin();
    if (a && isUnder(path, ADMIN_MOUNT)) return a.fetch(req, env);
    if (path === '/') return new Response(null, { status: 303, headers: { Location: DASHBOARD_HOME } });
    return new Response('{"message":"not found"}', { status: 404, headers: { 'Content-Type': 'application/json; charset=utf-8' } });
  };
}

async function listen(at: ListenAddress, fetch: Fetch): Promise<http.Server> {
  const server = http.createServer(getRequestListener(fetch));
  await listenOn(server, at, 'admin_listen', 'pick another (or admin_listen: lapi to share the Local API listener)');
  return server;
}
