import { describe, expect, it } from 'vitest';
import { pullBuckets, timelineSummary, timelineSvg } from './timeline.ts';

const H = 3600_000;
const NOW = Date.UTC(2026, 10, 24, 12, 30, 0);
const THIS_HOUR = Date.UTC(2026, 10, 24, 12, 0, 0);
/** Hourly pull counts as the store gives them, each `[hours before this hour, pulls]`. */
const hoursAgo = (...rows: Array<[number, number]>) => rows.map(([ago, pulls]) => ({ hour: THIS_HOUR - ago * H, pulls }));

describe('pull timeline', () => {
  it('lays hourly counts on the last N hours, oldest first, gaps as zero, ignoring what lies outside', () => {
    const b = pullBuckets(hoursAgo([30, 9], [2, 5], [0, 1]), NOW, 24);
    expect(b).toHaveLength(24);
    expect(b[0]!.start).toBe(THIS_HOUR - 23 * H);
    expect(b[23]).toEqual({ start: THIS_HOUR, hours: 1, pulls: 1, silentHours: 0 });
    expect(b[21]).toEqual({ start: THIS_HOUR - 2 * H, hours: 1, pulls: 5, silentHours: 0 });
    expect(b.reduce((s, x) => s + x.pulls, 0)).toBe(6);
  });
  it('groups hours into longer bars ending with the current hour', () => {
    const b = pullBuckets(hoursAgo([7, 2], [5, 3], [0, 1]), NOW, 7 * 24, 6);
    expect(b).toHaveLength(28);
    expect(b[27]).toEqual({ start: THIS_HOUR - 5 * H, hours: 6, pulls: 4, silentHours: 4 });
    expect(b[26]).toEqual({ start: THIS_HOUR - 11 * H, hours: 6, pulls: 2, silentHours: 5 });
    expect(timelineSummary(b)).toBe('pulled in 2 of 28 6-hour periods, including this period');
    // Bars hiding silent hours are drawn apart (amber), so a 5-hour outage inside two bars still shows.
    const svg = timelineSvg(b, { label: '7 days' }).text;
    expect(svg).toContain('<path class="tl-partial" d="M26.1');
    expect(svg).not.toContain('class="tl-bar"');
    expect(svg).toContain('(amber bars include hours without a pull)');
  });
  it('says in words what the bars show', () => {
    const b = pullBuckets(hoursAgo([3, 5]), NOW, 24);
    expect(timelineSummary(b)).toBe('pulled in 1 of 24 hours, none in the last 3 hours');
    expect(timelineSummary(pullBuckets([], NOW, 24))).toBe('no pull in the last 24 hours');
    expect(timelineSummary(pullBuckets(hoursAgo([0, 1]), NOW, 24))).toBe('pulled in 1 of 24 hours, including this hour');
  });
  it('draws one path for a table row, one titled bar per hour for a detailed view', () => {
    const b = pullBuckets(hoursAgo([1, 4], [0, 1]), NOW, 24);
    const row = timelineSvg(b, { label: 'web, last 24 hours' }).text;
    expect(row).toContain('aria-label="web, last 24 hours: pulled in 2 of 24 hours, including this hour"');
    expect(row.match(/<path /g)).toHaveLength(1);
    expect(row).toContain('M22.1 10v-10h0.8v10z'); // the busiest hour is full height
    const detailed = timelineSvg(b, { label: 'Last 24 hours', detailed: true }).text;
    expect(detailed.match(/<rect class="tl-(bar|gap)"/g)).toHaveLength(24);
    expect(detailed).toContain('<title>2026-11-24 11:00–12:00 UTC: 4 pulls</title>');
  });
});
