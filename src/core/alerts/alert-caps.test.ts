import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ALERT_TEXT_LIMITS,
  EVENT_SERIALIZED_MAX,
  MAX_ALERT_DETAIL_BYTES,
  MAX_EVENTS_PER_ALERT,
  MAX_LABEL_LENGTH,
  MAX_LABELS,
  MAX_META_PER_ALERT,
  MAX_PUSH_DETAIL_BYTES,
  META_KEY_MAX,
  META_VALUE_MAX,
} from './alert-caps.ts';
import { parseAlertsPayload, parseAlertsPayloadInTurns } from './payload.ts';
import { parseOneAlert, wireAlert } from '../../../test/support/alert-builders.ts';
import { runCountingPauses } from '../../../test/support/turns.ts';

const wire = wireAlert;
const event = (...values: string[]) => ({ meta: values.map((value, i) => ({ key: `k${i}`, value })), timestamp: '2026-11-24T04:18:03Z' });

const one = parseOneAlert;

describe('alert caps', () => {
  it("keeps the real 1.4.6 agent's alerts exactly as sent", () => {
    const fixture = JSON.parse(readFileSync('test/fixtures/crowdsec-1.4.6/agent-alerts-post.json', 'utf8')) as { request: { body: unknown[] } };
    const r = parseAlertsPayload(fixture.request.body);
    if (!r.ok) throw new Error(r.message);
    for (const [i, a] of r.alerts.entries()) {
      const sent = fixture.request.body[i] as { events: unknown[] };
      expect(a.events).toEqual(sent.events);
      expect(a.cut).toBe(0);
    }
  });

  it("cuts an event's meta to CrowdSec's 8,191 bytes, longest values first, keeping order", () => {
    const a = one(wire({ events: [event('short', 'x'.repeat(6_000), 'mid'.repeat(100), 'y'.repeat(5_000))] }));
    const e = a.events[0] as { meta: Array<{ key: string }> };
    expect(e.meta.map((m) => m.key)).toEqual(['k0', 'k2', 'k3']);
    expect(Buffer.byteLength(JSON.stringify(e.meta))).toBeLessThanOrEqual(EVENT_SERIALIZED_MAX);
    expect(a.cut).toBe(1);
  });

  it('keeps only meta and timestamp of an event, as Go decodes it', () => {
    const a = one(wire({ events: [{ ...event('v'), junk: 'z'.repeat(100_000) }, 'not an event'] }));
    expect(a.events).toEqual([event('v'), { meta: null, timestamp: null }]);
  });

  it('keeps the first 250 events within 512 KiB; events_count says how many there were', () => {
    const many = one(wire({ events: Array.from({ length: 900 }, (_, i) => event(String(i))), events_count: 900 }));
    expect(many.events).toHaveLength(MAX_EVENTS_PER_ALERT);
    expect((many.events[249] as { meta: Array<{ value: string }> }).meta[0]!.value).toBe('249');
    expect(many.eventsCount).toBe(900);
    const fat = one(wire({ events: Array.from({ length: 200 }, () => event('f'.repeat(8_000))) }));
    expect(Buffer.byteLength(JSON.stringify(fat.events))).toBeLessThanOrEqual(MAX_ALERT_DETAIL_BYTES);
    expect(fat.events.length).toBeGreaterThan(50);
    expect(fat.events.length).toBeLessThan(200);
  });

  it('keeps at most 8 MiB of events and meta in one push; every alert is kept', () => {
    const r = parseAlertsPayload(
      Array.from({ length: 100 }, () =>
        wire({ events: Array.from({ length: 60 }, () => event('e'.repeat(3_000))), meta: [{ key: 'k', value: 'v'.repeat(4_000) }] }),
      ),
    );
    if (!r.ok) throw new Error(r.message);
    expect(r.alerts).toHaveLength(100);
    const kept = r.alerts.reduce((n, a) => n + Buffer.byteLength(JSON.stringify(a.events)) + (a.meta ? Buffer.byteLength(JSON.stringify(a.meta)) : 0), 0);
    expect(kept).toBeLessThanOrEqual(MAX_PUSH_DETAIL_BYTES);
    expect(kept).toBeGreaterThan(MAX_PUSH_DETAIL_BYTES * 0.9);
    expect(r.alerts[0]!.events).toHaveLength(60);
    expect(r.alerts[99]!.events).toHaveLength(0);
    expect(r.alerts[99]!.cut).toBeGreaterThan(0);
  });

  it("cuts alert meta keys and values to CrowdSec's 255 and 4,095 bytes, never inside a character", () => {
    const a = one(wire({ meta: [{ key: 'k'.repeat(300), value: 'é'.repeat(3_000) }] }));
    const m = (a.meta as Array<{ key: string; value: string }>)[0]!;
    expect(m.key).toHaveLength(META_KEY_MAX);
    expect(Buffer.byteLength(m.value)).toBeLessThanOrEqual(META_VALUE_MAX);
    expect(m.value).toBe('é'.repeat(2_047));
  });

  it('refuses a field over its bound with 400, naming the field and the bound', () => {
    const max = ALERT_TEXT_LIMITS;
    const over = (n: number) => 'x'.repeat(n + 1);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ source: { scope: 'Ip', value: 'v', as_name: over(max.asName) } }, `0.source.as_name: ${max.asName + 1} characters; at most ${max.asName}`],
      [{ source: { scope: 'Ip', value: 'v', cn: over(max.cn) } }, `0.source.cn: ${max.cn + 1} characters; at most ${max.cn}`],
      [{ leakspeed: over(max.leakspeed) }, `0.leakspeed: ${max.leakspeed + 1} characters; at most ${max.leakspeed}`],
      [{ scenario_version: over(max.scenarioVersion) }, `0.scenario_version: ${max.scenarioVersion + 1} characters; at most ${max.scenarioVersion}`],
      [{ uuid: over(max.uuid) }, `0.uuid: ${max.uuid + 1} characters; at most ${max.uuid}`],
      [{ labels: Array.from({ length: MAX_LABELS + 1 }, () => 'l') }, `0.labels: ${MAX_LABELS + 1} labels; at most ${MAX_LABELS}`],
      [{ labels: ['ok', over(MAX_LABEL_LENGTH)] }, `0.labels.1: ${MAX_LABEL_LENGTH + 1} characters; at most ${MAX_LABEL_LENGTH}`],
      [
        { meta: Array.from({ length: MAX_META_PER_ALERT + 1 }, () => ({ key: 'k', value: 'v' })) },
        `0.meta: ${MAX_META_PER_ALERT + 1} entries; at most ${MAX_META_PER_ALERT}`,
      ],
    ];
    for (const [field, message] of cases) expect(parseAlertsPayload([wire(field)])).toEqual({ ok: false, status: 400, message });
  });

  it('checks a 250k-decision body in slices', () => {
    const decisions = Array.from({ length: 250_000 }, (_, i) => ({
      duration: '1h',
      origin: 'cscli',
      scenario: 's',
      scope: 'Ip',
      type: 'ban',
      value: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`,
    }));
    const { pauses } = runCountingPauses(parseAlertsPayloadInTurns([wire({ decisions })]));
    expect(pauses).toBeGreaterThan(90);
  });
});
