/**
 * A remediation component's POST /v1/usage-metrics body (CrowdSec 1.6.3+): a vigil-bouncer started
 * at `startedAt` reporting, at `now`, 12 requests dropped (origin crowdsec) and 3,400 processed over
 * 15 minutes. `overrides` replaces fields of the component.
 */
export function usageReport(startedAt: number, now: number, overrides: Record<string, unknown> = {}) {
  return {
    remediation_components: [
      {
        version: 'v0.1.0',
        type: 'vigil-bouncer',
        utc_startup_timestamp: Math.floor(startedAt / 1000),
        os: { name: 'debian', version: '12' },
        feature_flags: [],
        metrics: [
          {
            meta: { window_size_seconds: 900, utc_now_timestamp: Math.floor(now / 1000) },
            items: [
              { name: 'dropped', value: 12, unit: 'request', labels: { origin: 'crowdsec', ip_type: 'ipv4' } },
              { name: 'processed', value: 3400, unit: 'request', labels: { ip_type: 'ipv4' } },
            ],
          },
        ],
        ...overrides,
      },
    ],
  };
}
