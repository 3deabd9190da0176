/** What the network and the Local API answered, as findings: the certificate, the key, and each way a connection fails. */
import type { LapiSettings, Located } from '../core/doctor/bouncer-config.ts';
import { fail, maskSecret, ok, warn, type Finding } from '../core/doctor/finding.ts';
import type { LapiEndpoint, UrlStyle } from '../core/doctor/url-checks.ts';
import { at } from './config-checks.ts';
import {
  formatAddress,
  probeHttp,
  probeTls,
  type HttpAnswer,
  type HttpProbeOptions,
  type NetFailure,
  type ProbeTimeouts,
  type TlsOutcome,
} from './network-probe.ts';

/** What the handshake says of the certificate: verified, accepted only because checks are off, or rejected (and why). */
export function certificateFinding(r: TlsOutcome, endpoint: LapiEndpoint, settings: LapiSettings | undefined, insecure: boolean, note: string[]): Finding {
  const cert = r.certificate;
  const certLines = cert
    ? [`subject ${cert.subject}`, `issuer ${cert.issuer}`, `valid ${cert.validFrom} → ${cert.validTo}`, ...(cert.altNames ? [cert.altNames] : [])]
    : [];
  if (r.authorized) {
    return ok('network', 'network.tls', `TLS ${r.protocol} with a certificate that verifies for ${endpoint.host}`, {
      evidence: [...certLines, ...note],
      ms: r.ms,
    });
  }
  if (insecure) {
    return warn(
      'network',
      'network.tls',
      `certificate not verified (${describeCertError(r.authorizationError)}); the bouncer accepts it only because certificate checks are off`,
      {
        evidence: [...certLines, `${settings?.insecureSkipVerify ? at(settings.insecureSkipVerify) : ''}`],
        fix: 'give the bouncer the CA (ca_cert_path) and turn insecure_skip_verify off (SSL_VERIFY=true)',
        ms: r.ms,
      },
    );
  }
  return fail('network', 'network.tls', `certificate rejected: ${describeCertError(r.authorizationError)}`, {
    evidence: [...certLines, ...note],
    fix: cert?.selfSigned
      ? 'the Local API uses a self-signed certificate: set ca_cert_path to it (or to its CA) in the bouncer configuration'
      : /ALTNAME|Hostname/i.test(r.authorizationError ?? '')
        ? `use a host name the certificate covers (${cert?.altNames || cert?.subject}) in the URL, or reissue the certificate for ${endpoint.host}`
        : 'set ca_cert_path to the CA that signed the Local API certificate, or renew it if it expired',
    ms: r.ms,
  });
}

/** What the Local API's answer to the key's HEAD means: accepted, unknown key, wrong path (then the canonical one is asked), or something else. */
export async function keyAnswerFinding(
  r: HttpAnswer,
  pathShown: string,
  key: Located,
  style: UrlStyle,
  endpoint: LapiEndpoint,
  headOpts: HttpProbeOptions,
  /** The bouncer CrowdSec's own database on this host has this key for, if any. */
  inCrowdsec?: { db: string; name: string },
): Promise<Finding> {
  const masked = maskSecret(key.value);
  if (r.status === 403 && inCrowdsec) {
    return fail('lapi', 'lapi.key', `key ${masked} refused: HEAD ${pathShown} → 403; CrowdSec's own database has it, as bouncer '${inCrowdsec.name}'`, {
      evidence: [
        `key from ${at(key)}`,
        `${inCrowdsec.db} (CrowdSec's database on this host) lists bouncer '${inCrowdsec.name}' with this key: it was registered with cscli bouncers add (a bouncer package's postinst does that) into CrowdSec's database, not into the Local API this bouncer talks to (Vigil)`,
      ],
      fix: `on the Local API host, register the key with Vigil under that name: sudo vigil bouncers add ${inCrowdsec.name} --key KEY, with KEY the api_key in ${at(key)} (or run vigil import crowdsec again); then restart the bouncer`,
      ms: r.ms,
    });
  }
  if (r.status === 200) {
    return ok('lapi', 'lapi.key', `key ${masked} accepted: HEAD ${pathShown} → 200`, {
      evidence: ["a HEAD /v1/decisions does not move the bouncer's last pull, on Vigil or CrowdSec"],
      ms: r.ms,
    });
  }
  if (r.status === 403) {
    return fail('lapi', 'lapi.key', `key ${masked} refused: HEAD ${pathShown} → 403 access forbidden`, {
      evidence: [`key from ${at(key)}`, 'the Local API knows no bouncer with this key: a wrong key, a revoked one, or the bouncer was deleted'],
      fix: `on the Local API host, list the bouncers (vigil bouncers list, or cscli bouncers list); register it again (vigil bouncers add NAME, or cscli bouncers add NAME) and put the new key in ${at(key)}, then restart the bouncer`,
      ms: r.ms,
    });
  }
  if (r.status === 404) {
    const canonical = await probeHttp(`${endpoint.url.origin}/v1/decisions`, headOpts);
    return fail('lapi', 'lapi.key', `HEAD ${pathShown} → 404: the bouncer's request path does not exist on the Local API`, {
      evidence: [
        `the bouncer requests ${pathShown}`,
        ...(canonical.ok
          ? [
              `HEAD /v1/decisions → ${canonical.status}${canonical.status === 200 ? ' (the key itself is accepted)' : canonical.status === 403 ? ' (and the key is refused too)' : ''}`,
            ]
          : []),
      ],
      fix: style === 'conf' ? `set API_URL to ${endpoint.url.origin} (no trailing slash, no path)` : `set api_url to ${endpoint.url.origin}/`,
      ms: r.ms,
    });
  }
  return fail('lapi', 'lapi.key', `HEAD ${pathShown} → ${r.status}`, {
    evidence: [String(r.headers['content-type'] ?? '')],
    fix:
      r.status === 401
        ? 'the server asks for another kind of authentication: is this the Local API, or a proxy in front of it?'
        : "check the Local API's own log for this request",
    ms: r.ms,
  });
}

function describeCertError(code: string | undefined): string {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `self-signed certificate (${code})`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `signed by an unknown authority (${code})`;
    case 'CERT_HAS_EXPIRED':
      return 'the certificate has expired (CERT_HAS_EXPIRED)';
    case 'CERT_NOT_YET_VALID':
      return 'the certificate is not valid yet (CERT_NOT_YET_VALID)';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'the certificate is for another host name (ERR_TLS_CERT_ALTNAME_INVALID)';
    default:
      return code ?? 'unknown reason';
  }
}

export function tcpFailure(r: NetFailure, addr: string, evidence: string[]): Finding {
  const ev = [r.message, ...evidence];
  switch (r.kind) {
    case 'refused':
      return fail('network', 'network.tcp', `connection refused at ${addr}: nothing listens there`, {
        evidence: ev,
        fix: 'start the Local API (vigil serve, or systemctl start crowdsec), or fix the port in the URL; if it runs on another host, make it listen on an address this host can reach (CrowdSec listen_uri, vigil --listen), not only 127.0.0.1',
        ms: r.ms,
      });
    case 'connect-timeout':
      return fail('network', 'network.tcp', `timed out connecting to ${addr}: packets are dropped on the way`, {
        evidence: ev,
        fix: "a firewall (the Local API host's, a security group, a network policy) drops the traffic, or the host is down: open the port for this host (test with nc -zv HOST PORT)",
        ms: r.ms,
      });
    case 'unreachable':
      return fail('network', 'network.tcp', `${addr} is unreachable (${r.code}): no route to it from here`, {
        evidence: ev,
        fix: 'check the address in the URL and the route between the two hosts (VPN, Docker network, interface down); a firewall may also reject with "host unreachable"',
        ms: r.ms,
      });
    default:
      return fail('network', 'network.tcp', `cannot connect to ${addr}: ${r.message}`, {
        evidence: ev,
        fix: 'check the address and port in the URL',
        ms: r.ms,
      });
  }
}

export async function httpFailure(
  r: NetFailure,
  what: string,
  endpoint: LapiEndpoint,
  address: string,
  t: ProbeTimeouts,
  note: string[],
  check = 'lapi.health',
): Promise<Finding> {
  const addr = formatAddress(address, endpoint.port);
  if (r.kind === 'no-answer') {
    return fail('lapi', check, `${addr} accepts connections but never answers (${what}: no response within ${t.answerMs} ms)`, {
      evidence: [r.message, ...note, 'a bouncer in this state waits forever and logs nothing (observed with crowdsec-custom-bouncer 0.0.15)'],
      fix: 'the Local API is hung, or another program holds the port: restart the Local API and check what listens on it (ss -ltnp)',
      ms: r.ms,
    });
  }
  if (r.kind === 'closed' && endpoint.protocol === 'http') {
    const tlsTry = await probeTls(address, endpoint.port, { servername: endpoint.host, timeoutMs: t.answerMs });
    if (tlsTry.ok) {
      return fail('lapi', check, `${addr} closed the connection on plain HTTP: it speaks TLS`, {
        evidence: [`${what}: ${r.message}`, `TLS handshake on the same port succeeded (${tlsTry.protocol})`, 'the bouncer logs "… error: EOF"'],
        fix: `use https:// in the URL: https://${endpoint.url.host}${endpoint.url.pathname}`,
        ms: r.ms,
      });
    }
  }
  if (r.kind === 'tls') {
    return fail('network', 'network.tls', `TLS failure talking to ${addr}: ${r.message}`, {
      evidence: note,
      fix: 'check the certificate (ca_cert_path) and that the port serves https',
      ms: r.ms,
    });
  }
  if (r.kind === 'refused' || r.kind === 'connect-timeout' || r.kind === 'unreachable') return tcpFailure(r, addr, note);
  return fail('lapi', check, `${what} failed: ${r.message}`, { evidence: note, fix: "check the Local API's log around this time", ms: r.ms });
}
