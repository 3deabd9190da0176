/**
 * Is CrowdSec's own Local API serving? Asked once per poll, from outside, read-only:
 * - CrowdSec's config (when watch read it) is re-read for `api.server.enable: false`: a stack switched
 *   to Vigil runs its agent with the Local API off;
 * - `GET <listen_uri>/health` (CrowdSec 1.4–1.7 answer `{"status":"up"}`): no answer is down; an
 *   answer carrying `Server: Vigil` is `vigil serve` in CrowdSec's place.
 * Then the watcher holds the bouncers' and machines' verdicts (core/watch/lapi-outages.ts).
 */
import { readCrowdsecConfig } from './crowdsec-config.ts';
import { VIGIL_SERVER_HEADER } from '../server/lapi.ts';
import type { LapiProbeResult } from '../core/watch/lapi-outages.ts';
import type { BouncerHealthInput, HealthRules, MachineHealthInput } from '../core/health/types.ts';
import { creditOutages, type Outage } from '../core/watch/lapi-outages.ts';
import { lateAfter } from '../core/health/evaluate.ts';
import { machineLateAfter } from '../core/health/evaluate-machines.ts';

export interface LapiProbe {
  /** `http://HOST:PORT/` as bouncers reach it. */
  readonly url: string;
  probe(): Promise<LapiProbeResult>;
}

export function lapiProbe(url: string, opts: { crowdsecConfigPath?: string | null; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): LapiProbe {
  const timeoutMs = opts.timeoutMs ?? 3000;
  return {
    url,
    async probe() {
      if (opts.crowdsecConfigPath) {
        try {
          if (!readCrowdsecConfig(opts.crowdsecConfigPath, opts.env ?? process.env).lapiEnabled) return { state: 'disabled' };
        } catch {
          // Being edited, or unreadable now: the address decides.
        }
      }
      let res: Response;
      try {
        res = await fetch(new URL('health', url), { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
        await res.arrayBuffer();
      } catch (e) {
        const err = e as Error & { cause?: { code?: string; message?: string } };
        const why = err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
        return { state: 'down', error: why };
      }
      if ((res.headers.get('server') ?? '').toLowerCase() === VIGIL_SERVER_HEADER.toLowerCase()) return { state: 'replaced', by: 'vigil serve' };
      return res.status === 200 ? { state: 'up' } : { state: 'down', error: `HTTP ${res.status}` };
    },
  };
}

/** The times whose silence raises an issue: the ones an outage must not count against. */
const BOUNCER_SEEN_AT = ['lastPullAt', 'lastRequestAt', 'lastUsageMetricsAt'] as const;
const MACHINE_SEEN_AT = ['lastHeartbeatAt', 'lastLoginAt', 'lastPushAt'] as const;

/**
 * The health inputs with the Local API's outages not counted as silence (creditOutages): a bouncer
 * that pulls again within its cadence after the Local API is back raises nothing.
 */
export function withOutagesCredited(
  bouncers: BouncerHealthInput[],
  machines: MachineHealthInput[] | undefined,
  outages: Outage[],
  now: number,
  rules: HealthRules,
): { bouncers: BouncerHealthInput[]; machines: MachineHealthInput[] | undefined } {
  if (outages.length === 0) return { bouncers, machines };
  const credited = <T extends Record<K, number | null>, K extends keyof T>(input: T, seenAt: readonly K[], late: number | null): T => {
    const out = { ...input };
    for (const k of seenAt) out[k] = creditOutages(input[k], outages, now, late) as T[K];
    return out;
  };
  return {
    bouncers: bouncers.map((b) => credited(b, BOUNCER_SEEN_AT, lateAfter(b, rules))),
    machines: machines?.map((m) => credited(m, MACHINE_SEEN_AT, machineLateAfter(m, rules))),
  };
}
