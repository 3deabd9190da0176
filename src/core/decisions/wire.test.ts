import { describe, expect, it } from 'vitest';
import type { Decision } from '../model/records.ts';
import { decisionJson, streamBodyChunks, streamJson } from './wire.ts';

const NOW = Date.UTC(2026, 10, 24, 6, 0, 0);

function decision(id: number, extra: Partial<Decision> = {}): Decision {
  return {
    id,
    alertId: 1,
    origin: 'cscli',
    type: 'ban',
    scope: 'Ip',
    value: `192.0.2.${id % 250}`,
    scenario: "manual 'ban' from 'vigil'",
    createdAt: NOW,
    until: NOW + 3600_000 + id,
    deletedAt: null,
    simulated: false,
    ...extra,
  };
}

describe('decision JSON on the wire', () => {
  it('has the seven keys in CrowdSec order, with a Go duration and JSON-escaped strings', () => {
    const d = decision(7, { scenario: 'say "hi" \\ \u00e9\u2028', until: NOW + 1500 });
    const text = decisionJson(d, NOW);
    expect(text).toBe('{"duration":"1.5s","id":7,"origin":"cscli","scenario":"say \\"hi\\" \\\\ \u00e9\u2028","scope":"Ip","type":"ban","value":"192.0.2.7"}');
    expect(JSON.parse(text).scenario).toBe(d.scenario);
    // The cached tail never freezes the duration.
    expect(JSON.parse(decisionJson(d, NOW + 3000)).duration).toBe('-1.5s');
  });

  it('streams in chunks that join to exactly the whole body, for every size around a chunk boundary', () => {
    for (const [nDeleted, nAdded] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [3, 4],
      [4, 4],
      [5, 9],
      [0, 8],
      [9, 0],
    ]) {
      const deleted = Array.from({ length: nDeleted }, (_, i) => decision(1000 + i, { until: NOW - i }));
      const added = Array.from({ length: nAdded }, (_, i) => decision(i + 1));
      const chunks = [...streamBodyChunks(deleted, added, NOW, 4)];
      const joined = Buffer.concat(chunks).toString('utf8');
      expect(joined, `${nDeleted}/${nAdded}`).toBe(streamJson(deleted, added, NOW));
      const body = JSON.parse(joined);
      expect(body.deleted === null ? 0 : body.deleted.length).toBe(nDeleted);
      expect(body.new === null ? 0 : body.new.length).toBe(nAdded);
      // No chunk carries more than 4 decisions.
      for (const c of chunks) expect((c.toString('utf8').match(/"duration"/g) ?? []).length).toBeLessThanOrEqual(4);
    }
  });

  it('writes any text as UTF-8 bytes, the same as the JSON string (escapes, accents, emoji, line separators)', () => {
    const odd = ['say "hi" \\ \u00e9\u2028', 'crowdsecurity/\u{1F600}-scan', 'ban \u4e2d\u6587', '\u0000\u001f tab\t'];
    const added = odd.map((scenario, i) => decision(i + 1, { scenario, value: `v\u00e9${i}`, origin: 'cscli\u00fc' }));
    const deleted = [decision(99, { until: NOW - 1234, scenario: odd[1]! })];
    for (const per of [1, 2, 1000]) {
      expect(Buffer.concat([...streamBodyChunks(deleted, added, NOW + 17, per)]).toString('utf8')).toBe(streamJson(deleted, added, NOW + 17));
    }
    expect(JSON.parse(Buffer.concat([...streamBodyChunks(deleted, added, NOW)]).toString('utf8')).new.map((d: { scenario: string }) => d.scenario)).toEqual(
      odd,
    );
  });
});
