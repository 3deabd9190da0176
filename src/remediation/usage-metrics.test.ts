import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Decision } from '../core/model/records.ts';
import { UsageCounters, usageMetricsPayload } from './usage-metrics.ts';
import { BOUNCER_VERSION } from './version.ts';

/** CrowdSec's AllMetrics schema for a remediation component (docs/reference/crowdsec-docs-notes.md §2.5, swagger). */
const item = z.object({ name: z.string(), value: z.number(), unit: z.string(), labels: z.record(z.string(), z.string()) }).strict();
const allMetrics = z
  .object({
    remediation_components: z
      .array(
        z
          .object({
            type: z.string(),
            name: z.string(),
            version: z.string().max(255),
            os: z.object({ name: z.string(), version: z.string() }).strict(),
            feature_flags: z.array(z.string()),
            utc_startup_timestamp: z.number().int(),
            last_pull: z.number().int().optional(),
            metrics: z.array(
              z
                .object({ meta: z.object({ window_size_seconds: z.number().int(), utc_now_timestamp: z.number().int() }).strict(), items: z.array(item) })
                .strict(),
            ),
          })
          .strict(),
      )
      .length(1),
  })
  .strict();

const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);
const dec = (value: string, origin: string, scenario = 's'): Decision => ({
  id: 1,
  alertId: null,
  origin,
  type: 'ban',
  scope: 'Ip',
  value,
  scenario,
  createdAt: T0,
  until: T0 + 1,
  deletedAt: null,
  simulated: false,
});

describe('usage metrics payload', () => {
  it('follows CrowdSec format: processed, dropped per origin and remediation, active_decisions per origin and family', () => {
    const c = new UsageCounters(T0);
    c.processed(4);
    c.processed(4);
    c.processed(6);
    c.drop('crowdsec', 'ban', 4);
    c.drop('crowdsec', 'ban', 4);
    c.drop('lists:firehol', 'captcha', 6);
    const p = usageMetricsPayload({
      counters: c,
      active: [dec('192.0.2.1', 'crowdsec'), dec('2001:db8::/32', 'lists', 'firehol'), dec('192.0.2.2', 'crowdsec')],
      now: T0 + 1800_000,
      startedAt: T0 - 5000,
      lastPullAt: T0 + 1799_000,
    });
    expect(allMetrics.safeParse(p).success).toBe(true);
    const rc = p.remediation_components[0];
    expect(rc).toMatchObject({
      type: 'vigil-bouncer',
      version: BOUNCER_VERSION,
      feature_flags: [],
      utc_startup_timestamp: (T0 - 5000) / 1000,
      last_pull: (T0 + 1799_000) / 1000,
    });
    expect(rc.metrics[0].meta).toEqual({ window_size_seconds: 1800, utc_now_timestamp: (T0 + 1800_000) / 1000 });
    expect(rc.metrics[0].items).toEqual([
      { name: 'processed', value: 2, unit: 'request', labels: { ip_type: 'ipv4' } },
      { name: 'processed', value: 1, unit: 'request', labels: { ip_type: 'ipv6' } },
      { name: 'dropped', value: 2, unit: 'request', labels: { origin: 'crowdsec', remediation: 'ban', ip_type: 'ipv4' } },
      { name: 'dropped', value: 1, unit: 'request', labels: { origin: 'lists:firehol', remediation: 'captcha', ip_type: 'ipv6' } },
      { name: 'active_decisions', value: 2, unit: 'ip', labels: { origin: 'crowdsec', ip_type: 'ipv4' } },
      { name: 'active_decisions', value: 1, unit: 'ip', labels: { origin: 'lists:firehol', ip_type: 'ipv6' } },
    ]);
    c.reset(T0 + 1800_000);
    expect(c.items([])).toEqual([]);
  });
});
