import { describe, expect, it } from 'vitest';
import { isVigilError } from './errors.ts';
import { formatGoDuration, formatGoDurationNs, formatGoTimeString, formatRfc3339, parseDuration, parseDurationNs } from './duration.ts';

const S = 1_000_000_000n;
const MIN = 60n * S;
const H = 60n * MIN;

describe('formatGoDurationNs (Go time.Duration.String)', () => {
  // Go's own table (src/time/time_test.go, durationTests), plus CrowdSec samples from §3/§4.
  const cases: Array<[string, bigint]> = [
    ['0s', 0n],
    ['1ns', 1n],
    ['1.1µs', 1_100n],
    ['2.2ms', 2_200_000n],
    ['3.3s', 3_300_000_000n],
    ['4m5s', 4n * MIN + 5n * S],
    ['4m5.001s', 4n * MIN + 5_001_000_000n],
    ['5h6m7.001s', 5n * H + 6n * MIN + 7_001_000_000n],
    ['8m0.000000001s', 8n * MIN + 1n],
    ['2562047h47m16.854775807s', (1n << 63n) - 1n],
    ['-2562047h47m16.854775808s', -(1n << 63n)],
    ['4m38.753094623s', 4n * MIN + 38_753_094_623n],
    ['1h59m38.780726383s', 1n * H + 59n * MIN + 38_780_726_383n],
    ['-1.902116877s', -1_902_116_877n],
    ['72h0m0s', 72n * H],
    ['1h0m0s', H],
    ['1m0s', MIN],
    ['500ms', 500_000_000n],
    ['1.5µs', 1_500n],
    ['999ns', 999n],
    ['-1ns', -1n],
  ];
  it.each(cases)('%s', (expected, ns) => {
    expect(formatGoDurationNs(ns)).toBe(expected);
  });

  it('takes a number of nanoseconds too and saturates like Go instead of overflowing', () => {
    expect(formatGoDurationNs(1500)).toBe('1.5µs');
    expect(formatGoDurationNs(2n ** 70n)).toBe('2562047h47m16.854775807s');
    expect(formatGoDurationNs(-Infinity)).toBe('-2562047h47m16.854775808s');
  });
});

describe('formatGoDuration (milliseconds in)', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [1500, '1.5s'],
    [278_753, '4m38.753s'],
    [7_178_780, '1h59m38.78s'],
    [-1902, '-1.902s'],
    [500, '500ms'],
    [0.0015, '1.5µs'],
    [0.5, '500µs'],
    [72 * 3_600_000, '72h0m0s'],
    [3_600_000, '1h0m0s'],
    [365 * 86_400_000 + 1, '8760h0m0.001s'],
  ])('%d ms → %s', (ms, expected) => {
    expect(formatGoDuration(ms)).toBe(expected);
  });
});

describe('formatGoDuration whole-millisecond path', () => {
  it('prints exactly what the nanosecond (BigInt) formatter prints', () => {
    const samples = [0, 1, -1, 9, 10, 99, 100, 999, 1000, 1001, 1010, 1100, 59_999, 60_000, 3_599_999, 3_600_000, 86_400_000, 4 * 3600_000 - 1];
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648; // deterministic pseudo-random spread up to ~25 days
      samples.push(x, -x, x * 1000, Math.floor(x / 7));
    }
    for (const ms of samples) expect(formatGoDuration(ms), String(ms)).toBe(formatGoDurationNs(BigInt(ms) * 1_000_000n));
  });
});

describe('parseDuration', () => {
  it.each<[string, number]>([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['2h45m10s', 9_910_000],
    ['7d', 7 * 86_400_000],
    ['1d12h', 36 * 3_600_000],
    ['+5s', 5_000],
    ['5.s', 5_000],
    ['.5s', 500],
    ['1.004s', 1_004],
    ['10.5s4m', 250_500],
    ['1h2m3s4ms5us6ns', 3_723_004.005006],
    ['300us', 0.3],
    ['12µs', 0.012],
    ['12μs', 0.012],
    ['4h', 14_400_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it('matches Go on float fractions of hours', () => {
    expect(parseDurationNs('.3333333333333333333h')).toBe(20n * MIN);
    expect(parseDurationNs('0.100000000000000000000h')).toBe(6n * MIN);
    expect(parseDurationNs('9223372036854775807ns')).toBe((1n << 63n) - 1n);
  });

  const refused: Array<[string, string]> = [
    ['', 'duration "": use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m'],
    ['5', 'duration "5": use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m'],
    ['5x', 'duration "5x": use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m'],
    ['1h30', 'duration "1h30": use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m'],
    ['.s', 'duration ".s": use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m'],
    ['h', 'duration "h": use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m'],
    ['5 s', 'duration "5 s": use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m'],
    ['5constructor', 'duration "5constructor": use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m'],
    ['-5m', 'duration "-5m": must not be negative; use a number followed by ms, s, m, h or d, e.g. 4h or 1h30m'],
    ['0', 'duration "0": must be longer than zero, e.g. 4h or 1h30m'],
    ['0s', 'duration "0s": must be longer than zero, e.g. 4h or 1h30m'],
    ['9223372036854775808ns', 'duration "9223372036854775808ns": too long; the maximum is 106751d (about 292 years)'],
    ['106752d', 'duration "106752d": too long; the maximum is 106751d (about 292 years)'],
  ];
  it.each(refused)('refuses %j', (text, message) => {
    let caught: unknown;
    try {
      parseDuration(text);
    } catch (e) {
      caught = e;
    }
    expect(isVigilError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'E_BAD_DURATION', message });
  });

  it('names the field it was given', () => {
    expect(() => parseDuration('5x', 'until')).toThrow('until "5x": use a number');
  });

  it('accepts zero only when asked to', () => {
    expect(parseDuration('0', 'duration', { allowZero: true })).toBe(0);
    expect(parseDuration('0s', 'duration', { allowZero: true })).toBe(0);
  });

  it('round-trips through formatGoDuration', () => {
    for (const text of ['1h30m0s', '4m38.753s', '72h0m0s', '1.5s', '500ms']) {
      expect(formatGoDuration(parseDuration(text))).toBe(text);
    }
  });
});

describe('times', () => {
  const t = Date.UTC(2026, 10, 24, 4, 16, 55, 489);
  const whole = Date.UTC(2026, 10, 24, 4, 18, 7);

  it('formats RFC 3339 (seconds) and RFC 3339 Nano, UTC', () => {
    expect(formatRfc3339(t)).toBe('2026-11-24T04:16:55Z');
    expect(formatRfc3339(t, { nano: false })).toBe('2026-11-24T04:16:55Z');
    expect(formatRfc3339(t, { nano: true })).toBe('2026-11-24T04:16:55.489Z');
    // Sub-millisecond parts of an epoch time survive to the microsecond (double precision).
    expect(formatRfc3339(t + 0.468, { nano: true })).toBe('2026-11-24T04:16:55.489468Z');
    expect(formatRfc3339(whole + 780, { nano: true })).toBe('2026-11-24T04:18:07.78Z');
    expect(formatRfc3339(whole, { nano: true })).toBe('2026-11-24T04:18:07Z');
    expect(formatRfc3339(whole + 999.9999999, { nano: true })).toBe('2026-11-24T04:18:08Z');
  });

  it('formats Go Time.String() as cscli shows start_at/stop_at', () => {
    expect(formatGoTimeString(whole)).toBe('2026-11-24 04:18:07 +0000 UTC');
    expect(formatGoTimeString(whole + 123)).toBe('2026-11-24 04:18:07.123 +0000 UTC');
    expect(formatGoTimeString(whole + 120)).toBe('2026-11-24 04:18:07.12 +0000 UTC');
  });

  it('handles times before 1970 (floor, not truncation)', () => {
    expect(formatRfc3339(-1, { nano: true })).toBe('1969-12-31T23:59:59.999Z');
  });
});
