import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { counterChange, lapiCounters, parsePrometheusText } from './prometheus-text.ts';

// A real scrape of CrowdSec 1.4.6's metrics endpoint (its Local API families, as served).
const scrape = fs.readFileSync(path.resolve(import.meta.dirname, '../../../test/fixtures/crowdsec-1.4.6/lapi-metrics.prom'), 'utf8');

describe("CrowdSec's Prometheus counters", () => {
  it('parses samples with labels; skips comments and unreadable lines', () => {
    const s = parsePrometheusText(`${scrape}\nbroken{a="x" 1\nvalue_nan x\n`);
    expect(s.find((x) => x.name === 'cs_lapi_bouncer_requests_total')).toEqual({
      name: 'cs_lapi_bouncer_requests_total',
      labels: { bouncer: 'prom-bouncer', method: 'GET', route: '/v1/decisions/stream' },
      value: 2,
    });
    expect(s.some((x) => x.name === 'broken' || x.name === 'value_nan')).toBe(false);
    expect(parsePrometheusText('m{a="q\\"uote",b="back\\\\slash"} 3')[0]!.labels).toEqual({ a: 'q"uote', b: 'back\\slash' });
  });

  it('per bouncer and machine by route, and the process start time', () => {
    const c = lapiCounters(scrape);
    expect(c.bouncers.get('prom-bouncer')?.get('GET /v1/decisions/stream')).toBe(2);
    expect(c.machines.get('vigil-test-machine')?.get('POST /v1/alerts')).toBe(1);
    expect(c.processStartAt).toBe(1796292044930);
  });

  it('an increase is a pull (sign of life by name); a counter that went down is a restart', () => {
    const before = lapiCounters(scrape);
    const after = lapiCounters(scrape.replace('route="/v1/decisions/stream"} 2', 'route="/v1/decisions/stream"} 7'));
    const ch = counterChange(before, after);
    expect(ch).toMatchObject({ restarted: false });
    expect([...ch.bouncerPulls]).toEqual([['prom-bouncer', 5]]);
    expect(ch.machinesSeen.size).toBe(0);
    const reset = counterChange(after, lapiCounters(scrape.replace('route="/v1/decisions/stream"} 2', 'route="/v1/decisions/stream"} 1')));
    expect(reset.restarted).toBe(true);
    // Counted from zero after the restart.
    expect([...reset.bouncerPulls]).toEqual([['prom-bouncer', 1]]);
    const moved = counterChange(before, lapiCounters(scrape.replace('1.79629204493e+09', '1.79629300000e+09')));
    expect(moved.restarted).toBe(true);
  });
});
