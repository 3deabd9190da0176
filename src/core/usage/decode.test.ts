import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeUsageMetrics, type MetricItem } from './decode.ts';
import { logProcessorCounts } from './log-processor-counts.ts';

/** The decoder against the exact bodies real components send (test/fixtures/usage-metrics/README.md) and CrowdSec's refusals. */
const FIXTURES = path.join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'usage-metrics');
const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
const rc = (over: Record<string, unknown>) => ({ remediation_components: [{ version: 'v1', utc_startup_timestamp: 1, ...over }] });

describe('decodeUsageMetrics', () => {
  it.each(['lua-cs-bouncer.json', 'lua-cs-bouncer-old-cjson.json', 'firewall-bouncer.json', 'go-bouncer-no-traffic.json', 'nodejs-bouncer.json'])(
    'takes the bouncer body %s: one remediation component, no log processor',
    (name) => {
      const r = decodeUsageMetrics(fixture(name));
      expect(r).toMatchObject({ ok: true });
      if (!r.ok) return;
      expect(r.value.logProcessors).toEqual([]);
      expect(r.value.remediationComponents).toHaveLength(1);
      expect(typeof r.value.remediationComponents[0]!.version).toBe('string');
    },
  );

  it("reads old lua-cjson's {} and Go's null as empty lists", () => {
    const old = decodeUsageMetrics(fixture('lua-cs-bouncer-old-cjson.json'));
    expect(old.ok && old.value.remediationComponents[0]!.feature_flags).toEqual([]);
    const go = decodeUsageMetrics(fixture('go-bouncer-no-traffic.json'));
    expect(go.ok && go.value.remediationComponents[0]!.metrics![0]!.items).toEqual([]);
    expect(go.ok && go.value.remediationComponents[0]!.feature_flags).toEqual([]);
  });

  it('takes every null and empty shape in place of a list or a map, and ignores unknown fields', () => {
    const body = {
      log_processors: null,
      lapi: { anything: true },
      remediation_components: [
        {
          version: 'v1',
          utc_startup_timestamp: 1707399316,
          name: null,
          os: {},
          feature_flags: {},
          future_field: { nested: [1, 2] },
          metrics: [
            { meta: { window_size_seconds: 900, utc_now_timestamp: 1 }, items: null },
            { meta: { window_size_seconds: 900, utc_now_timestamp: 2 }, items: {} },
            { meta: { window_size_seconds: 900, utc_now_timestamp: 3 }, items: [{ name: 'dropped', value: 1, unit: 'request', labels: null }] },
            { meta: { window_size_seconds: 900, utc_now_timestamp: 4 }, items: [{ name: 'dropped', value: 1, unit: 'request', labels: [] }] },
          ],
        },
      ],
    };
    const r = decodeUsageMetrics(body);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const item = r.value.remediationComponents[0]!;
    expect(item).toEqual({
      version: 'v1',
      utc_startup_timestamp: 1707399316,
      feature_flags: [],
      metrics: [
        { meta: { window_size_seconds: 900, utc_now_timestamp: 1 }, items: [] },
        { meta: { window_size_seconds: 900, utc_now_timestamp: 2 }, items: [] },
        { meta: { window_size_seconds: 900, utc_now_timestamp: 3 }, items: [{ name: 'dropped', value: 1, unit: 'request', labels: {} }] },
        { meta: { window_size_seconds: 900, utc_now_timestamp: 4 }, items: [{ name: 'dropped', value: 1, unit: 'request', labels: {} }] },
      ],
    });
    expect(decodeUsageMetrics({ remediation_components: null, log_processors: {} })).toEqual({
      ok: true,
      value: { remediationComponents: [], logProcessors: [] },
    });
    expect(decodeUsageMetrics(null)).toEqual({ ok: true, value: { remediationComponents: [], logProcessors: [] } });
  });

  it("takes an agent's report, datasources and hub items included, and counts its lines", () => {
    const r = decodeUsageMetrics(fixture('crowdsec-agent-1.7.json'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.remediationComponents).toEqual([]);
    const lp = r.value.logProcessors[0]!;
    expect(lp.datasources).toEqual({ file: 2 });
    expect(lp.hub_items.collections).toHaveLength(2);
    const counts = logProcessorCounts(lp);
    expect(counts).toMatchObject({ read: 1291, parsed: 1204, unparsed: 87 });
    expect(counts.bySource['/var/log/auth.log']).toEqual({ type: 'file', read: 87, parsed: 0, unparsed: 87 });
    // An agent's datasources and hub_items sent as null or as empty lists read as empty maps.
    const bare = decodeUsageMetrics({ log_processors: [{ version: 'v1.7.0', utc_startup_timestamp: 1, datasources: [], hub_items: null }] });
    expect(bare.ok && bare.value.logProcessors[0]).toMatchObject({ datasources: {}, hub_items: {} });
  });

  it('counts per parser node when the agent has no global counters, from the first stage only', () => {
    const items: MetricItem[] = [
      { name: 'read', value: 10, unit: 'line', labels: { source: 'a.log', datasource_type: 'file' } },
      { name: 'parsed', value: 10, unit: 'line', labels: { source: 'a.log', parser_stage: 's00-raw' } },
      { name: 'parsed', value: 4, unit: 'line', labels: { source: 'a.log', parser_stage: 's01-parse' } },
      { name: 'unparsed', value: 6, unit: 'line', labels: { source: 'a.log', parser_stage: 's01-parse' } },
    ];
    expect(logProcessorCounts({ metrics: [{ meta: { window_size_seconds: 1800, utc_now_timestamp: 1 }, items }] })).toMatchObject({
      read: 10,
      parsed: 4,
      unparsed: 6,
    });
    expect(logProcessorCounts({ metrics: [] })).toEqual({ read: 0, parsed: 0, unparsed: 0, bySource: {} });
  });

  it("refuses a wrong JSON type with Go's 400 and a missing required field with go-openapi's 422, as CrowdSec does", () => {
    const cases: Array<[unknown, 400 | 422, string | RegExp]> = [
      [
        rc({ utc_startup_timestamp: 'yesterday' }),
        400,
        'json: cannot unmarshal string into Go struct field RemediationComponentsMetrics.utc_startup_timestamp of type int64 (remediation_components.0.utc_startup_timestamp)',
      ],
      [rc({ utc_startup_timestamp: 1.5 }), 400, /cannot unmarshal number 1.5 into Go struct field .* of type int64/],
      // The official spec example's "metrics": {…} object: CrowdSec refuses it (a list is expected).
      [
        rc({ metrics: { meta: {}, items: [] } }),
        400,
        /cannot unmarshal object into Go struct field RemediationComponentsMetrics.metrics of type \[\]\*models.DetailedMetrics/,
      ],
      [rc({ feature_flags: 'none' }), 400, /cannot unmarshal string .* of type \[\]string/],
      [
        rc({ metrics: [{ meta: { window_size_seconds: 1, utc_now_timestamp: 1 }, items: [{ name: 'x', value: 'many', unit: 'ip' }] }] }),
        400,
        /MetricsDetailItem.value of type float64 \(remediation_components.0.metrics.0.items.0.value\)/,
      ],
      [
        rc({ metrics: [{ meta: { window_size_seconds: 1, utc_now_timestamp: 1 }, items: [{ name: 'x', value: 1, unit: 'ip', labels: { a: 1 } }] }] }),
        400,
        /labels.a/,
      ],
      [{ remediation_components: 'yes' }, 400, /AllMetrics.remediation_components of type/],
      ['a string', 400, 'json: cannot unmarshal string into Go value of type models.AllMetrics'],
      [{ remediation_components: [{ utc_startup_timestamp: 1 }] }, 422, 'validation failure list:\nremediation_components.0.version in body is required'],
      [
        { remediation_components: [null] },
        422,
        /remediation_components.0.version in body is required\nremediation_components.0.utc_startup_timestamp in body is required/,
      ],
      [rc({ os: { name: 'debian' } }), 422, 'validation failure list:\nremediation_components.0.os.version in body is required'],
      [rc({ metrics: [{ items: [] }] }), 422, 'validation failure list:\nremediation_components.0.metrics.0.meta in body is required'],
      [rc({ metrics: [{ meta: { window_size_seconds: 1, utc_now_timestamp: 1 } }] }), 422, /metrics.0.items in body is required/],
      [
        rc({ metrics: [{ meta: { window_size_seconds: 1, utc_now_timestamp: 1 }, items: [{ name: 'x', unit: 'ip' }] }] }),
        422,
        /items.0.value in body is required/,
      ],
      [
        rc({ metrics: [{ meta: { window_size_seconds: 1, utc_now_timestamp: 1 }, items: [{ name: 'x'.repeat(256), value: 1, unit: 'ip' }] }] }),
        422,
        /items.0.name in body should be at most 255 chars long/,
      ],
      [
        { log_processors: [{ version: 'v1', utc_startup_timestamp: 1 }] },
        422,
        /log_processors.0.datasources in body is required\nlog_processors.0.hub_items in body is required/,
      ],
    ];
    for (const [body, status, message] of cases) {
      const r = decodeUsageMetrics(body);
      expect(r.ok, JSON.stringify(body)).toBe(false);
      if (r.ok) continue;
      expect(r.status, JSON.stringify(body)).toBe(status);
      if (typeof message === 'string') expect(r.message).toBe(message);
      else expect(r.message).toMatch(message);
    }
  });
});
