/**
 * Doctor's network and Local API stage: the URL, then DNS, TCP, TLS, the Local API's /health and
 * the key, in order; each step stops the rest when it fails. What each answer means is in
 * endpoint-findings.ts.
 */
import { hashApiKey } from '../core/bouncers/api-key.ts';
import type { LapiSettings, Located } from '../core/doctor/bouncer-config.ts';
import { fail, ok, skip, warn, type Finding } from '../core/doctor/finding.ts';
import { checkLapiUrl, type LapiEndpoint, type UrlStyle } from '../core/doctor/url-checks.ts';
import { certificateFinding, httpFailure, keyAnswerFinding, tcpFailure } from './endpoint-findings.ts';
import { isFileError } from './host.ts';
import { formatAddress, probeDns, probeHttp, probeTcp, probeTls, type HttpProbeOptions, type NetFailure, type ProbeTimeouts } from './network-probe.ts';
import type { DoctorOptions } from './options.ts';

export interface EndpointInput {
  url: string;
  style: UrlStyle;
  where: string;
  key?: Located;
  settings?: LapiSettings;
  /** For a configuration file: `<file name>/vigil-doctor`, see checkConfigTarget. */
  userAgent?: string;
}

/** What one endpoint check carries from step to step: its input, the URL as parsed, and where findings go. */
interface EndpointProbe {
  opts: DoctorOptions;
  findings: Finding[];
  input: EndpointInput;
  endpoint: LapiEndpoint;
  t: ProbeTimeouts;
  /** Said on every network finding when doctor probes from another machine than the bouncer's. */
  note: string[];
}

/** The URL, then DNS, TCP, TLS, the Local API's /health and the key, in order; each step stops the rest when it fails. */
export async function checkEndpoint(opts: DoctorOptions, findings: Finding[], input: EndpointInput): Promise<void> {
  const { findings: urlFindings, endpoint } = checkLapiUrl(input.url, input.style, input.where);
  findings.push(...urlFindings);
  if (!endpoint) return;
  const note = opts.host.local ? [] : [`probed from the machine doctor runs on, not from inside ${opts.host.where}`];
  const p: EndpointProbe = { opts, findings, input, endpoint, t: opts.timeouts, note };

  const addresses = await resolveHost(p);
  if (!addresses) return;
  const address = await connectTcp(p, addresses);
  if (address === null) return;
  const tls = await checkTls(p, address);
  if (!tls) return;
  // Local API: /health, then the key with a HEAD (does not move the bouncer's last pull).
  const probeOpts: HttpProbeOptions = { ...p.t, address, ca: tls.ca, insecure: tls.insecure };
  if (!(await checkHealth(p, address, probeOpts))) return;
  await checkKey(p, address, probeOpts);
}

/** The addresses of the URL's host (itself when it is one); null when it does not resolve. */
async function resolveHost({ opts, findings, endpoint, t, note }: EndpointProbe): Promise<string[] | null> {
  if (endpoint.isAddress) return [endpoint.host];
  const d = await probeDns(endpoint.host, { timeoutMs: t.connectMs, lookup: opts.lookup });
  if (!d.ok) {
    findings.push(
      fail('network', 'network.dns', `${endpoint.host} does not resolve: ${d.message}`, {
        evidence: [...note, `code ${d.code ?? '?'}`],
        fix: "fix the host name in the URL, or make it resolvable (DNS, /etc/hosts; in Docker, the Local API container's name on a shared network)",
        ms: d.ms,
      }),
    );
    return null;
  }
  findings.push(ok('network', 'network.dns', `${endpoint.host} resolves to ${d.addresses.join(', ')}`, { evidence: note, ms: d.ms }));
  return d.addresses;
}

/** TCP: every address (at most 4), like a client falling back from one to the next; the first that connects, or null. */
async function connectTcp({ findings, endpoint, t, note }: EndpointProbe, addresses: string[]): Promise<string | null> {
  const tried: { address: string; r: Awaited<ReturnType<typeof probeTcp>> }[] = [];
  for (const a of addresses.slice(0, 4)) tried.push({ address: a, r: await probeTcp(a, endpoint.port, { timeoutMs: t.connectMs }) });
  const reachable = tried.find((x) => x.r.ok);
  const failedLines = tried.filter((x) => !x.r.ok).map((x) => (x.r as NetFailure).message);
  if (!reachable) {
    findings.push(tcpFailure(tried[0].r as NetFailure, formatAddress(tried[0].address, endpoint.port), [...failedLines.slice(1), ...note]));
    return null;
  }
  findings.push(
    ok('network', 'network.tcp', `TCP connect to ${formatAddress(reachable.address, endpoint.port)} ok`, {
      evidence: [...failedLines, ...note],
      ms: reachable.r.ms,
    }),
  );
  return reachable.address;
}

/**
 * TLS, for an https URL: the handshake and the certificate, as the bouncer would check it. Returns
 * how the HTTP probes connect (the CA, and whether to skip verification), or null when the
 * handshake fails. A rejected certificate does not stop the checks: they go on unverified.
 */
async function checkTls(
  { opts, findings, input, endpoint, t, note }: EndpointProbe,
  address: string,
): Promise<{ ca: string | undefined; insecure: boolean } | null> {
  let ca: string | undefined;
  const insecure = input.settings?.insecureSkipVerify?.value === true;
  if (endpoint.protocol !== 'https') return { ca, insecure };
  if (input.settings?.caCertPath) {
    const c = await opts.host.readFile(input.settings.caCertPath.value);
    if (isFileError(c)) {
      findings.push(
        fail('network', 'network.tls', `ca_cert_path ${input.settings.caCertPath.value} cannot be read: ${c.message}`, {
          fix: 'point ca_cert_path at the PEM file of the CA that signed the Local API certificate',
        }),
      );
    } else ca = c.text;
  }
  const r = await probeTls(address, endpoint.port, { servername: endpoint.host, timeoutMs: t.answerMs, ca });
  if (!r.ok) {
    const plain = /wrong version number|packet length too long|http request/i.test(r.message);
    findings.push(
      fail('network', 'network.tls', `TLS handshake with ${formatAddress(address, endpoint.port)} failed${plain ? ': the port speaks plain HTTP' : ''}`, {
        evidence: [r.message, ...note],
        fix: plain
          ? `use http:// in the URL: http://${endpoint.url.host}${endpoint.url.pathname}`
          : 'check that the Local API serves TLS on this port (api.server.tls in CrowdSec)',
        ms: r.ms,
      }),
    );
    return null;
  }
  findings.push(certificateFinding(r, endpoint, input.settings, insecure, note));
  // Go on without verification to test the Local API and the key anyway.
  return { ca, insecure: insecure || !r.authorized };
}

/** GET /health: is a Local API answering there? False when nothing answered (the key is then not asked about). */
async function checkHealth({ findings, endpoint, t, note }: EndpointProbe, address: string, probeOpts: HttpProbeOptions): Promise<boolean> {
  const health = await probeHttp(`${endpoint.base}health`, probeOpts);
  if (!health.ok) {
    findings.push(await httpFailure(health, `GET ${endpoint.base}health`, endpoint, address, t, note));
    return false;
  }
  if (health.status === 200 && /"status"\s*:\s*"up"/.test(health.body)) {
    findings.push(ok('lapi', 'lapi.health', `Local API up: GET /health → 200 ${health.body.trim().slice(0, 40)}`, { ms: health.ms }));
  } else if (health.status === 404) {
    findings.push(
      warn('lapi', 'lapi.health', `GET ${endpoint.base}health → 404: no health endpoint there`, {
        evidence: ['a CrowdSec Local API older than 1.4, or the URL does not point at a Local API'],
        fix: 'check the URL is the Local API (port 8080 by default), not a web server or proxy in front of it',
        ms: health.ms,
      }),
    );
  } else {
    findings.push(
      fail('lapi', 'lapi.health', `GET ${endpoint.base}health → ${health.status}: not the answer of a Local API`, {
        evidence: [health.body.trim().slice(0, 200)],
        fix: 'check the URL points at the Local API (vigil serve or CrowdSec, port 8080 by default)',
        ms: health.ms,
      }),
    );
  }
  return true;
}

/** The key: does the Local API know a bouncer with it? Asked on the path the bouncer itself requests. */
async function checkKey({ opts, findings, input, endpoint, t, note }: EndpointProbe, address: string, probeOpts: HttpProbeOptions): Promise<void> {
  if (input.settings?.certAuth && !input.key) {
    findings.push(skip('lapi', 'lapi.key', 'client-certificate authentication: the key check does not apply, the certificate was not tested'));
    return;
  }
  if (!input.key) {
    if (input.style !== 'url') findings.push(skip('lapi', 'lapi.key', 'no usable API key in the configuration: the Local API was not asked about it'));
    return;
  }
  // HEAD /v1/decisions, built as the bouncer builds its paths (the Lua bouncers concatenate, the Go
  // ones resolve). Not /v1/decisions/stream: CrowdSec 1.4.6 records a HEAD there as a pull (observed),
  // which would hide a silent bouncer and move its delta cursor past decisions it never received.
  const bouncerPath = input.style === 'conf' ? `${input.url}/v1/decisions` : `${endpoint.base}v1/decisions`;
  const headers = { 'X-Api-Key': input.key.value, 'User-Agent': input.userAgent ?? opts.userAgent };
  const r = await probeHttp(bouncerPath, { ...probeOpts, method: 'HEAD', headers });
  if (!r.ok) {
    findings.push(await httpFailure(r, `HEAD ${new URL(bouncerPath).pathname}`, endpoint, address, t, note, 'lapi.key'));
    return;
  }
  // Refused: does CrowdSec's own database on this host have it (cscli bouncers add after the switch)?
  const lookup = r.status === 403 ? await opts.crowdsecKeys?.() : undefined;
  const inCrowdsec = lookup?.ok ? { db: lookup.db, name: lookup.nameOfHash.get(hashApiKey(input.key.value)) } : undefined;
  findings.push(
    await keyAnswerFinding(
      r,
      new URL(bouncerPath).pathname,
      input.key,
      input.style,
      endpoint,
      { ...probeOpts, method: 'HEAD', headers },
      inCrowdsec?.name ? { db: inCrowdsec.db, name: inCrowdsec.name } : undefined,
    ),
  );
}
