/** Doctor's log stage: the failure signatures found in a bouncer's log lines, and the fix for the last one. */
import { fail, ok, skip, type Finding } from '../core/doctor/finding.ts';
import { scanLogLines, SIGNATURE_TEXT, type SignatureKind } from '../core/doctor/log-signatures.ts';

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
