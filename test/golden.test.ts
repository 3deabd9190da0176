import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { parseDuration } from '../src/lib/duration.ts';
import { manualAlert } from '../src/decisions/new-decisions.ts';
import type { WireDecision } from '../src/remediation/decision-cache.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { addDecisions, softDeleteDecisions } from '../src/store/decisions.ts';

/**
 * Golden tests: the bodies CrowdSec 1.4.6 sent (test/fixtures/crowdsec-1.4.6/, captured from the
 * real programs: docs/reference/crowdsec-wire-protocol.md) rebuilt in Vigil's
 * store and fetched over HTTP must come back byte for byte, once durations (nanoseconds there,
 * milliseconds here) and ids (assigned by each database) are normalised.
 */
const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'crowdsec-1.4.6');
const T0 = Date.UTC(2026, 10, 24, 4, 20, 0);
const KEY = 'golden-key';

const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
/** Durations and ids differ by construction; everything else must be identical. */
const normalise = (body: string) => body.replace(/"duration":"-?[0-9hmsµn.]+"/g, '"duration":"D"').replace(/"id":\d+/g, '"id":N');

describe('golden bodies from CrowdSec 1.4.6', () => {
  for (const dialect of DIALECTS) {
    describe(dialect, () => {
      let server: RunningServer;
      let cleanup: () => Promise<void>;
      const clock = new ManualClock(T0);
      const get = async (p: string, key = KEY) => {
        const r = await fetch(`${server.url}${p}`, { headers: { 'X-Api-Key': key } });
        return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
      };

      /** Stores wire decisions so that each has, at T0, the remaining time the fixture shows. */
      async function load(decisions: WireDecision[]) {
        for (const d of decisions) {
          const remaining = Math.round(parseDuration(d.duration.replace(/^-/, ''), 'duration', { allowZero: true }));
          const until = d.duration.startsWith('-') ? T0 - remaining : T0 + remaining;
          const alert = manualAlert({ now: T0 - 60_000, scenario: d.scenario, scope: d.scope, value: d.value, count: 1, machineId: 'vigil' });
          const { decisionIds } = await addDecisions(server.store, alert, [
            {
              origin: d.origin,
              type: d.type,
              scope: d.scope,
              value: d.value,
              scenario: d.scenario,
              createdAt: T0 - 60_000,
              until: Math.max(until, T0 - 59_000),
              simulated: false,
            },
          ]);
          if (until <= T0) await softDeleteDecisions(server.store, decisionIds, until);
        }
        await server.sync.refresh();
      }

      beforeAll(async () => {
        const db = await freshDbUrl(dialect);
        cleanup = db.cleanup;
        const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off' }, env: {}, cwd: '/nonexistent' });
        server = await startServer(config, { clock, log: createLogger('silent') });
        await createBouncer(server.store, { name: 'golden', apiKeyHash: hashApiKey(KEY), now: T0 - 3600_000 });
        await load(JSON.parse(read('get-decisions-all.json')));
      });
      afterAll(async () => {
        await server?.close();
        await cleanup?.();
      });

      it('GET /v1/decisions matches get-decisions-all.json', async () => {
        const r = await get('/v1/decisions');
        expect(r.type).toBe('application/json; charset=utf-8');
        expect(normalise(r.body)).toBe(normalise(read('get-decisions-all.json').trim()));
      });

      it('GET /v1/decisions?ip= inside a range matches get-decisions-ip-in-range.json', async () => {
        expect(normalise((await get('/v1/decisions?ip=198.51.100.7')).body)).toBe(normalise(read('get-decisions-ip-in-range.json').trim()));
      });

      it('no match is get-decisions-no-match.json, a bad key is error-403-bad-key.json', async () => {
        expect((await get('/v1/decisions?ip=192.0.2.99')).body).toBe(read('get-decisions-no-match.json').trim());
        const bad = await get('/v1/decisions', 'wrong');
        expect(bad.status).toBe(403);
        expect(bad.body).toBe(read('error-403-bad-key.json').trim());
      });

      it('stream startup has the shape of stream-startup-true.json', async () => {
        const fixture = JSON.parse(read('stream-startup-true.json')) as { deleted: WireDecision[]; new: WireDecision[] };
        // The captured startup also listed a deleted decision; add it, then pull as a new bouncer.
        await load(fixture.deleted);
        await createBouncer(server.store, { name: 'golden-stream', apiKeyHash: hashApiKey('stream-key'), now: T0 });
        const body = (await get('/v1/decisions/stream?startup=true', 'stream-key')).body;
        const got = JSON.parse(body) as { deleted: WireDecision[]; new: WireDecision[] };
        expect(Object.keys(got)).toEqual(['deleted', 'new']);
        const strip = (list: WireDecision[]) => list.map(({ duration, id, ...rest }) => ({ ...rest, negative: duration.startsWith('-') }));
        expect(strip(got.deleted)).toEqual(strip(fixture.deleted));
        // Same decisions as the fixture's `new` (it had a subset of ours), in the same relative order.
        const values = got.new.map((d) => d.value);
        const expected = fixture.new.map((d) => d.value);
        expect(values.filter((v) => expected.includes(v))).toEqual(expected);
        for (const d of got.new) expect(Object.keys(d)).toEqual(['duration', 'id', 'origin', 'scenario', 'scope', 'type', 'value']);
      });
    });
  }
});
