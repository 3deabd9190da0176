import { describe, expect, it } from 'vitest';
import { classifyLine, redactLogLine, scanLogLines } from './log-signatures.ts';

/**
 * Real log lines, captured on this project's machines from crowdsec-custom-bouncer 0.0.15 and
 * crowdsec-firewall-bouncer 0.0.25 (Debian bookworm) pointed at: a server answering 403, a closed
 * port, a name that does not resolve, a self-signed TLS server, a TLS port with http://, a plain
 * port with https://, bad YAML, a missing file, a duration without unit, no key; and nginx 1.22.
 */
const REAL: Record<string, string[]> = {
  auth: ['time="24-11-2026 05:20:36" level=error msg="API error: access forbidden"'],
  'connection-refused': [
    'time="24-11-2026 05:20:40" level=error msg="auth-api: auth with api key failed return nil response, error: dial tcp 127.0.0.1:18099: connect: connection refused"',
    'time="24-11-2026 05:20:40" level=error msg="Get \\"http://127.0.0.1:18099/v1/decisions/stream?startup=true\\": dial tcp 127.0.0.1:18099: connect: connection refused"',
  ],
  dns: [
    'time="24-11-2026 05:20:56" level=error msg="auth-api: auth with api key failed return nil response, error: dial tcp: lookup nonexistent.invalid on 10.255.255.53:53: no such host"',
  ],
  tls: [
    'time="24-11-2026 05:21:57" level=error msg="auth-api: auth with api key failed return nil response, error: x509: certificate signed by unknown authority"',
    'time="24-11-2026 05:22:03" level=error msg="Get \\"https://127.0.0.1:18085/v1/decisions/stream?startup=true\\": http: server gave HTTP response to HTTPS client"',
    'time="24-11-2026 05:22:03" level=error msg="auth-api: auth with api key failed return nil response, error: tls: first record does not look like a TLS handshake"',
  ],
  'connection-closed': ['time="24-11-2026 05:22:00" level=error msg="auth-api: auth with api key failed return nil response, error: EOF"'],
  'invalid-config': [
    'time="2026-11-24T05:22:06Z" level=fatal msg="unable to read config file: bad.yaml: yaml: line 2: mapping values are not allowed in this context"',
    'time="2026-11-24T05:22:06Z" level=fatal msg="unable to read config file: while reading yaml file: open /tmp/doc7/missing.yaml: no such file or directory"',
    'time="24-11-2026 05:24:10" level=error msg="unable to parse duration \'10\': time: missing unit in duration \\"10\\""',
    'time="24-11-2026 05:24:10" level=error msg="unable to configure bouncer: config does not contain LAPI key or certificate"',
    'time="2026-11-24T05:24:08Z" level=fatal msg="unable to read config file: couldn\'t decode source: yaml: unmarshal errors:\\n  line 3: key \\"api_key\\" already set in map"',
  ],
  terminated: [
    'time="24-11-2026 05:23:40" level=error msg="terminating bouncer process"',
    'time="24-11-2026 05:23:40" level=error msg="process return with error: stream api init failed"',
  ],
  'module-not-loaded': [
    '2026/11/24 05:40:00 [emerg] 1234#1234: unknown directive "lua_package_path" in /tmp/x/nginx.conf:12',
    '2026/11/24 05:40:00 [emerg] 1234#1234: dlopen() "/usr/share/nginx/modules/ngx_http_crowdsec_module.so" failed (/usr/share/nginx/modules/ngx_http_crowdsec_module.so: cannot open shared object file: No such file or directory) in /tmp/x/nginx.conf:1',
    "AH00526: Syntax error on line 3 of /etc/apache2/mods-enabled/crowdsec.conf: Invalid command 'CrowdsecEnabled', perhaps misspelled or defined by a module not included in the server configuration",
  ],
};

const QUIET = [
  'time="24-11-2026 05:20:36" level=info msg="Using API key auth"',
  'time="24-11-2026 05:20:36" level=info msg="Processing new and deleted decisions . . ."',
  'time="24-11-2026 05:23:37" level=info msg="nftables initiated"',
  'time="24-11-2026 05:23:37" level=info msg="backend type : nftables"',
];

describe('log signature scanner', () => {
  for (const [kind, lines] of Object.entries(REAL)) {
    it(`recognises ${kind}`, () => {
      for (const l of lines) expect(classifyLine(l), l).toBe(kind);
    });
  }

  it('leaves ordinary lines alone', () => {
    for (const l of QUIET) expect(classifyLine(l), l).toBeUndefined();
  });

  it('counts, keeps the last line of each kind, most recent first', () => {
    const lines = [...QUIET.slice(0, 2), REAL.auth[0], REAL['connection-refused'][0], REAL['connection-refused'][1], REAL.auth[0]];
    const scan = scanLogLines(lines);
    expect(scan.hits.map((h) => `${h.kind}×${h.count}`)).toEqual(['auth×2', 'connection-refused×2']);
    expect(scan.lastError).toMatchObject({ kind: 'auth', index: 5 });
    expect(scan.recovered).toBe(false);
  });

  it('sees a recovery: a successful pull after the last error', () => {
    const scan = scanLogLines([
      REAL['connection-refused'][0],
      'time="24-11-2026 05:20:44" level=info msg="deleting \'0\' decisions"',
      'time="24-11-2026 05:20:44" level=info msg="adding \'3\' decisions"',
    ]);
    expect(scan.recovered).toBe(true);
    expect(scan.lastSuccess?.line).toContain("adding '3' decisions");
  });

  it('masks keys before keeping a line', () => {
    expect(redactLogLine('request failed X-Api-Key: 1f56a4da412d18783d7ead0122be1783 status 403')).toBe('request failed X-Api-Key: 1f56… status 403');
    expect(redactLogLine('API_KEY=abcdef0123456789abcdef')).toBe('API_KEY=abcd…');
  });
});
