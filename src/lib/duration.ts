import { VigilError } from './errors.ts';

/**
 * Go-compatible durations and times. CrowdSec prints remaining decision time with Go's
 * `time.Duration.String()` and times with `time.Format`/`time.Time.String()`; scripts and bouncers
 * parse those strings, so Vigil reproduces them byte for byte (wire protocol §3, §4, §7).
 * Pure functions, no clock: callers pass epoch milliseconds.
 */

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
/** Go's time.Duration is an int64 of nanoseconds. */
const MAX_NS = (1n << 63n) - 1n;
const MIN_NS = -(1n << 63n);

/** Go's units (ns, us, µs, μs, ms, s, m, h) plus `d` (24 h), which CrowdSec users expect. */
const UNIT_NS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // µs, micro sign
  ['\u03bcs', 1_000n], // μs, Greek mu
  ['ms', NS_PER_MS],
  ['s', NS_PER_S],
  ['m', 60n * NS_PER_S],
  ['h', 3_600n * NS_PER_S],
  ['d', 86_400n * NS_PER_S],
]);

export interface ParseDurationOptions {
  /** Accept `0`/`0s` (Go does); decision durations leave it false, a zero ban means nothing. */
  allowZero?: boolean;
}

const HINT = 'use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m';

/**
 * Parses a Go duration (`90s`, `1h30m`, `1.5h`, `300ms`) or a day count (`7d`, `1d12h`) into
 * nanoseconds. Same grammar as Go's time.ParseDuration (a bare `0` is the only unitless value),
 * but negative durations are refused.
 */
export function parseDurationNs(text: string, field = 'duration', options: ParseDurationOptions = {}): bigint {
  const bad = (why: string): VigilError => new VigilError('E_BAD_DURATION', `${field} ${JSON.stringify(text)}: ${why}`);
  let rest = text;
  if (rest.startsWith('-')) throw bad(`must not be negative; ${HINT}`);
  if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '0') {
    if (options.allowZero) return 0n;
    throw bad('must be longer than zero, e.g. 4h or 1h30m');
  }
  if (rest === '') throw bad(HINT);

  let total = 0n;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest);
    const intDigits = m?.[1] ?? '';
    const fracDigits = m?.[2] ?? '';
    if (intDigits === '' && fracDigits === '') throw bad(HINT);
    rest = rest.slice(m![0].length);
    const unitMatch = /^[^\d.]*/.exec(rest)!;
    const unit = unitMatch[0];
    const unitNs = UNIT_NS.get(unit);
    if (unitNs === undefined) throw bad(HINT); // missing (`5`) or unknown (`5x`) unit
    rest = rest.slice(unit.length);

    total += BigInt(intDigits === '' ? '0' : intDigits) * unitNs + fractionNs(fracDigits, unitNs);
    if (total > MAX_NS) throw bad('too long; the maximum is 106751d (about 292 years)');
  }
  if (total === 0n && !options.allowZero) throw bad('must be longer than zero, e.g. 4h or 1h30m');
  return total;
}

/**
 * The fractional part of a component in nanoseconds, computed as Go's ParseDuration does
 * (digits beyond int64 ignored, then float64 math truncated), so `.3333333333333333333h` is
 * exactly 20m in both.
 */
function fractionNs(digits: string, unitNs: bigint): bigint {
  let f = 0n;
  let scale = 1;
  for (const c of digits) {
    if (f > MAX_NS / 10n) break;
    const next = f * 10n + BigInt(c);
    if (next > MAX_NS + 1n) break;
    f = next;
    scale *= 10;
  }
  if (f === 0n) return 0n;
  return BigInt(Math.trunc(Number(f) * (Number(unitNs) / scale)));
}

/** {@link parseDurationNs} in milliseconds (fractional below 1 ms, e.g. `300us` → 0.3). */
export function parseDuration(text: string, field = 'duration', options: ParseDurationOptions = {}): number {
  const ns = parseDurationNs(text, field, options);
  return Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
}

/** Milliseconds (possibly fractional) to integer nanoseconds, clamped to Go's int64 range. */
function msToNs(ms: number): bigint {
  if (Number.isNaN(ms)) throw new RangeError('duration in milliseconds is NaN');
  if (ms === Infinity) return MAX_NS;
  if (ms === -Infinity) return MIN_NS;
  const whole = Math.trunc(ms);
  const ns = BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6));
  return clampNs(ns);
}

/** Go's Time.Sub saturates instead of overflowing; so do we. */
function clampNs(ns: bigint): bigint {
  return ns > MAX_NS ? MAX_NS : ns < MIN_NS ? MIN_NS : ns;
}

/** Go's fmtFrac: `prec` digits of `v`, trailing zeros (and the dot) dropped. */
function fmtFrac(v: bigint, prec: number): { text: string; rest: bigint } {
  let digits = '';
  for (let i = 0; i < prec; i++) {
    digits = String(v % 10n) + digits;
    v /= 10n;
  }
  digits = digits.replace(/0+$/, '');
  return { text: digits === '' ? '' : `.${digits}`, rest: v };
}

/**
 * Exactly Go's `time.Duration(ns).String()`: `0s`, `1.5µs`, `500ms`, `4m38.753094623s`,
 * `72h0m0s`, `-1.902116877s`. A `number` is taken as whole nanoseconds (rounded).
 */
export function formatGoDurationNs(ns: bigint | number): string {
  let n: bigint;
  if (typeof ns === 'bigint') n = clampNs(ns);
  else if (Number.isNaN(ns)) throw new RangeError('duration in nanoseconds is NaN');
  else if (!Number.isFinite(ns)) n = ns > 0 ? MAX_NS : MIN_NS;
  else n = clampNs(BigInt(Math.round(ns)));

  const neg = n < 0n;
  let u = neg ? -n : n;
  let out: string;
  if (u < NS_PER_S) {
    // Below one second Go switches to the largest unit that keeps an integer part: 1.2ms.
    if (u === 0n) return '0s';
    let unit: string;
    let prec: number;
    if (u < 1_000n) {
      unit = 'ns';
      prec = 0;
    } else if (u < NS_PER_MS) {
      unit = '\u00b5s'; // µs with the micro sign, as Go prints it
      prec = 3;
    } else {
      unit = 'ms';
      prec = 6;
    }
    const frac = fmtFrac(u, prec);
    out = `${frac.rest}${frac.text}${unit}`;
  } else {
    const frac = fmtFrac(u, 9);
    u = frac.rest; // whole seconds
    out = `${u % 60n}${frac.text}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** Go's `Duration.String()` for a span in milliseconds (fractions of a ms kept to the ns). */
export function formatGoDuration(ms: number): string {
  // Whole milliseconds (every duration the LAPI sends: epoch-ms clock minus epoch-ms until) take a
  // plain-number path; a stream startup formats 100k of them. Anything else goes through BigInt.
  // Go saturates at ±2^63 ns (~292 years, 9.22e12 ms): beyond 9e12 ms the BigInt path clamps.
  if (Number.isSafeInteger(ms) && ms < 9e12 && ms > -9e12) return formatWholeMs(ms);
  return formatGoDurationNs(msToNs(ms));
}

/** Go's Duration.String() for a whole number of milliseconds, without BigInt. */
function formatWholeMs(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  const u = neg ? -ms : ms;
  let out: string;
  if (u < 1000) {
    out = `${u}ms`;
  } else {
    const milli = u % 1000;
    let secs = (u - milli) / 1000;
    const frac =
      milli === 0
        ? ''
        : milli % 100 === 0
          ? `.${milli / 100}`
          : milli % 10 === 0
            ? `.${String(milli / 10).padStart(2, '0')}`
            : `.${String(milli).padStart(3, '0')}`;
    out = `${secs % 60}${frac}s`;
    secs = Math.floor(secs / 60);
    if (secs > 0) {
      out = `${secs % 60}m${out}`;
      secs = Math.floor(secs / 60);
      if (secs > 0) out = `${secs}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

interface UtcParts {
  date: string; // 2026-11-24
  time: string; // 04:16:55
  /** '' or '.489' — Go's `.999999999`: trailing zeros trimmed, nothing for a whole second. */
  frac: string;
}

function utcParts(ms: number): UtcParts {
  if (!Number.isFinite(ms)) throw new RangeError(`time ${ms} is not a finite number of milliseconds`);
  let seconds = Math.floor(ms / 1000);
  // A double holding today's epoch milliseconds resolves ~0.24 µs: keep fractions to the µs.
  let nanos = Math.round((ms - seconds * 1000) * 1e3) * 1e3;
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  const d = new Date(seconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const fracDigits = String(nanos).padStart(9, '0').replace(/0+$/, '');
  return {
    date: `${String(d.getUTCFullYear()).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`,
    time: `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`,
    frac: fracDigits === '' ? '' : `.${fracDigits}`,
  };
}

/**
 * Go's `time.RFC3339` (`2026-11-24T04:16:55Z`, seconds truncated) or, with `nano`,
 * `time.RFC3339Nano` (`2026-11-24T04:16:55.489Z`, trailing zeros trimmed), always UTC.
 */
export function formatRfc3339(ms: number, options: { nano: boolean } = { nano: false }): string {
  const p = utcParts(ms);
  return `${p.date}T${p.time}${options.nano ? p.frac : ''}Z`;
}

/**
 * Go's `time.Time.String()` for a UTC time: `2026-11-24 04:18:07 +0000 UTC`, with a trimmed
 * fraction when there is one (`2026-11-24 04:18:07.123 +0000 UTC`). CrowdSec uses it for an
 * alert's start_at/stop_at in `GET /v1/alerts` and `cscli decisions list -o json` (§3).
 */
export function formatGoTimeString(ms: number): string {
  const p = utcParts(ms);
  return `${p.date} ${p.time}${p.frac} +0000 UTC`;
}
