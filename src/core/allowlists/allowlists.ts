import { VigilError } from '../../lib/errors.ts';
import { compareWords, maskWord, tryParseIpOrRange, toInterval, type IpInterval } from '../../lib/ip.ts';

/**
 * Centralized allowlists (CrowdSec 1.6.6+, docs/reference/crowdsec-1.6-1.7.md §3): named lists of
 * IPs and ranges, each item with an optional expiry. They act at write time only: an agent's alert
 * on an allowlisted source is dropped, `decisions add` refuses an allowlisted value, and adding an
 * item expires the active decisions it covers. Pure: lists and items in, matches out.
 */

export interface Allowlist {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** The Console's id for a list it manages; '' for a local list. */
  readonly allowlistId: string;
  /** Managed from the Console: cscli (and vigil) refuse to edit it. */
  readonly fromConsole: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface AllowlistItem {
  readonly id: number;
  readonly allowlistId: number;
  /** An IP or a CIDR range, as given. */
  readonly value: string;
  readonly comment: string;
  /** Epoch ms, or null for an item that never expires. */
  readonly expiresAt: number | null;
  readonly createdAt: number;
}

/** An item that applies at `now`. CrowdSec keeps an item while `expires_at >= now`. */
export const itemActive = (item: Pick<AllowlistItem, 'expiresAt'>, now: number): boolean => item.expiresAt === null || item.expiresAt >= now;

/**
 * The interval of an allowlist value, or CrowdSec's own error (types.Addr2Ints), which its Local
 * API answers with a 500 on a check and its cscli logs on `add`.
 */
export function allowlistInterval(value: string): IpInterval {
  const parsed = tryParseIpOrRange(value);
  if (parsed === null) {
    const message = value.includes('/') ? `invalid ip range '${value}': invalid CIDR address: ${value}` : `invalid ip address '${value}'`;
    throw new VigilError(value.includes('/') ? 'E_BAD_RANGE' : 'E_BAD_IP', message);
  }
  return toInterval(parsed);
}

/**
 * Whether two intervals overlap as CrowdSec's IsAllowlistedBy counts it: same family, and one holds
 * the other (an IP in an allowlisted range, or a checked range that holds an allowlisted IP).
 * CIDR intervals either nest or are disjoint, so this is "they overlap".
 */
export function nested(a: IpInterval, b: IpInterval): boolean {
  if (a.family !== b.family) return false;
  const aHoldsB = compareWords(a.first, b.first) <= 0 && compareWords(b.last, a.last) <= 0;
  const bHoldsA = compareWords(b.first, a.first) <= 0 && compareWords(a.last, b.last) <= 0;
  return aHoldsB || bHoldsA;
}

/** An active item with its list's name and its interval, compiled once. */
interface CompiledItem {
  /** Position in the sorted order of reasons (list name, then insertion). */
  readonly rank: number;
  readonly listName: string;
  readonly value: string;
  readonly comment: string;
  readonly interval: IpInterval;
}

/** The items of one family, indexed both ways a CIDR can match another (it holds it, or lies in it). */
interface FamilyIndex {
  /** `prefix length/first address` → items: those holding a value are found by masking it to each length. */
  readonly byNetwork: Map<string, CompiledItem[]>;
  readonly prefixLengths: number[];
  /** Sorted by first address: those inside a value are a contiguous run. */
  readonly byFirst: CompiledItem[];
}

const networkKey = (prefixLength: number, words: readonly number[]) => `${prefixLength}/${words.join('.')}`;

/**
 * The active items of every list, compiled once (Hono's ipRestriction way: sets and masks built
 * once, each check only looks up): an item holding the value is found by masking the value to each
 * prefix length in use, an item inside it by a binary search on first addresses. Items whose value
 * does not parse (copied from elsewhere) are left out, as CrowdSec has no interval for them either.
 */
export class AllowlistMatcher {
  private readonly families = new Map<4 | 6, FamilyIndex>();
  readonly size: number;

  constructor(entries: readonly { listName: string; item: Pick<AllowlistItem, 'value' | 'comment' | 'expiresAt'> }[], now: number) {
    const parsedItems: Omit<CompiledItem, 'rank'>[] = [];
    for (const { listName, item } of entries) {
      if (!itemActive(item, now)) continue;
      const parsed = tryParseIpOrRange(item.value);
      if (parsed === null) continue;
      parsedItems.push({ listName, value: item.value, comment: item.comment, interval: toInterval(parsed) });
    }
    // CrowdSec sorts the reasons by list name (byte order, Go's `<`), stable within one list.
    const ordered = parsedItems
      .map((it, i) => ({ it, i }))
      .sort((a, b) => (a.it.listName < b.it.listName ? -1 : a.it.listName > b.it.listName ? 1 : a.i - b.i))
      .map(({ it }, rank): CompiledItem => ({ ...it, rank }));
    for (const item of ordered) {
      const f = item.interval.family;
      let index = this.families.get(f);
      if (!index) {
        index = { byNetwork: new Map(), prefixLengths: [], byFirst: [] };
        this.families.set(f, index);
      }
      const key = networkKey(item.interval.prefixLength, item.interval.first);
      const same = index.byNetwork.get(key);
      if (same) same.push(item);
      else index.byNetwork.set(key, [item]);
      if (!index.prefixLengths.includes(item.interval.prefixLength)) index.prefixLengths.push(item.interval.prefixLength);
      index.byFirst.push(item);
    }
    for (const index of this.families.values()) index.byFirst.sort((a, b) => compareWords(a.interval.first, b.interval.first));
    this.size = ordered.length;
  }

  /**
   * Why `value` is allowlisted, one reason per matching item (`192.168.0.0/16 from foo (comment)`),
   * sorted by list name; empty when it is not. Throws CrowdSec's error for a value that is neither
   * an IP nor a range.
   */
  reasonsFor(value: string): string[] {
    return this.reasonsForInterval(allowlistInterval(value));
  }

  reasonsForInterval(interval: IpInterval): string[] {
    const index = this.families.get(interval.family);
    if (!index) return [];
    const found = new Set<CompiledItem>();
    // Items holding the value (or equal to it): its network at each shorter-or-equal prefix in use.
    for (const p of index.prefixLengths) {
      if (p > interval.prefixLength) continue;
      const masked = interval.first.map((w, i) => maskWord(w, p - 32 * i));
      for (const item of index.byNetwork.get(networkKey(p, masked)) ?? []) found.add(item);
    }
    // Items inside the value: their first address lies in [first, last].
    const list = index.byFirst;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWords(list[mid]!.interval.first, interval.first) < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length && compareWords(list[i]!.interval.first, interval.last) <= 0; i++) {
      if (nested(list[i]!.interval, interval)) found.add(list[i]!);
    }
    return [...found]
      .sort((a, b) => a.rank - b.rank)
      .map((item) => (item.comment === '' ? `${item.value} from ${item.listName}` : `${item.value} from ${item.listName} (${item.comment})`));
  }
}

/** The `reason` CrowdSec answers on `GET /v1/allowlists/check/…`: every reason, joined. */
export const joinedReason = (reasons: readonly string[]): string => reasons.join(', ');

/**
 * The active decisions an allowlist covers (CrowdSec's ApplyAllowlistsToExistingDecisions): scope Ip
 * or Range, a value that parses, inside an item or holding one. Their ids, to expire.
 */
export function decisionsCoveredBy(
  matcher: AllowlistMatcher,
  decisions: readonly { id: number; scope: string; value: string; until: number }[],
  now: number,
): number[] {
  if (matcher.size === 0) return [];
  const ids: number[] = [];
  for (const d of decisions) {
    if (d.until < now) continue;
    const scope = d.scope.toLowerCase();
    if (scope !== 'ip' && scope !== 'range') continue;
    const parsed = tryParseIpOrRange(d.value);
    if (parsed === null) continue;
    if (matcher.reasonsForInterval(toInterval(parsed)).length > 0) ids.push(d.id);
  }
  return ids;
}

/**
 * Whether an agent's alert is dropped (CrowdSec's isAllowListed): an alert without decisions of
 * its own (cscli checked those already) whose source is an Ip or Range that an item covers.
 * Returns the joined reason, or null. A source that does not parse is kept, as CrowdSec keeps it.
 */
export function alertAllowlistedBy(
  matcher: AllowlistMatcher,
  alert: { source: { scope: string; value: string }; decisions?: readonly unknown[] | null },
): string | null {
  if (matcher.size === 0 || (alert.decisions && alert.decisions.length > 0)) return null;
  const scope = alert.source.scope.toLowerCase();
  if (scope !== 'ip' && scope !== 'range') return null;
  const parsed = tryParseIpOrRange(alert.source.value);
  if (parsed === null) return null;
  const reasons = matcher.reasonsForInterval(toInterval(parsed));
  return reasons.length > 0 ? joinedReason(reasons) : null;
}

/**
 * A list name as cscli and the Local API route take it: not empty, no '/' (it is a path
 * segment), printable, at most 255 characters.
 */
export function checkAllowlistName(name: string): string {
  if (name.trim() === '') throw new VigilError('E_BAD_NAME', 'allowlist name is empty: give a name such as my_allowlist');
  if (name.length > 255) throw new VigilError('E_BAD_NAME', `allowlist name: ${name.length} characters; use at most 255`);
  if (/[/\u0000-\u001f\u007f]/.test(name)) throw new VigilError('E_BAD_NAME', `allowlist name ${JSON.stringify(name)}: no '/' or control characters`);
  return name;
}

/** A description or comment: shown in tables and answered to every agent, so bounded (1,024 characters). */
export function checkAllowlistText(flag: string, text: string): string {
  if (text.length > 1024) throw new VigilError('E_TOO_LONG', `${flag}: ${text.length} characters; use at most 1024`);
  return text;
}
