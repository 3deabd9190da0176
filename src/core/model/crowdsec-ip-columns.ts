/**
 * The five integer columns CrowdSec stores beside an `Ip` or `Range` decision (`ip_size`,
 * `start_ip`, `end_ip`, `start_suffix`, `end_suffix`) and queries for `GET /v1/decisions?ip=`.
 * Written by `vigil export crowdsec`, so they must be exactly what CrowdSec's own `IP2Ints` and
 * `uint2int` (pkg/types/ip.go) compute: read back from rows the real 1.4.6 LAPI wrote
 * (crowdsec-ip-columns.test.ts holds them). Pure.
 */
import { parseIpOrRange, type IpWords } from '../../lib/ip.ts';

export interface CrowdsecIpColumns {
  /** 4, 16, or 0 for any other scope (Country, username…). */
  readonly ipSize: 0 | 4 | 16;
  readonly startIp: bigint;
  readonly endIp: bigint;
  readonly startSuffix: bigint;
  readonly endSuffix: bigint;
}

const MAX_INT64 = (1n << 63n) - 1n;
const NONE: CrowdsecIpColumns = { ipSize: 0, startIp: 0n, endIp: 0n, startSuffix: 0n, endSuffix: 0n };

/** CrowdSec's uint64 → int64 shift, so SQL compares unsigned addresses as signed integers. */
export function crowdsecUint2Int(u: bigint): bigint {
  // Go: MaxInt64 → 0, MaxUint64 → MaxInt64, else u - MaxInt64 (both branches): the one case past MaxInt64 is clamped.
  const shifted = u - MAX_INT64;
  return shifted > MAX_INT64 ? MAX_INT64 : shifted;
}

const word64 = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

function halves(words: IpWords): { ip: bigint; suffix: bigint } {
  if (words.length === 1) return { ip: crowdsecUint2Int(BigInt(words[0]! >>> 0)), suffix: crowdsecUint2Int(0n) };
  return { ip: crowdsecUint2Int(word64(words[0]!, words[1]!)), suffix: crowdsecUint2Int(word64(words[2]!, words[3]!)) };
}

/** The columns for a decision; zeros for scopes that are not an address or a range, or a value that does not parse. */
export function crowdsecIpColumns(scope: string, value: string): CrowdsecIpColumns {
  const s = scope.toLowerCase();
  if (s !== 'ip' && s !== 'range') return NONE;
  let parsed: ReturnType<typeof parseIpOrRange>;
  try {
    parsed = parseIpOrRange(value);
  } catch {
    return NONE;
  }
  const first = parsed.kind === 'address' ? parsed.words : parsed.first;
  const last = parsed.kind === 'address' ? parsed.words : parsed.last;
  const a = halves(first);
  const b = halves(last);
  return { ipSize: parsed.family === 4 ? 4 : 16, startIp: a.ip, endIp: b.ip, startSuffix: a.suffix, endSuffix: b.suffix };
}
