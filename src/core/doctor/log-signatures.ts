/**
 * Scans a bouncer's (or its web server's) recent log lines for the seed's signatures: connection
 * refused, 401/403, module not loaded, invalid configuration — and the other network failures
 * the probes distinguish. Pure: lines in, classification out.
 *
 * The patterns come from real output, captured here from crowdsec-custom-bouncer 0.0.15 and
 * crowdsec-firewall-bouncer 0.0.25 (see src/core/doctor/log-signatures.test.ts for the lines):
 *   API error: access forbidden
 *   … dial tcp 127.0.0.1:18099: connect: connection refused
 *   … dial tcp: lookup nonexistent.invalid on 10.255.255.53:53: no such host
 *   … x509: certificate signed by unknown authority
 *   … http: server gave HTTP response to HTTPS client
 *   … auth with api key failed return nil response, error: EOF      (http:// to a TLS port)
 *   unable to read config file: bad.yaml: yaml: line 2: mapping values are not allowed in this context
 *   terminating bouncer process / process return with error: stream api init failed
 * and from nginx (`unknown directive "lua_package_path"`, `dlopen() "…ngx_http_crowdsec_module.so" failed`).
 */

export type SignatureKind =
  | 'dns'
  | 'unreachable'
  | 'connection-refused'
  | 'tls'
  | 'timeout'
  | 'connection-closed'
  | 'auth'
  | 'not-found'
  | 'module-not-loaded'
  | 'invalid-config'
  | 'terminated';

/** First match wins: a DNS timeout is a DNS failure, not a generic timeout. */
const SIGNATURES: ReadonlyArray<{ kind: SignatureKind; pattern: RegExp }> = [
  {
    kind: 'dns',
    pattern: /no such host|server misbehaving|lookup \S+ on \S+: .*timeout|ENOTFOUND|EAI_AGAIN|could not resolve|failed to resolve|name resolution/i,
  },
  { kind: 'unreachable', pattern: /no route to host|network is unreachable|EHOSTUNREACH|ENETUNREACH|host is unreachable/i },
  { kind: 'connection-refused', pattern: /connection refused|ECONNREFUSED/i },
  {
    kind: 'tls',
    pattern:
      /x509: |\btls: |server gave HTTP response to HTTPS client|ssl handshake|SSL_do_handshake|certificate verify failed|self[- ]signed certificate|wrong version number/i,
  },
  { kind: 'timeout', pattern: /i\/o timeout|timed out|deadline exceeded|Client\.Timeout|ETIMEDOUT/i },
  { kind: 'connection-closed', pattern: /error: EOF"?\s*$|: EOF"?\s*$|unexpected EOF|connection reset|ECONNRESET|socket hang up/i },
  {
    kind: 'auth',
    pattern:
      /access forbidden|API key not found|\b(?:HTTP|status(?: code)?:?|returned|code) ?(?:401|403)\b|\b(?:401|403) (?:Unauthorized|Forbidden)\b|\bunauthorized\b|\bforbidden\b/i,
  },
  { kind: 'not-found', pattern: /\b(?:HTTP|status(?: code)?:?|returned|code) ?404\b|\b404 Not Found\b|page not found/i },
  {
    kind: 'module-not-loaded',
    pattern:
      /module not loaded|unknown directive "(?:crowdsec|lua|access_by_lua|init_by_lua|init_worker_by_lua)[^"]*"|module '?crowdsec'? not found|Invalid command '?Crowdsec|dlopen\(\) "[^"]*crowdsec[^"]*" failed|ngx_http_crowdsec_module\.so[^\n]*(?:failed|No such file)/i,
  },
  {
    kind: 'invalid-config',
    pattern:
      /invalid configuration|unable to read config file|unable to load configuration|unable to configure bouncer|yaml: (?:line \d+|unmarshal)|unable to parse duration|config does not contain|configuration file \S+ test failed|unsupported configuration|can't merge a/i,
  },
  { kind: 'terminated', pattern: /terminating bouncer process|process return with error|level=fatal|\bexited\b.*\bstatus\b/i },
];

/** Lines that show the bouncer talking to the Local API successfully. */
const SUCCESS =
  /adding '\d+' decisions|deleting '\d+' decisions|added \d+ (?:new )?decisions|deleted \d+ decisions|\[Crowdsec\] Initialisation done|decisions? (?:pulled|received)|stream (?:pull|update) (?:ok|succeeded)/i;

export const SIGNATURE_TEXT: Record<SignatureKind, string> = {
  dns: 'DNS failure (the Local API host name does not resolve)',
  unreachable: 'network unreachable (no route to the Local API host)',
  'connection-refused': 'connection refused (nothing listening at the Local API address)',
  tls: 'TLS failure (certificate or http/https mismatch)',
  timeout: 'timed out reaching the Local API',
  'connection-closed': 'connection closed by the server (an http:// URL to a TLS port?)',
  auth: 'authentication failed (401/403: key unknown, revoked or bouncer deleted)',
  'not-found': '404 from the Local API (wrong API URL path)',
  'module-not-loaded': 'module not loaded (integration not enabled in the web server)',
  'invalid-config': 'invalid configuration',
  terminated: 'the bouncer exited',
};

export interface SignatureHit {
  kind: SignatureKind;
  count: number;
  /** Index (in the scanned lines) and text of the most recent line of this kind. */
  lastIndex: number;
  lastLine: string;
}

export interface LogScan {
  lines: number;
  hits: SignatureHit[];
  /** Most recent line of any signature. */
  lastError?: { index: number; line: string; kind: SignatureKind };
  lastSuccess?: { index: number; line: string };
  /** Errors were logged, but a successful exchange came after the last one. */
  recovered: boolean;
}

const MAX_LINE = 300;

/** Keys in log lines (`X-Api-Key: …`, `api_key=…`, `API_KEY=…`) are masked before any line is kept. */
export function redactLogLine(line: string): string {
  const cut = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
  return cut.replace(/((?:x-api-key|api[_-]?key|apikey|token|password)\s*[:=]\s*"?)([^\s",&]+)/gi, (_m, k: string, v: string) => `${k}${v.slice(0, 4)}…`);
}

export function classifyLine(line: string): SignatureKind | undefined {
  for (const s of SIGNATURES) if (s.pattern.test(line)) return s.kind;
  return undefined;
}

export function scanLogLines(lines: readonly string[]): LogScan {
  const byKind = new Map<SignatureKind, SignatureHit>();
  let lastError: LogScan['lastError'];
  let lastSuccess: LogScan['lastSuccess'];
  lines.forEach((raw, index) => {
    const line = raw.trimEnd();
    if (line === '') return;
    if (SUCCESS.test(line)) {
      lastSuccess = { index, line: redactLogLine(line) };
      return;
    }
    const kind = classifyLine(line);
    if (!kind) return;
    const kept = redactLogLine(line);
    const hit = byKind.get(kind);
    if (hit) {
      hit.count++;
      hit.lastIndex = index;
      hit.lastLine = kept;
    } else {
      byKind.set(kind, { kind, count: 1, lastIndex: index, lastLine: kept });
    }
    lastError = { index, line: kept, kind };
  });
  const hits = [...byKind.values()].sort((a, b) => b.lastIndex - a.lastIndex);
  return { lines: lines.length, hits, lastError, lastSuccess, recovered: !!lastError && !!lastSuccess && lastSuccess.index > lastError.index };
}
