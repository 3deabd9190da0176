/**
 * `vigil doctor`: the seed's "How to Diagnose", run. For each bouncer configuration it checks, in
 * order, the file, the URL, the network, the Local API and the service, and turns every result
 * into a finding with its evidence and its fix. The checks' decisions live in the pure modules
 * (bouncer-config, url-checks, permissions, log-signatures, webserver-config); the stages that run
 * the probes through a Host are config-checks, endpoint-checks, service-checks (with log-checks and
 * webserver-checks); this file finds the targets and assembles the report.
 *
 * Needs no Vigil database and talks to the Local API over HTTP only, so it works the same against
 * `vigil serve` and a real CrowdSec.
 */
import path from 'node:path';
import { formatOfFile, hasPlaceholder, loadBouncerConfig, type LapiSettings } from '../core/doctor/bouncer-config.ts';
import { buildReport, fail, ok, warn, type DoctorReport, type DoctorTarget, type Finding } from '../core/doctor/finding.ts';
import { bouncerFamily } from '../core/health/bouncer-kind.ts';
import { at, permissionFindings, readConfigFiles, settingsFindings, syntaxFinding } from './config-checks.ts';
import { checkEndpoint } from './endpoint-checks.ts';
import { consoleTradeOffFinding, crowdsecConfigDoc, onlineCredentialsPath } from '../core/doctor/console-tradeoff.ts';
import { isFileError, type Host } from './host.ts';
import { DEFAULT_CONFIG_DIR, type DoctorOptions } from './options.ts';
import { serviceFindings } from './service-checks.ts';

export { DEFAULT_CONFIG_DIR, DEFAULT_CROWDSEC_CONFIG, type DoctorOptions } from './options.ts';

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const targets: DoctorTarget[] = [];
  if (opts.url !== undefined) {
    targets.push(await checkUrlTarget(opts));
  } else {
    const files = opts.configFiles?.length ? { files: opts.configFiles } : await discover(opts.host, opts.configDir ?? DEFAULT_CONFIG_DIR);
    if ('finding' in files) targets.push({ name: opts.configDir ?? DEFAULT_CONFIG_DIR, format: 'yaml', family: 'generic', findings: [files.finding] });
    else for (const f of files.files) targets.push(await checkConfigTarget(opts, f));
  }
  const switched = opts.crowdsecConfig === undefined ? null : await checkSwitchedCrowdsec(opts.host, opts.crowdsecConfig);
  if (switched) targets.push(switched);
  return buildReport(opts.host.where, targets);
}

/**
 * A CrowdSec whose Local API was switched to Vigil while it keeps online_client credentials
 * (core/doctor/console-tradeoff.ts): a target of its own, only when the config says it was switched.
 */
async function checkSwitchedCrowdsec(host: Host, file: string): Promise<DoctorTarget | null> {
  const main = await host.readFile(file);
  if (isFileError(main)) return null;
  const local = await host.readFile(`${file}.local`);
  const doc = crowdsecConfigDoc(main.text, isFileError(local) ? null : local.text);
  const credentialsFile = onlineCredentialsPath(doc);
  let credentials: { file: string; text: string | null } | null = null;
  if (credentialsFile !== null) {
    const read = await host.readFile(credentialsFile);
    credentials = { file: credentialsFile, text: isFileError(read) ? null : read.text };
  }
  const finding = consoleTradeOffFinding(file, doc, credentials);
  return finding ? { name: file, format: 'yaml', family: 'crowdsec', findings: [finding] } : null;
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
