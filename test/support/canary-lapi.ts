import type { HealthIssue } from '../../src/core/model/health-issue.ts';
import { systemClock } from '../../src/lib/clock.ts';
import type { ForwardAuthServer } from '../../src/remediation/forward-auth/server.ts';
import { startForwardAuthDaemon, startTestLapi, type TestLapi } from '../remediation-helpers.ts';
import { activeDecisions } from '../../src/store/decisions.ts';
import { openHealthIssues } from '../../src/store/health-issues.ts';
import type { Cleanups } from './cleanups.ts';
import { closeUpstream, startUpstream, type Upstream } from './forward-auth-cases.ts';
import { freePort } from './processes.ts';

/**
 * A real `vigil serve` (SQLite, port 0) whose vigil.yaml holds `canaries:`, and a real
 * forward-auth daemon pulling from it: what the canary tests put a real nginx or Caddy in front of.
 * The health engine evaluates only when a canary run or a drift observation asks it to
 * (health.evaluate_every 0), so an issue opening proves the canary raised it.
 */
export interface CanaryLapi extends TestLapi {
  /** The forward-auth daemon as bouncer `name`, trusting X-Forwarded-For from 127.0.0.1. */
  forwardAuth(name: string): Promise<ForwardAuthServer>;
  openIssues(kind: string): Promise<HealthIssue[]>;
  /** Active decisions for `ip` (none must be left by a canary). */
  activeFor(ip: string): Promise<number>;
}

export async function startCanaryLapi(canariesYaml: string): Promise<CanaryLapi> {
  const base = await startTestLapi(systemClock, { vigilYaml: `canaries:\n${canariesYaml}` });
  const { server } = base;
  const daemons: ForwardAuthServer[] = [];
  let closed = false;
  return {
    ...base,
    async forwardAuth(name) {
      const key = await base.addBouncer(name);
      const fa = await startForwardAuthDaemon({
        dir: base.dir,
        name,
        apiUrl: base.url,
        key,
        updateFrequency: '200ms',
        trustedProxies: ['127.0.0.1'],
        captchaDifficulty: 12,
      });
      daemons.push(fa);
      return fa;
    },
    async openIssues(kind) {
      return (await openHealthIssues(server.store)).filter((i) => i.kind === kind);
    },
    async activeFor(ip) {
      return (await activeDecisions(server.store, Date.now())).filter((d) => d.value === ip).length;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const d of daemons) await d.close();
      await base.close();
    },
  };
}

/** A site a canary test puts a real proxy in front of: its address, the LAPI running the canaries, the daemon and the upstream. */
export interface CanarySite {
  /** The site's port and URL, chosen before the LAPI starts (its canaries name the URL). */
  port: number;
  url: string;
  lapi: CanaryLapi;
  /** The forward-auth daemon the proxy asks, as bouncer `bouncer`. */
  fa: ForwardAuthServer;
  upstream: Upstream;
}

/**
 * Starts a CanarySite whose vigil.yaml holds `canariesYaml(url)`. `cleanups` (useCleanups('all'))
 * closes the LAPI and the upstream after what the test pushes later (its proxy) is stopped.
 */
export async function startCanarySite(cleanups: Cleanups, bouncer: string, canariesYaml: (url: string) => string): Promise<CanarySite> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const lapi = await startCanaryLapi(canariesYaml(url));
  cleanups.push(() => lapi.close());
  const upstream = await startUpstream();
  cleanups.push(() => closeUpstream(upstream));
  return { port, url, lapi, fa: await lapi.forwardAuth(bouncer), upstream };
}
