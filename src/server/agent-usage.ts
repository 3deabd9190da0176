import type { Context } from 'hono';
import type { Clock } from '../lib/clock.ts';
import { requestPeer } from './client-address.ts';
import type { Store } from '../store/store.ts';
import { recordLogProcessorUsage } from '../store/usage-log-processors.ts';
import type { ActivityRecorder } from './activity.ts';
import type { Env } from './lapi.ts';
import { JWT_REALM, machineOfToken, tokenOf, type MachineTokens } from './machine-auth.ts';
import { parseMachineUsageMetrics } from './usage-metrics.ts';

/**
 * `POST /v1/usage-metrics` from an agent (CrowdSec 1.6.3+ logs in and sends its log processor's
 * report with its JWT every 30 min, cs `cmd/crowdsec/lpmetrics.go`). Authenticated as the watcher
 * routes are (gin-jwt's 401 otherwise), kept for LP No Logs Read / No Logs Parsed
 * (src/store/usage-log-processors.ts). Not a heartbeat: CrowdSec does not count it as one either.
 */
export interface AgentUsageDeps {
  store: Store;
  clock: Clock;
  activity: ActivityRecorder;
  tokens: MachineTokens;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Whether CrowdSec's eitherAuthMiddleware would take this request as an agent's: no API key, and a JWT or an agent's User-Agent. */
export function isAgentRequest(c: Context): boolean {
  if (c.req.header('x-api-key')) return false;
  return c.req.header('authorization') !== undefined || /^crowdsec\//.test(c.req.header('user-agent') ?? '');
}

export function agentUsageHandler(deps: AgentUsageDeps): (c: Context<Env>) => Promise<Response> {
  const { store, clock, activity, tokens } = deps;
  const reply = (c: Context, status: number, body: unknown, headers: Record<string, string> = {}) =>
    c.body(JSON.stringify(body), status as 200, { 'Content-Type': JSON_TYPE, ...headers });
  const refused = (c: Context<Env>, reason: string, machineId: string) =>
    activity.refused({
      at: clock.now(),
      peerIp: requestPeer(c.env?.incoming),
      userAgent: c.req.header('user-agent') ?? '',
      method: c.req.method,
      path: c.req.path,
      reason,
      keyFingerprint: '',
      bouncerName: machineId.slice(0, 255),
    });
  return async (c) => {
    const token = tokenOf(c);
    if (token === undefined) return reply(c, 401, { code: 401, message: 'cookie token is empty' }, { 'Www-Authenticate': JWT_REALM });
    const checked = await tokens.check(token);
    if (!checked.ok) {
      refused(c, checked.reason, '');
      return reply(c, 401, { code: 401, message: checked.message }, { 'Www-Authenticate': JWT_REALM });
    }
    const machine = await machineOfToken(store, checked.machineId);
    if (!machine) {
      refused(c, 'jwt:invalid', checked.machineId);
      return reply(c, 401, { code: 401, message: 'incorrect Username or Password' }, { 'Www-Authenticate': JWT_REALM });
    }
    const parsed = parseMachineUsageMetrics(new Uint8Array(await c.req.arrayBuffer()), c.req.header('content-encoding'));
    if (!parsed.ok) return reply(c, parsed.status, { message: parsed.message });
    await recordLogProcessorUsage(store, machine.id, clock.now(), parsed.report);
    return c.body(null, 201);
  };
}
