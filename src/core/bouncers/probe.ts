import { formatRfc3339 } from '../../lib/duration.ts';

/**
 * Who made a request with a bouncer's key: the bouncer itself (its life), or someone checking it (a
 * probe: `vigil doctor`, a runbook's `curl -I -H 'X-Api-Key: …'`). Only a component's own traffic is
 * life (issue 24): a probe is kept as evidence and never moves the last request, the last pull, the
 * type or the version, so a diagnosis cannot make a dead bouncer look alive.
 *
 * The rule, from the User-Agents real clients send (docs/health.md, "A diagnosis is never a sign of life"):
 * - Vigil's own probes name themselves: `vigil-doctor/<version>`, or `<bouncer binary>/vigil-doctor`
 *   when doctor checks a bouncer's configuration file (so CrowdSec, which records a HEAD's
 *   User-Agent as the type, keeps the right type), `vigil-verify`, `vigil-canary`: always probes.
 * - The bouncer's own product (the type it recorded from its earlier requests): life.
 * - Generic HTTP clients (curl, Wget, python-requests, Go-http-client, no User-Agent…): probes,
 *   except a `HEAD` from Go's bare client, which is how CrowdSec's AppSec component checks the key of
 *   a bouncer that just forwarded it a request (crowdsec `pkg/acquisition/modules/appsec`, `IsAuth`):
 *   that bouncer is alive. A `GET` from a generic client is life only for a key that never said
 *   what it is (a shell or Python script may be the bouncer).
 * - Any other named product: life (another build of the bouncer, or a HEAD-only client's first check).
 * Pure.
 */
export interface Probe {
  /** Who it was, as a person reads it: `vigil doctor`, `curl/8.5.0`, `a client with no User-Agent`. */
  from: string;
  userAgent: string;
}

const VIGIL_PROBE = /(?:^|\/)vigil-(doctor|verify|canary)\b/i;
const GENERIC_CLIENTS = new Set(
  [
    'curl',
    'wget',
    'python-requests',
    'python-urllib',
    'python-httpx',
    'aiohttp',
    'httpie',
    'go-http-client',
    'okhttp',
    'axios',
    'node-fetch',
    'undici',
    'node',
    'got',
    'java',
    'apache-httpclient',
    'libwww-perl',
    'powershell',
    'mozilla',
    'postmanruntime',
    'insomnia',
  ].map((s) => s.toLowerCase()),
);

/** The product of a User-Agent: `curl` of `curl/8.5.0`, `Mozilla` of `Mozilla/5.0 (X11) …`. */
function productOf(ua: string): string {
  return ua.split('/')[0]!.split(' ')[0]!.trim();
}

/** Whether the request is a probe (and by whom), or null when it is the bouncer's own traffic. */
export function probeOf(method: string, userAgent: string | undefined, bouncerType: string): Probe | null {
  const ua = (userAgent ?? '').trim();
  const vigil = VIGIL_PROBE.exec(ua);
  if (vigil) return { from: `vigil ${vigil[1]!.toLowerCase()}`, userAgent: ua };
  const product = productOf(ua);
  if (bouncerType !== '' && (product === bouncerType || ua === bouncerType)) return null;
  const generic = product === '' || GENERIC_CLIENTS.has(product.toLowerCase());
  if (!generic) return null;
  if (method === 'HEAD') {
    if (product.toLowerCase() === 'go-http-client') return null;
    return { from: ua === '' ? 'a client with no User-Agent' : ua, userAgent: ua };
  }
  if (bouncerType === '') return null;
  return { from: ua === '' ? 'a client with no User-Agent' : ua, userAgent: ua };
}

/** The last probe of a bouncer, as stored (src/store/bouncer-probes.ts). */
export interface LastProbe {
  at: number;
  userAgent: string;
  peerIp: string;
  method: string;
  path: string;
}

/** "key accepted at …, from vigil doctor (HEAD /v1/decisions from 127.0.0.1)": evidence, never life. */
export function describeProbe(p: LastProbe): string {
  const who = probeOf(p.method, p.userAgent, '')?.from ?? (p.userAgent || 'a client with no User-Agent');
  return `key accepted at ${formatRfc3339(p.at)}, from ${who} (${p.method} ${p.path} from ${p.peerIp}): a check by a person or a tool, not a sign of life`;
}
