import { parseYaml } from '../../lib/yaml.ts';
import { ok, warn, type Finding } from './finding.ts';
import { mergeYaml } from './bouncer-config.ts';

/**
 * A CrowdSec switched to Vigil (its Local API off: `api.server.enable: false`, the documented
 * switching step) that still holds Console / Central API credentials (`api.server.online_client`):
 * only CrowdSec's own Local API pulls the community blocklist and reports to the Console, so both
 * stopped with the switch, silently (issue 29 item 4; docs/local-api.md § Switching). Pure: the
 * config texts in, a finding (or null when this CrowdSec still runs its Local API) out.
 */

type Plain = Parameters<typeof mergeYaml>[0];

const at = (v: unknown, ...keys: string[]): unknown => {
  let cur = v;
  for (const k of keys) cur = cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
};

/** The merged config (config.yaml, then config.yaml.local over it), or null when it does not parse. */
export function crowdsecConfigDoc(main: string, local: string | null): Plain | null {
  try {
    const parse = (text: string) => parseYaml(text, 'E_CROWDSEC_CONFIG', (where, why) => `${where}: ${why}`) as Plain;
    return local === null ? parse(main) : mergeYaml(parse(main), parse(local));
  } catch {
    return null;
  }
}

/** Where the online_client credentials are, when config.yaml names them. */
export function onlineCredentialsPath(doc: Plain | null): string | null {
  const p = at(doc, 'api', 'server', 'online_client', 'credentials_path');
  return typeof p === 'string' && p.trim() !== '' ? p : null;
}

/**
 * The finding for a switched CrowdSec: warn when its online_client credentials file holds a login
 * (enrolled in the Console / registered with the Central API), ok when it holds none; null when this
 * CrowdSec still runs its own Local API (nothing was switched).
 */
export function consoleTradeOffFinding(configFile: string, doc: Plain | null, credentials: { file: string; text: string | null } | null): Finding | null {
  const enable = at(doc, 'api', 'server', 'enable');
  if (enable !== false && enable !== 'false') return null;
  const evidence = [`${configFile}: api.server.enable: false (its Local API is off: the agent reports to another one, e.g. vigil serve)`];
  const login = credentials?.text ? at(crowdsecConfigDoc(credentials.text, null), 'login') : undefined;
  if (credentials === null || typeof login !== 'string' || login === '') {
    if (credentials) evidence.push(`${credentials.file}: ${credentials.text === null ? 'absent' : 'no login'}`);
    return ok('lapi', 'crowdsec.online_client', 'no Central API / Console credentials: the switch lost no community blocklist or Console reporting', {
      evidence,
    });
  }
  evidence.push(`${credentials.file}: login ${login} (online_client credentials for the Central API and the Console)`);
  return warn(
    'lapi',
    'crowdsec.online_client',
    "this CrowdSec's Local API was switched off, yet it has online_client credentials: the community blocklist is no longer pulled and nothing reaches the Console",
    {
      evidence,
      fix: "Vigil pulls no community blocklist and reports nothing to the Console. To keep both, turn CrowdSec's Local API back on (api.server.enable: true, stop vigil serve on its port) and guard it with `vigil watch` instead (docs/watch.md); to accept the trade-off, remove api.server.online_client from config.yaml",
    },
  );
}
