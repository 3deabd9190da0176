/**
 * `vigil doctor`: the seed's "How to Diagnose", run. For each bouncer configuration it checks, in
 * order, the file, the URL, the network, the Local API and the service, and turns every result
 * into a finding with its evidence and its fix. The checks' decisions live in the pure modules
 * (bouncer-config, url-checks, permissions, log-signatures, webserver-config); this file runs the
 * probes through a Host and wires the results together.
 *
 * Needs no Vigil database and talks to the Local API over HTTP only, so it works the same against
 * `vigil serve` and a real CrowdSec.
 */
import path from 'node:path';
import { bouncerFamily } from '../core/health/bouncer-kind.ts';
import { parseDuration } from '../lib/duration.ts';
import {
  formatOfFile,
  loadBouncerConfig,
  hasPlaceholder,
  type LapiSettings,
  type Located,
  type ParseError,
  type SourceFile,
} from '../core/doctor/bouncer-config.ts';
import { buildReport, fail, maskSecret, ok, skip, warn, type DoctorReport, type DoctorTarget, type Finding } from '../core/doctor/finding.ts';
import { isFileError, type Host } from './host.ts';
import { scanLogLines, SIGNATURE_TEXT, type SignatureKind } from '../core/doctor/log-signatures.ts';
import {
  formatAddress,
  probeDns,
  probeHttp,
  probeTcp,
  probeTls,
  type HttpAnswer,
  type HttpProbeOptions,
  type LookupFn,
  type NetFailure,
  type ProbeTimeouts,
  type TlsOutcome,
} from './network-probe.ts';
import { formatMode, lookupUser, ownerNames, readableBy, worldReadable } from '../core/doctor/permissions.ts';
import { processesForConfig } from '../core/doctor/process-for-config.ts';
import { apacheTest, journalLines, logFileLines, matchProcesses, nginxTest, systemdUnit } from './service-probe.ts';
import { checkLapiUrl, type LapiEndpoint, type UrlStyle } from '../core/doctor/url-checks.ts';
import { apacheHasCrowdsec, nginxTestErrors, scanNginxDump } from '../core/doctor/webserver-config.ts';

export const DEFAULT_CONFIG_DIR = '/etc/crowdsec/bouncers';

export interface DoctorOptions {
  host: Host;
  /** Configuration files to check (`--config`); otherwise every one in `configDir`. */
  configFiles?: string[];
  configDir?: string;
  /** `--url URL --key KEY`: check a Local API and a key without any file. */
  url?: string;
  key?: string;
  timeouts: ProbeTimeouts;
  /** Check the service (unit, process, logs, web server). Default: on for configuration files. */
  checkService?: boolean;
  /** systemd unit / process name, when it is not the one the file name suggests. */
  service?: string;
  /** The user the service reads its configuration as (default: from the unit, else www-data for web servers, else root). */
  serviceUser?: string;
  /** A log file to scan instead of the one the configuration or family suggests. */
  logFile?: string;
  /** nginx main configuration for `nginx -T -c FILE` (default: nginx's own). */
  nginxConfig?: string;
  journalLines?: number;
  /**
   * Sent with the key check of `--url`; a configuration file's check sends `<file name>/vigil-doctor`.
   * Vigil ignores a HEAD's User-Agent; CrowdSec records it as the bouncer's type/version until the
   * bouncer's next request.
   */
  userAgent: string;
  lookup?: LookupFn;
}

const WEB_FAMILIES = new Set(['nginx', 'openresty', 'ingress-nginx', 'apache', 'wordpress', 'php']);

interface ServiceInfo {
  unit: string;
  process: string;
  logFiles: string[];
  webserver?: 'nginx' | 'apache';
  defaultUser: string;
}

/** Which service runs a bouncer, from its configuration file's name (and its log settings). */
export function serviceFor(family: string, base: string, settings: LapiSettings | undefined, override?: string): ServiceInfo {
  const own = (unit: string, process: string, logFiles: string[], webserver?: 'nginx' | 'apache', defaultUser = 'root'): ServiceInfo => ({
    unit: override ?? unit,
    process: override ?? process,
    logFiles,
    webserver,
    defaultUser,
  });
  if (family === 'nginx' || family === 'ingress-nginx') return own('nginx', 'nginx', ['/var/log/nginx/error.log'], 'nginx', 'www-data');
  if (family === 'openresty')
    return own('openresty', 'nginx', ['/usr/local/openresty/nginx/logs/error.log', '/var/log/openresty/error.log'], 'nginx', 'www-data');
  if (family === 'apache') return own('apache2', 'apache2', ['/var/log/apache2/error.log'], 'apache', 'www-data');
  if (family === 'haproxy' && !/spoa/.test(base)) return own('haproxy', 'haproxy', ['/var/log/haproxy.log']);
  // Go bouncers: `log_mode: file` writes <log_dir>/<binary>.log (the default), stdout goes to the journal.
  const logs: string[] = [];
  if (!settings?.logMode || settings.logMode.value === 'file') logs.push(path.posix.join(settings?.logDir?.value ?? '/var/log/', `${base}.log`));
  return own(base, base, logs);
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const targets: DoctorTarget[] = [];
  if (opts.url !== undefined) {
    targets.push(await checkUrlTarget(opts));
  } else {
    const files = opts.configFiles?.length ? { files: opts.configFiles } : await discover(opts.host, opts.configDir ?? DEFAULT_CONFIG_DIR);
    if ('finding' in files) targets.push({ name: opts.configDir ?? DEFAULT_CONFIG_DIR, format: 'yaml', family: 'generic', findings: [files.finding] });
    else for (const f of files.files) targets.push(await checkConfigTarget(opts, f));
  }
  return buildReport(opts.host.where, targets);
}

async function discover(host: Host, dir: string): Promise<{ files: string[] } | { finding: Finding }> {
  const list = await host.listDir(dir);
  const fix = 'give the bouncer configuration with --config FILE, or check a Local API and key directly with --url URL --key KEY';
  if (isFileError(list)) {
    return {
      finding: fail(
        'file',
        'file.discover',
        list.error === 'ENOENT' ? `${dir} does not exist: no bouncer configuration to check` : `cannot list ${dir}: ${list.message}`,
        {
          evidence: [`looked in ${dir} on ${host.where}`],
          fix: list.error === 'EACCES' ? `run doctor as root (sudo vigil doctor), or ${fix}` : fix,
        },
      ),
    };
  }
  const files = list.filter((n) => /\.(ya?ml|conf)$/i.test(n) && !n.startsWith('.')).map((n) => path.posix.join(dir, n));
  if (files.length === 0) {
    return {
      finding: fail('file', 'file.discover', `no bouncer configuration (*.yaml, *.conf) in ${dir}`, {
        evidence: [`${dir}: ${list.length ? list.join(', ') : 'empty'}`],
        fix,
      }),
    };
  }
  return { files };
}

// ------------------------------------------------------------------------------------ targets

async function checkUrlTarget(opts: DoctorOptions): Promise<DoctorTarget> {
  const findings: Finding[] = [];
  const key = opts.key !== undefined && opts.key !== '' ? { value: opts.key, path: '--key', key: '--key' } : undefined;
  if (!key)
    findings.push(warn('file', 'config.key', 'no --key given: the key is not checked', { fix: 'add --key KEY to check that the Local API accepts it' }));
  await checkEndpoint(opts, findings, { url: opts.url!, style: 'url', where: '--url', key });
  return { name: opts.url!, format: 'url', family: 'generic', findings };
}

async function checkConfigTarget(opts: DoctorOptions, file: string): Promise<DoctorTarget> {
  const host = opts.host;
  const format = formatOfFile(file);
  const base = path.posix.basename(file).replace(/\.(ya?ml|conf)$/i, '');
  const family = bouncerFamily(base);
  const target: DoctorTarget = { name: file, format, family, findings: [] };
  const findings = target.findings;
  const id = await host.readFile(`${file}.id`, 4096);
  if (!isFileError(id) && id.text.trim()) target.registeredName = id.text.trim().split('\n')[0];

  // 1. the file
  const loaded = await readConfigFiles(host, file, findings);
  let settings: LapiSettings | undefined;
  if (loaded) {
    const res = loadBouncerConfig(format, loaded.main, loaded.local);
    if (!res.ok) {
      findings.push(syntaxFinding(res.error, format, loaded));
    } else {
      settings = res.settings;
      findings.push(
        ok(
          'file',
          'file.syntax',
          `${res.files.join(' + ')}: ${format === 'yaml' ? `valid YAML${loaded.local ? ', .local merged over it as the bouncer does' : ''}` : 'valid KEY=VALUE'}`,
          { evidence: res.files },
        ),
      );
      for (const n of settings.notes)
        findings.push(warn('file', 'file.notes', `${n.path}${n.line ? `:${n.line}` : ''}: ${n.message}`, { fix: 'remove or correct that line' }));
      findings.push(...settingsFindings(settings, format, file));
      findings.push(...(await permissionFindings(opts, family, settings, loaded)));
    }
  }

  // 2–4. URL, network, Local API
  if (settings?.url && !hasPlaceholder(settings.url.value)) {
    const key = settings.key && !hasPlaceholder(settings.key.value) ? settings.key : undefined;
    // CrowdSec records the User-Agent of any authenticated request, HEAD included, as the bouncer's
    // type/version until its next request: keep the type the bouncer itself sends (its binary's
    // name for the packaged bouncers) and mark the version, so nothing is mislabelled meanwhile.
    const userAgent = `${base}/vigil-doctor`;
    await checkEndpoint(opts, findings, { url: settings.url.value, style: format, where: at(settings.url), key, settings, userAgent });
  }

  // 5. the service
  if (opts.checkService !== false) findings.push(...(await serviceFindings(opts, family, base, file, settings)));
  return target;
}

const at = (l: Located<unknown>) => `${l.path}${l.line ? `:${l.line}` : ''} (${l.key})`;

interface LoadedFiles {
  main: SourceFile;
  local?: SourceFile;
  stats: Map<string, { mode: number; uid: number; gid: number }>;
}

/** A missing file is most often a typo: name what its folder holds before anything heavier. */
async function missingFileFix(host: Host, file: string): Promise<string> {
  const dir = path.posix.dirname(file);
  const list = await host.listDir(dir);
  const configs = isFileError(list) ? [] : list.filter((n) => /\.(ya?ml|conf)$/i.test(n)).sort();
  const holds = isFileError(list)
    ? `${dir} does not exist either`
    : configs.length > 0
      ? `${dir} holds ${configs.slice(0, 5).join(', ')}${configs.length > 5 ? ', …' : ''}`
      : `${dir} holds no .yaml or .conf file`;
  return `check the path for a typo (${holds}) and give the right one (vigil doctor FILE); if the bouncer's package shipped this file, reinstall it`;
}

async function readConfigFiles(host: Host, file: string, findings: Finding[]): Promise<LoadedFiles | undefined> {
  const st = await host.stat(file);
  if (isFileError(st)) {
    findings.push(
      st.error === 'ENOENT'
        ? fail('file', 'file.present', `${file} does not exist`, {
            evidence: [`on ${host.where}`],
            fix: await missingFileFix(host, file),
          })
        : fail('file', 'file.present', `cannot inspect ${file}: ${st.message}`, { fix: 'run doctor as root (sudo vigil doctor)' }),
    );
    return undefined;
  }
  if (!st.isFile) {
    findings.push(fail('file', 'file.present', `${file} is not a regular file`, { fix: 'point --config at the bouncer configuration file' }));
    return undefined;
  }
  const stats = new Map([[file, st]]);
  const text = await host.readFile(file);
  if (isFileError(text)) {
    findings.push(
      fail('file', 'file.readable', `cannot read ${file}: ${text.message}`, {
        evidence: [`mode ${formatMode(st.mode)}, owner uid ${st.uid} gid ${st.gid}`],
        fix: 'run doctor as root (sudo vigil doctor): the bouncer configuration holds a key and is usually readable by root only',
      }),
    );
    return undefined;
  }
  findings.push(ok('file', 'file.present', `${file} present (${st.size} bytes, mode ${formatMode(st.mode)})`));
  let local: SourceFile | undefined;
  const localPath = `${file}.local`;
  const lst = await host.stat(localPath);
  if (!isFileError(lst)) {
    const lt = await host.readFile(localPath);
    if (isFileError(lt)) {
      findings.push(fail('file', 'file.readable', `cannot read ${localPath}: ${lt.message}`, { fix: 'run doctor as root (sudo vigil doctor)' }));
      return undefined;
    }
    stats.set(localPath, lst);
    local = { path: localPath, text: lt.text };
  }
  return { main: { path: file, text: text.text }, local, stats };
}

function syntaxFinding(e: ParseError, format: string, files: LoadedFiles): Finding {
  const where = `${e.path}${e.line ? `:${e.line}${e.col ? `:${e.col}` : ''}` : ''}`;
  const src = e.path === files.local?.path ? files.local.text : files.main.text;
  const evidence: string[] = [];
  if (e.line) {
    const line = src.split(/\r?\n/)[e.line - 1];
    if (line !== undefined) {
      evidence.push(`${String(e.line).padStart(4)} | ${line}`);
      if (e.col) evidence.push(`${' '.repeat(4)} | ${' '.repeat(Math.max(0, e.col - 1))}^`);
    }
  }
  return fail('file', 'file.syntax', `${where}: ${e.message}`, {
    evidence,
    fix:
      format === 'yaml'
        ? 'fix the YAML at that place (indent with spaces, one "key: value" per line, no duplicate keys); the bouncer refuses to start until then'
        : 'write one KEY=VALUE per line; lines starting with # are comments',
  });
}

function settingsFindings(s: LapiSettings, format: string, file: string): Finding[] {
  const out: Finding[] = [];
  const urlKeys = format === 'yaml' ? 'api_url (crowdsec_lapi_url, crowdsec_config.lapi_url)' : 'API_URL';
  const keyKeys = format === 'yaml' ? 'api_key (crowdsec_lapi_key, crowdsec_config.lapi_key)' : 'API_KEY';
  const keyFile = format === 'yaml' ? `${file}.local` : file;
  const keyLine = format === 'yaml' ? 'api_key: <key>' : 'API_KEY=<key>';
  const register = `register the bouncer on the Local API host (vigil bouncers add NAME, or cscli bouncers add NAME) and put the key in ${keyFile} as "${keyLine}", then restart the bouncer`;
  if (!s.url)
    out.push(
      fail('file', 'config.url', `no Local API URL: ${urlKeys} is not set`, {
        fix: `set ${format === 'yaml' ? 'api_url: http://127.0.0.1:8080/' : 'API_URL=http://127.0.0.1:8080'}`,
      }),
    );
  if (!s.key && !s.certAuth)
    out.push(
      fail('file', 'config.key', `no API key: ${keyKeys} is not set (nor a client certificate)`, {
        evidence: ['the bouncer stops with "config does not contain LAPI key or certificate"'],
        fix: register,
      }),
    );
  for (const p of s.placeholders) {
    const isCore = p === s.url || p === s.key || p.key === s.url?.key || p.key === s.key?.key;
    const placeholder = /\$\{[^}]+\}/.exec(p.value)![0];
    if (isCore) {
      out.push(
        fail('file', 'config.placeholder', `${p.key} is the unreplaced placeholder ${placeholder} (${p.path}${p.line ? `:${p.line}` : ''})`, {
          evidence: [
            'the bouncer sends it literally (observed with crowdsec-custom-bouncer 0.0.15, even with that variable in its environment) and the Local API answers 403',
            'packages fill it at install time only when cscli is on the same host',
          ],
          fix:
            p === s.url || p.key === s.url?.key
              ? `replace it with the Local API URL, e.g. ${format === 'yaml' ? 'http://127.0.0.1:8080/' : 'http://127.0.0.1:8080'}`
              : register,
        }),
      );
    } else {
      out.push(
        warn('file', 'config.placeholder', `${p.key} is the unreplaced placeholder ${placeholder} (${p.path}${p.line ? `:${p.line}` : ''})`, {
          fix: `set ${p.key} to a real value (in ${keyFile} to survive package upgrades)`,
        }),
      );
    }
  }
  if (s.updateFrequency && !hasPlaceholder(s.updateFrequency.value)) {
    const v = s.updateFrequency.value;
    const valid =
      format === 'yaml'
        ? (() => {
            try {
              return parseDuration(v, s.updateFrequency!.key) > 0;
            } catch {
              return false;
            }
          })()
        : /^\d+$/.test(v) && Number(v) > 0;
    if (!valid) {
      out.push(
        fail(
          'file',
          'config.update-frequency',
          `${s.updateFrequency.key} "${v}" is not a valid ${format === 'yaml' ? 'duration' : 'number of seconds'} (${at(s.updateFrequency)})`,
          {
            evidence: format === 'yaml' ? ['the bouncer logs "unable to parse duration" and exits with status 0, so systemd does not restart it'] : [],
            fix: format === 'yaml' ? `write a Go duration with its unit: ${s.updateFrequency.key}: 10s` : `${s.updateFrequency.key}=10`,
          },
        ),
      );
    }
  }
  if (s.url && (s.key || s.certAuth) && !out.some((f) => f.status === 'fail')) {
    const auth = s.key ? `key ${maskSecret(s.key.value)} from ${at(s.key)}` : 'client certificate (mTLS)';
    out.push(ok('file', 'config.keys', `Local API URL and credentials set: ${s.url.value}, ${auth}`));
  }
  return out;
}

async function permissionFindings(opts: DoctorOptions, family: string, s: LapiSettings, files: LoadedFiles): Promise<Finding[]> {
  const out: Finding[] = [];
  const host = opts.host;
  const passwd = await host.readFile('/etc/passwd');
  const group = await host.readFile('/etc/group');
  const pw = isFileError(passwd) ? '' : passwd.text;
  const gr = isFileError(group) ? '' : group.text;
  const userName = opts.serviceUser ?? (WEB_FAMILIES.has(family) ? 'www-data' : 'root');
  const user = lookupUser(pw, gr, userName);
  const keyPath = s.key && !hasPlaceholder(s.key.value) ? s.key.path : undefined;
  for (const [file, st] of files.stats) {
    const holdsKey = file === keyPath;
    const owner = ownerNames(pw, gr, st);
    const desc = `${file}: mode ${formatMode(st.mode)} ${owner}`;
    if (user && !readableBy(st, user)) {
      out.push(
        fail('file', 'file.permissions', `${file} is not readable by ${userName}, the user the bouncer reads it as`, {
          evidence: [desc],
          fix: `sudo chown root:${userName} ${file} && sudo chmod 640 ${file}`,
        }),
      );
    } else if (holdsKey && worldReadable(st)) {
      out.push(
        warn('file', 'file.permissions', `${file} holds the API key and is readable by every local user`, {
          evidence: [desc],
          fix: userName === 'root' ? `sudo chmod 600 ${file}` : `sudo chown root:${userName} ${file} && sudo chmod 640 ${file}`,
        }),
      );
    } else {
      out.push(
        ok('file', 'file.permissions', `${desc}${user ? `, readable by ${userName}` : ''}${holdsKey ? ', not readable by others' : ''}`, {
          evidence: user ? [] : [`user ${userName} not found on ${host.where}: its access not checked`],
        }),
      );
    }
  }
  return out;
}

// ----------------------------------------------------------------------- network and Local API

interface EndpointInput {
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
async function checkEndpoint(opts: DoctorOptions, findings: Finding[], input: EndpointInput): Promise<void> {
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

/** What the handshake says of the certificate: verified, accepted only because checks are off, or rejected (and why). */
function certificateFinding(r: TlsOutcome, endpoint: LapiEndpoint, settings: LapiSettings | undefined, insecure: boolean, note: string[]): Finding {
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
  findings.push(await keyAnswerFinding(r, new URL(bouncerPath).pathname, input.key, input.style, endpoint, { ...probeOpts, method: 'HEAD', headers }));
}

/** What the Local API's answer to the key's HEAD means: accepted, unknown key, wrong path (then the canonical one is asked), or something else. */
async function keyAnswerFinding(
  r: HttpAnswer,
  pathShown: string,
  key: Located,
  style: UrlStyle,
  endpoint: LapiEndpoint,
  headOpts: HttpProbeOptions,
): Promise<Finding> {
  const masked = maskSecret(key.value);
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

function tcpFailure(r: NetFailure, addr: string, evidence: string[]): Finding {
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

async function httpFailure(
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

// ----------------------------------------------------------------------------------- service

const LOG_FIX: Record<SignatureKind, string> = {
  dns: 'fix the Local API host name in the configuration, or the resolver on this host',
  unreachable: 'fix the route to the Local API host (address, VPN, Docker network)',
  'connection-refused': 'start the Local API, or fix the port in the configuration',
  tls: "give the bouncer the Local API's CA (ca_cert_path), or use the scheme the port speaks (http/https)",
  timeout: 'open the Local API port for this host (firewall), or restart a hung Local API',
  'connection-closed': 'the Local API port speaks TLS: use https:// in the URL',
  auth: 're-register the bouncer (vigil bouncers add NAME, or cscli bouncers add NAME) and put the new key in its configuration',
  'not-found': 'fix the path in the API URL (base URL only; for the Lua bouncers no trailing slash)',
  'module-not-loaded': 'enable the integration in the web server (load the module / Lua configuration, a2enmod crowdsec) and test its configuration',
  'invalid-config': 'fix the configuration (see the file findings above); the bouncer does not start until then',
  terminated: 'the bouncer exited: fix the cause above, then restart it (some bouncers never retry a failed first request)',
};

/** The log lines the signatures are scanned in, where they came from, and every place looked at. */
interface ServiceLogs {
  lines: string[] | undefined;
  source: string;
  looked: string[];
}

async function serviceFindings(opts: DoctorOptions, family: string, base: string, file: string, settings: LapiSettings | undefined): Promise<Finding[]> {
  const out: Finding[] = [];
  const host = opts.host;
  // The process that reads this file names the service and its log, whatever the file is called
  // (`custom.yaml` read by crowdsec-custom-bouncer); --service overrides.
  const reader = opts.service || WEB_FAMILIES.has(family) ? undefined : processesForConfig(await host.processes(), file);
  const svc = serviceFor(family, reader?.name ?? base, settings, opts.service);
  const t = Math.max(opts.timeouts.answerMs, 5000);
  const init = await host.init();
  const logs: ServiceLogs = { lines: undefined, source: '', looked: [] };

  if (init.systemd && (await host.which('systemctl'))) {
    out.push(...(await unitFindings(host, svc, t)));
    await readJournal(opts, svc, t, logs);
  } else {
    out.push(
      skip('service', 'service.unit', `systemd is not running on ${host.where} (PID 1 is ${init.pid1}): unit ${svc.unit}.service not checked`, {
        evidence: ['no /run/systemd/system'],
      }),
    );
    out.push(reader ? readerFinding(svc, reader.processes) : await processFinding(host, svc, family, file));
  }

  if (!logs.lines) out.push(...(await readLogFiles(opts, svc, logs)));
  out.push(...logFindings(logs.lines, logs.source, logs.looked));
  if (svc.webserver === 'nginx') out.push(...(await nginxFindings(opts, file, t)));
  if (svc.webserver === 'apache') out.push(...(await apacheFindings(opts, t)));
  return out;
}

/** The systemd unit: installed, active, restarted by systemd, enabled at boot. */
async function unitFindings(host: Host, svc: ServiceInfo, t: number): Promise<Finding[]> {
  const out: Finding[] = [];
  const u = await systemdUnit(host, `${svc.unit}.service`, t);
  if ('error' in u) {
    out.push(skip('service', 'service.unit', `systemctl show ${svc.unit} failed: not checked`, { evidence: [u.error] }));
  } else if (u.loadState === 'not-found') {
    out.push(
      fail('service', 'service.unit', `no systemd unit ${svc.unit}.service on ${host.where}`, {
        fix: `install the bouncer's package (it ships the unit), or name the unit and its log with --service NAME --log-file FILE`,
      }),
    );
  } else {
    const state = `${u.activeState} (${u.subState})${u.activeEnterTimestamp ? ` since ${u.activeEnterTimestamp}` : ''}`;
    if (u.activeState === 'active') out.push(ok('service', 'service.unit', `${svc.unit}.service is ${state}`));
    else {
      out.push(
        fail('service', 'service.unit', `${svc.unit}.service is ${state}`, {
          evidence: [`result ${u.result || '?'}, main process exit status ${u.execMainStatus || '?'}`],
          fix: `sudo systemctl restart ${svc.unit} && sudo systemctl enable ${svc.unit}`,
        }),
      );
    }
    if (u.nRestarts && u.nRestarts > 0)
      out.push(
        warn('service', 'service.restarts', `${svc.unit}.service was restarted ${u.nRestarts} time(s) by systemd`, {
          fix: 'it keeps exiting: read the log lines below for why',
        }),
      );
    if (u.unitFileState === 'disabled')
      out.push(
        warn('service', 'service.enabled', `${svc.unit}.service is not enabled: it will not start at boot`, { fix: `sudo systemctl enable ${svc.unit}` }),
      );
  }
  return out;
}

/** The unit's journal, when it has lines. */
async function readJournal(opts: DoctorOptions, svc: ServiceInfo, t: number, logs: ServiceLogs): Promise<void> {
  const j = await journalLines(opts.host, `${svc.unit}.service`, opts.journalLines ?? 200, t);
  if (!('error' in j) && j.length > 0) {
    logs.lines = j;
    logs.source = `journalctl -u ${svc.unit}`;
  }
  logs.looked.push(`journalctl -u ${svc.unit}`);
}

/** The process found by this file's path on its command line. */
function readerFinding(svc: ServiceInfo, procs: Array<{ pid: number; argv: string[] }>): Finding {
  return ok('service', 'service.process', `${svc.process} is running with this file (pid ${procs.map((x) => x.pid).join(', ')})`, {
    evidence: procs.slice(0, 3).map((p) => p.argv.join(' ').slice(0, 200)),
  });
}

/** When doctor guessed the service from the file's name, say how to tell it. */
const namesHint = (file: string) => ` If it runs under another name or logs elsewhere, tell doctor: vigil doctor --service NAME --log-file FILE ${file}`;

/** Without systemd: is a process of the service running, and (Go bouncers) the one reading this file? */
async function processFinding(host: Host, svc: ServiceInfo, family: string, file: string): Promise<Finding> {
  const procs = matchProcesses(await host.processes(), svc.process);
  if (procs.length === 0) {
    return fail('service', 'service.process', `no ${svc.process} process is running on ${host.where}`, {
      fix:
        family === 'nginx' || family === 'apache' || family === 'openresty'
          ? `start the web server (systemctl start ${svc.unit}, or ${svc.process})`
          : `start the bouncer (systemctl start ${svc.unit}, or ${svc.process} -c ${file}).${namesHint(file)}`,
    });
  }
  // Go bouncers name their file with -c: the process for this file is the one reading it.
  const configOf = (argv: string[]) => {
    const c = argv.indexOf('-c');
    return c >= 0 && argv[c + 1] ? path.posix.resolve('/', argv[c + 1]) : undefined;
  };
  const mine = svc.webserver ? procs : procs.filter((p) => configOf(p.argv) === undefined || configOf(p.argv) === path.posix.resolve('/', file));
  if (mine.length) {
    return ok('service', 'service.process', `${svc.process} is running (pid ${mine.map((x) => x.pid).join(', ')})`, {
      evidence: mine.slice(0, 3).map((p) => p.argv.join(' ').slice(0, 200)),
    });
  }
  const others = procs.map((p) => configOf(p.argv)).filter((c): c is string => !!c);
  return fail('service', 'service.process', `no ${svc.process} process reads ${file}: the running one(s) read ${[...new Set(others)].join(', ')}`, {
    evidence: procs.slice(0, 3).map((p) => `pid ${p.pid}: ${p.argv.join(' ').slice(0, 200)}`),
    fix: `start the bouncer with this file (systemctl start ${svc.unit}, or ${svc.process} -c ${file}), or check the file it does read: vigil doctor ${others[0] ?? ''}`.trim(),
  });
}

/** The first log file with lines (`--log-file`, else the service's own); a file that cannot be read is said. */
async function readLogFiles(opts: DoctorOptions, svc: ServiceInfo, logs: ServiceLogs): Promise<Finding[]> {
  const out: Finding[] = [];
  const candidates = opts.logFile ? [opts.logFile] : svc.logFiles;
  for (const f of candidates) {
    const r = await logFileLines(opts.host, f, opts.journalLines ?? 200);
    logs.looked.push(f);
    if (Array.isArray(r)) {
      if (r.length) {
        logs.lines = r;
        logs.source = f;
        break;
      }
    } else if (!r.missing) {
      out.push(skip('service', 'service.logs', `cannot read ${f}: ${r.error}`, { fix: 'run doctor as root' }));
    }
  }
  return out;
}

export function logFindings(lines: string[] | undefined, source: string, looked: string[]): Finding[] {
  if (!lines) return [skip('service', 'service.logs', 'no log lines found: the logs were not scanned', { evidence: looked.map((l) => `looked at ${l}`) })];
  const scan = scanLogLines(lines);
  if (scan.hits.length === 0) return [ok('service', 'service.logs', `last ${scan.lines} log lines of ${source}: none of the failure signatures`)];
  const evidence = scan.hits.map((h) => `${h.count}× ${SIGNATURE_TEXT[h.kind]}; last: ${h.lastLine}`);
  if (scan.recovered) {
    return [
      ok('service', 'service.logs', `${source}: earlier errors, then a successful exchange with the Local API`, {
        evidence: [...evidence, `since: ${scan.lastSuccess!.line}`],
      }),
    ];
  }
  const last = scan.lastError!;
  return [
    fail('service', 'service.logs', `${source}: ${SIGNATURE_TEXT[last.kind]}`, {
      evidence: [`last of ${scan.lines} lines scanned: ${last.line}`, ...evidence],
      fix: LOG_FIX[last.kind],
    }),
  ];
}

async function nginxFindings(opts: DoctorOptions, file: string, timeoutMs: number): Promise<Finding[]> {
  const r = await nginxTest(opts.host, { configFile: opts.nginxConfig, timeoutMs });
  if ('missing' in r) return [skip('service', 'service.nginx', `nginx is not installed on ${opts.host.where}: nginx -t not run`)];
  if ('error' in r) return [fail('service', 'service.nginx', `nginx -t could not run: ${r.error}`)];
  const cmd = `${r.binary} -t${opts.nginxConfig ? ` -c ${opts.nginxConfig}` : ''}`;
  const out: Finding[] = [];
  let dump = r.dump;
  if (!r.ok) {
    const errors = nginxTestErrors(r.stderr);
    const kinds = scanLogLines(errors);
    const moduleMissing = kinds.hits.some((h) => h.kind === 'module-not-loaded');
    out.push(
      fail('service', 'service.nginx', `${cmd} failed: ${moduleMissing ? 'the CrowdSec module or Lua support is not loaded' : 'invalid configuration'}`, {
        evidence: errors.length ? errors : [r.stderr.trim().slice(0, 300)],
        fix: moduleMissing
          ? 'install and load what the directive needs (the Lua bouncer needs the lua module: apt install libnginx-mod-http-lua, or OpenResty; the C module needs load_module …/ngx_http_crowdsec_module.so), then nginx -t && systemctl reload nginx'
          : 'fix the line named above, then nginx -t && systemctl reload nginx',
      }),
    );
    // -T prints nothing when the test fails: read the main file itself for the integration check.
    const main = await opts.host.readFile(opts.nginxConfig ?? '/etc/nginx/nginx.conf');
    dump = isFileError(main) ? '' : `# configuration file ${opts.nginxConfig ?? '/etc/nginx/nginx.conf'}:\n${main.text}`;
  } else {
    out.push(ok('service', 'service.nginx', `${cmd}: syntax is ok, test is successful`));
  }
  const i = scanNginxDump(dump);
  const ev = (list: { file: string; line: number; text: string }[]) => list.slice(0, 4).map((e) => `${e.file}:${e.line}: ${e.text}`);
  if (i.none) {
    out.push(
      fail('service', 'service.integration', 'nginx has no CrowdSec integration: no Lua bouncer, no crowdsec module, no auth_request', {
        evidence: [
          'searched the whole configuration (nginx -T) for lua_package_path …crowdsec, require "crowdsec", load_module …ngx_http_crowdsec_module.so, crowdsec_enabled, auth_request',
        ],
        fix: "enable the bouncer in nginx: include its configuration (the Lua bouncer's conf.d/crowdsec_nginx.conf, or load_module + crowdsec_enabled on), then nginx -t && systemctl reload nginx",
      }),
    );
  } else if (r.ok) {
    const what = i.lua.length ? 'the CrowdSec Lua bouncer' : i.cModule.length ? 'the CrowdSec nginx module' : 'an auth_request (forward-auth) bouncer';
    out.push(ok('service', 'service.integration', `nginx loads ${what}`, { evidence: ev([...i.lua, ...i.cModule, ...i.forwardAuth]) }));
    if (i.bouncerConfigs.length && !i.bouncerConfigs.some((c) => path.posix.resolve('/', c) === path.posix.resolve('/', file)) && /\.conf$/.test(file)) {
      out.push(
        warn('service', 'service.integration', `nginx's Lua bouncer reads ${i.bouncerConfigs.join(', ')}, not ${file}`, {
          fix: `check that file instead: vigil doctor --config ${i.bouncerConfigs[0]}`,
        }),
      );
    }
  } else {
    out.push(
      skip('service', 'service.integration', 'CrowdSec directives are present, but nginx refuses the configuration: not loaded until it passes nginx -t', {
        evidence: ev([...i.lua, ...i.cModule, ...i.forwardAuth]),
      }),
    );
  }
  return out;
}

async function apacheFindings(opts: DoctorOptions, timeoutMs: number): Promise<Finding[]> {
  const r = await apacheTest(opts.host, { timeoutMs });
  if ('missing' in r) return [skip('service', 'service.apache', `apache2ctl is not installed on ${opts.host.where}: apache2ctl -t not run`)];
  if ('error' in r) return [fail('service', 'service.apache', `apache2ctl -t could not run: ${r.error}`)];
  const out: Finding[] = [];
  if (!r.ok)
    out.push(
      fail('service', 'service.apache', `${r.binary} -t failed`, {
        evidence: r.stderr.trim().split('\n').slice(0, 6),
        fix: 'fix the line named above, then apache2ctl -t && systemctl reload apache2',
      }),
    );
  else out.push(ok('service', 'service.apache', `${r.binary} -t: Syntax OK`));
  const mods = apacheHasCrowdsec(r.modules);
  if (mods.length) out.push(ok('service', 'service.integration', 'apache loads the CrowdSec module', { evidence: mods.map((m) => m.text) }));
  else
    out.push(
      fail('service', 'service.integration', 'apache does not load the CrowdSec module (not in apache2ctl -M)', {
        fix: 'sudo a2enmod crowdsec && sudo systemctl restart apache2',
      }),
    );
  return out;
}
