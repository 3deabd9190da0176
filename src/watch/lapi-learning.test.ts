import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import { ManualClock } from '../lib/clock.ts';
import type { CrowdsecBouncer } from '../core/model/crowdsec-bouncer.ts';
import { syncMirror } from '../store/bouncer-mirror.ts';
import { pullHours } from '../store/pull-history.ts';
import type { Store } from '../store/store.ts';
import { LapiLearning } from './lapi-learning.ts';
import { lastSeenFrom } from '../core/watch/last-pull.ts';
import { FileLapiLog } from './lapi-log.ts';
import { listBouncers } from '../store/bouncers.ts';

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

/** An access log line exactly as CrowdSec 1.4.6 writes it (test/fixtures/crowdsec-1.4.6/lapi-access.log). */
function accessLine(at: number, ip: string, ua: string, path = '/v1/decisions/stream', status = 200): string {
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, '0');
  const wall = `${p(d.getUTCDate())}-${p(d.getUTCMonth() + 1)}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  return `time="${wall}" level=info msg="${ip} - [${d.toUTCString()}] \\"GET ${path} HTTP/1.1 ${status} 1.2ms \\"${ua}\\" \\""\n`;
}

const row = (name: string, ip: string, type: string): CrowdsecBouncer => ({
  name,
  ipAddress: ip,
  type,
  version: 'v0.0.28',
  revoked: false,
  authType: 'api-key',
  createdAt: T0 - 3600_000,
  lastPullAt: T0 - 3600_000,
  autoCreated: false,
});

describeOnEachDialect('what watch learns from the access log and the counters', (current) => {
  let store: Store;
  let dir: string;
  let metrics = '';
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(metrics));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    store = current();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-learn-'));
  });
  /** An access log of `pulls` stream pulls from `ip`, one every 10 s from T0. */
  const pullLog = (pulls: number, ip: string, ua: string): string => {
    const log = path.join(dir, 'crowdsec_api.log');
    fs.writeFileSync(log, Array.from({ length: pulls }, (_, i) => accessLine(T0 + i * 10_000, ip, ua)).join(''));
    return log;
  };

  it('two bouncers of one product on one host: no cadence from the log, pulls and signs of life from the counters, which name them', async () => {
    const ua = 'cs-firewall-bouncer/v0.0.28';
    const log = pullLog(8, '10.0.0.5', ua);
    const clock = new ManualClock(T0 + 80_000);
    const learning = await LapiLearning.open(store, clock, { log: new FileLapiLog(log, null), prometheusUrl: url });
    const m = await syncMirror(store, [row('fw-a', '10.0.0.5', 'cs-firewall-bouncer'), row('fw-b', '10.0.0.5', 'cs-firewall-bouncer')], new Map(), clock.now());
    metrics = 'cs_lapi_bouncer_requests_total{bouncer="fw-a",method="GET",route="/v1/decisions/stream"} 10\nprocess_start_time_seconds 1.79629e+09\n';
    await learning.collect();
    let learnt = await learning.apply(m.byName);
    expect(learnt.size).toBe(0);
    clock.set(T0 + 90_000);
    metrics = metrics.replace('} 10', '} 13');
    await learning.collect();
    learnt = await learning.apply(m.byName);
    expect([...learnt.keys()]).toEqual(['fw-a']);
    // A rise proves a pull between the two scrapes, not at the second one.
    expect(learnt.get('fw-a')).toEqual({
      lastPullAt: null,
      countedPull: { after: T0 + 80_000, at: T0 + 90_000 },
      lastRequestAt: T0 + 90_000,
      pullCadenceMs: null,
    });
    const a = m.byName.get('fw-a')!;
    expect(await pullHours(store, { since: T0 - 3600_000, bouncerId: a.id })).toEqual([{ bouncerId: a.id, hour: T0, pulls: 3 }]);
    expect(learning.lapiStarts(0)).toEqual([1_796_290_000_000]);
    // A counter that went down, with no process start time: a restart between the two scrapes.
    clock.set(T0 + 100_000);
    metrics = 'cs_lapi_bouncer_requests_total{bouncer="fw-a",method="GET",route="/v1/decisions/stream"} 1\n';
    await learning.collect();
    expect(learning.lapiStarts(0)).toEqual([1_796_290_000_000, T0 + 100_000]);
    expect(learning.status()).toMatchObject({ accessLog: { up: true, lines: 8, requests: 8, malformed: 0 }, prometheus: { up: true, scrapes: 3 } });
    await learning.close();
  });

  it("a bouncer the log and the counters both see: its last pull is the log's exact time, not the scrape that saw the rise", async () => {
    const ua = 'crowdsec-custom-bouncer/v0.0.15';
    const log = pullLog(7, '10.0.0.7', ua);
    const clock = new ManualClock(T0 + 55_000);
    const learning = await LapiLearning.open(store, clock, { log: new FileLapiLog(log, null), prometheusUrl: url });
    const m = await syncMirror(store, [row('custom', '10.0.0.7', 'crowdsec-custom-bouncer')], new Map(), clock.now());
    metrics = 'cs_lapi_bouncer_requests_total{bouncer="custom",method="GET",route="/v1/decisions/stream"} 6\n';
    await learning.collect();
    await learning.apply(m.byName);
    // The pull at T0+60 s is in the log; the counters see its rise at the scrape 16 s later.
    clock.set(T0 + 76_000);
    metrics = metrics.replace('} 6', '} 7');
    await learning.collect();
    const l = (await learning.apply(m.byName)).get('custom')!;
    expect(lastSeenFrom(l.lastPullAt, l.countedPull)).toBe(T0 + 60_000);
    await learning.close();
  });

  it('one bouncer per address and product: its cadence, last request and pulls from the log; a restarted watch does not count them twice', async () => {
    const ua = 'crowdsec-custom-bouncer/v0.0.15';
    const log = pullLog(8, '10.0.0.6', ua);
    const clock = new ManualClock(T0 + 80_000);
    const open = async () => LapiLearning.open(store, clock, { log: new FileLapiLog(log, null) });
    const first = await open();
    const m = await syncMirror(store, [row('custom', '10.0.0.6', 'crowdsec-custom-bouncer')], new Map(), clock.now());
    await first.collect();
    expect(first.requestsRecorded).toBe(true);
    expect((await first.apply(m.byName)).get('custom')).toEqual({
      lastPullAt: T0 + 70_000,
      countedPull: null,
      lastRequestAt: T0 + 70_000,
      pullCadenceMs: 10_000,
    });
    const stored = (await listBouncers(store))[0]!;
    expect(stored).toMatchObject({ pullCadenceMs: 10_000, lastRequestAt: T0 + 70_000 });
    await first.close();
    fs.appendFileSync(log, accessLine(T0 + 80_000, '10.0.0.6', ua));
    // The next run reads the same tail again: only the new pull is added to the history.
    const second = await open();
    await second.collect();
    await second.apply(m.byName);
    expect(await pullHours(store, { since: T0, bouncerId: stored.id })).toEqual([{ bouncerId: stored.id, hour: T0, pulls: 9 }]);
    await second.close();
  });
});
