/**
 * CrowdSec's Local API log, line by line, as `vigil watch` reads it. Pure: text in, events out.
 *
 * The access log (`crowdsec_api.log` in `common.log_dir`, or the process's stdout/journald with
 * `log_media: stdout`) is gin's LoggerWithFormatter line, written through a logrus logger, so in
 * CrowdSec 1.4.6–1.7 a line looks like (test/fixtures/crowdsec-1.4.6/lapi-access.log, real):
 *
 *   time="03-12-2026 10:00:28" level=info msg="127.0.0.1 - [Thu, 03 Dec 2026 10:00:28 UTC] \"GET /v1/decisions/stream HTTP/1.1 200 1.06ms \"crowdsec-custom-bouncer/v0.0.15\" \""
 *
 * `log_format: json` (1.6+) wraps the same text as `{"msg":"…","time":"…"}`; a bare gin line is
 * read too. CrowdSec's main log (`crowdsec.log`, or the same stdout) says when the Local API
 * started ("CrowdSec Local API listening on HOST:PORT") and which machine a refused login named.
 *
 * A line that is none of these is `malformed` (counted, skipped, never fatal); another logrus
 * message is `other`.
 */

export type LapiLogEvent =
  | { type: 'request'; at: number; peerIp: string; method: string; path: string; status: number; userAgent: string }
  | { type: 'lapi_start'; at: number; listen: string }
  /** `Error machine login for NAME : ent: machine not found` (the access log's 401 does not say which). */
  | { type: 'unknown_machine'; at: number; machineId: string }
  | { type: 'other' }
  | { type: 'malformed' };

export interface ParseOptions {
  /**
   * The offset (ms to add to UTC) of the zone CrowdSec logged its wall-clock times in, for a wall
   * time read as if it were UTC. logrus's text time (`02-01-2006 15:04:05`) carries no zone, and
   * gin's RFC 1123 time names a zone only by abbreviation; both are the process's local time.
   * Default: UTC (CrowdSec's Docker image and most servers).
   */
  zoneOffsetMs?: (wallClockAsUtcMs: number) => number;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** logrus's text formatter: `time="…" level=… msg="…"` and more `key=value` fields. */
const LOGRUS_TEXT = /^time="([^"]*)"\s+level=(\w+)\s+msg=("(?:[^"\\]|\\.)*"|[^"\s]*)/;
/** gin's line as CrowdSec formats it (pkg/apiserver: `%s - [%s] "%s %s %s %d %s %q %s"`). */
const GIN = /^(\S+) - \[([^\]]+)\] "([A-Z]+) (\S+) (HTTP\/[\d.]+) (\d{3}) (\S+) "((?:[^"\\]|\\.)*)" ?(.*)"$/;
const LISTENING = /Local API listening on (\S+)/;
const UNKNOWN_MACHINE = /^Error machine login for (.*?) : .*machine not found/;

export function parseLapiLogLine(line: string, opts: ParseOptions = {}): LapiLogEvent {
  const text = line.trimEnd();
  if (text === '') return { type: 'other' };
  let msg: string;
  let wrapperTime: number | null = null;
  const m = LOGRUS_TEXT.exec(text);
  if (m) {
    // A quoted message cut short (a line torn by a crash or a rotation).
    if (m[3] === '' && text.slice(m[0].length).startsWith('"')) return { type: 'malformed' };
    msg = m[3]!.startsWith('"') ? unquoteGo(m[3]!) : m[3]!;
    wrapperTime = logrusTextTime(m[1]!, opts);
  } else if (text.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return { type: 'malformed' };
    }
    if (typeof data !== 'object' || data === null || typeof (data as { msg?: unknown }).msg !== 'string') return { type: 'malformed' };
    msg = (data as { msg: string }).msg;
    const t = (data as { time?: unknown }).time;
    if (typeof t === 'string') {
      const parsed = Date.parse(t);
      wrapperTime = Number.isFinite(parsed) ? parsed : null;
    }
  } else if (GIN.test(text)) {
    msg = text;
  } else {
    return { type: 'malformed' };
  }
  msg = msg.trimEnd();

  const g = GIN.exec(msg);
  if (g) {
    const at = rfc1123Time(g[2]!, opts) ?? wrapperTime;
    if (at === null) return { type: 'malformed' };
    return {
      type: 'request',
      at,
      peerIp: g[1]!,
      method: g[3]!,
      // The query is not needed and may carry an IP being checked: the path alone.
      path: g[4]!.split('?')[0]!,
      status: Number(g[6]),
      userAgent: unquoteGo(`"${g[8]!}"`),
    };
  }
  // Something shaped like an access line that does not parse is damaged, not another message.
  if (/^\S+ - \[/.test(msg)) return { type: 'malformed' };
  const listening = LISTENING.exec(msg);
  if (listening && wrapperTime !== null) return { type: 'lapi_start', at: wrapperTime, listen: listening[1]! };
  const unknown = UNKNOWN_MACHINE.exec(msg);
  if (unknown && wrapperTime !== null) return { type: 'unknown_machine', at: wrapperTime, machineId: unknown[1]!.trim() };
  return { type: 'other' };
}

/** `03-12-2026 10:00:28` (logrus TimestampFormat `02-01-2006 15:04:05`, local time), or RFC 3339 in newer configs. */
function logrusTextTime(s: string, opts: ParseOptions): number | null {
  const m = /^(\d\d)-(\d\d)-(\d{4}) (\d\d):(\d\d):(\d\d)$/.exec(s);
  if (m) return fromWallClock(Date.UTC(+m[3]!, +m[2]! - 1, +m[1]!, +m[4]!, +m[5]!, +m[6]!), opts);
  const parsed = Date.parse(s);
  return Number.isFinite(parsed) ? parsed : null;
}

/** `Thu, 03 Dec 2026 10:00:28 UTC` (Go's time.RFC1123: a zone abbreviation, or RFC1123Z's -0700). */
function rfc1123Time(s: string, opts: ParseOptions): number | null {
  const m = /^\w{3}, (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) (\S+)$/.exec(s);
  if (!m || MONTHS[m[2]!] === undefined) return null;
  const wall = Date.UTC(+m[3]!, MONTHS[m[2]!]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  const zone = m[7]!;
  if (zone === 'UTC' || zone === 'GMT' || zone === 'Z') return wall;
  const numeric = /^([+-])(\d\d):?(\d\d)$/.exec(zone);
  if (numeric) return wall - (numeric[1] === '-' ? -1 : 1) * (+numeric[2]! * 60 + +numeric[3]!) * 60_000;
  return fromWallClock(wall, opts);
}

function fromWallClock(wallAsUtc: number, opts: ParseOptions): number {
  return wallAsUtc - (opts.zoneOffsetMs?.(wallAsUtc) ?? 0);
}

/** A Go-quoted string (`"…"` with \" \\ \n \t \xNN \uNNNN escapes) → its text; unknown escapes kept. */
export function unquoteGo(quoted: string): string {
  const body = quoted.startsWith('"') && quoted.endsWith('"') && quoted.length >= 2 ? quoted.slice(1, -1) : quoted;
  if (!body.includes('\\')) return body;
  return body.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|.)/g, (_all, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'u':
      case 'U':
      case 'x':
        return String.fromCodePoint(Number.parseInt(e.slice(1), 16));
      default:
        return e;
    }
  });
}

/** What a request in the access log means for health. */
export type RequestMeaning =
  | { kind: 'pull'; mode: 'stream' | 'live' }
  | { kind: 'refused'; reason: string }
  | { kind: 'machine'; what: 'login' | 'heartbeat' | 'push' }
  | { kind: 'other' };

/**
 * What the Local API answered, in the words of Vigil's own records (RefusedSummary.reason):
 * - 200 on GET /v1/decisions/stream: a stream pull; on GET /v1/decisions: a live query;
 * - 403 on /v1/decisions*: CrowdSec refuses a bouncer key with 403, missing and unknown alike
 *   (docs/reference/crowdsec-wire-protocol.md §3): `unknown` (a revoked key is refused the same way);
 * - 404 with "decision" in the path: a bouncer's wrong api_url (`wrong-path`);
 * - 401 on POST /v1/watchers/login: a refused login. CrowdSec answers 401 for a wrong password and an
 *   unknown machine alike; its main log names the unknown one (`unknown_machine` above).
 */
export function requestMeaning(r: { method: string; path: string; status: number }): RequestMeaning {
  const path = r.path.replace(/\/+$/, '') || '/';
  if (path === '/v1/decisions/stream' && r.method === 'GET' && r.status === 200) return { kind: 'pull', mode: 'stream' };
  if (path === '/v1/decisions' && r.method === 'GET' && r.status === 200) return { kind: 'pull', mode: 'live' };
  if (path.startsWith('/v1/decisions') && r.status === 403) return { kind: 'refused', reason: 'unknown' };
  if (r.status === 404 && /decision/i.test(path)) return { kind: 'refused', reason: 'wrong-path' };
  if (path === '/v1/watchers/login' && r.method === 'POST')
    return r.status === 401 ? { kind: 'refused', reason: 'login:bad-password' } : r.status === 200 ? { kind: 'machine', what: 'login' } : { kind: 'other' };
  if (path === '/v1/heartbeat' && r.status === 200) return { kind: 'machine', what: 'heartbeat' };
  if (path === '/v1/alerts' && r.method === 'POST' && r.status < 300) return { kind: 'machine', what: 'push' };
  return { kind: 'other' };
}
