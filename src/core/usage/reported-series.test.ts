import { describe, expect, it } from 'vitest';
import { LABEL_MAX, SERIES_MAX, reportedSeries } from './reported-series.ts';

// The firewall bouncer's body (docs/reference/crowdsec-1.6-1.7.md §6), two windows.
const report = {
  metrics: [
    {
      meta: { window_size_seconds: 900, utc_now_timestamp: 1_765_100_000 },
      items: [
        { name: 'dropped', value: 10, unit: 'packet', labels: { origin: 'CAPI', ip_type: 'ipv4' } },
        { name: 'active_decisions', value: 500, unit: 'ip', labels: { origin: 'CAPI', ip_type: 'ipv4' } },
      ],
    },
    {
      meta: { window_size_seconds: 900, utc_now_timestamp: 1_765_100_900 },
      items: [
        { name: 'dropped', value: 5, unit: 'packet', labels: { origin: 'CAPI', ip_type: 'ipv4' } },
        { name: 'active_decisions', value: 480, unit: 'ip', labels: { origin: 'CAPI', ip_type: 'ipv4' } },
        { name: 'processed', value: 1000, unit: 'packet', labels: { ip_type: 'ipv4' } },
      ],
    },
  ],
};

describe('reportedSeries', () => {
  it('sums counts over the windows and keeps the newest level', () => {
    const s = reportedSeries(report as never);
    expect(s).toEqual([
      { name: 'dropped', unit: 'packet', origin: 'CAPI', remediation: '', ip_type: 'ipv4', value: 15 },
      { name: 'active_decisions', unit: 'ip', origin: 'CAPI', remediation: '', ip_type: 'ipv4', value: 480 },
      { name: 'processed', unit: 'packet', origin: '', remediation: '', ip_type: 'ipv4', value: 1000 },
    ]);
  });

  it('windows in any order: the level is the newest one’s', () => {
    const reversed = { metrics: [...report.metrics].reverse() };
    expect(reportedSeries(reversed as never).find((x) => x.name === 'active_decisions')!.value).toBe(480);
  });

  it('bounds a hostile report: series per bouncer and label length', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ name: 'dropped', value: 1, unit: 'request', labels: { origin: `o${i}${'x'.repeat(500)}` } }));
    const s = reportedSeries({ metrics: [{ meta: { window_size_seconds: 60, utc_now_timestamp: 1 }, items }] } as never);
    expect(s).toHaveLength(SERIES_MAX);
    expect(Math.max(...s.map((x) => x.origin.length))).toBe(LABEL_MAX);
  });

  it('no report, no metrics, or junk items: nothing', () => {
    expect(reportedSeries(null)).toEqual([]);
    expect(reportedSeries({} as never)).toEqual([]);
    expect(
      reportedSeries({ metrics: [{ meta: { window_size_seconds: 1, utc_now_timestamp: 1 }, items: [{ name: 'x', value: Number.NaN, unit: 'u' }] }] } as never),
    ).toEqual([]);
  });
});
