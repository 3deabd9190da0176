/**
 * Doctor's service stage: which service runs the bouncer, its systemd unit or process, the log it
 * writes (scanned in log-checks.ts) and, for a web server's bouncer, the web server's own test.
 */
import path from 'node:path';
import type { LapiSettings } from '../core/doctor/bouncer-config.ts';
import { fail, ok, skip, warn, type Finding } from '../core/doctor/finding.ts';
import { processesForConfig } from '../core/doctor/process-for-config.ts';
import type { Host } from './host.ts';
import { logFindings } from './log-checks.ts';
import { WEB_FAMILIES, type DoctorOptions } from './options.ts';
import { journalLines, logFileLines, matchProcesses, systemdUnit } from './service-probe.ts';
import { apacheFindings, nginxFindings } from './webserver-checks.ts';

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

/** The log lines the signatures are scanned in, where they came from, and every place looked at. */
interface ServiceLogs {
  lines: string[] | undefined;
  source: string;
  looked: string[];
}

export async function serviceFindings(opts: DoctorOptions, family: string, base: string, file: string, settings: LapiSettings | undefined): Promise<Finding[]> {
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
