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
        metrics: [usageWindow(now, 900, 12, 3400)],
        ...overrides,
      },
    ],
  };
}

/** One metrics window of a usage report ending at `now`: `dropped` requests (origin crowdsec) of `processed`. */
export function usageWindow(now: number, windowSeconds: number, dropped: number, processed: number) {
  return {
    meta: { window_size_seconds: windowSeconds, utc_now_timestamp: Math.floor(now / 1000) },
    items: [
      { name: 'dropped', value: dropped, unit: 'request', labels: { origin: 'crowdsec', ip_type: 'ipv4' } },
      { name: 'processed', value: processed, unit: 'request', labels: { ip_type: 'ipv4' } },
    ],
  };
}
