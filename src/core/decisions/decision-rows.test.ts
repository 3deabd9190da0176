import { describe, expect, it } from 'vitest';
import type { Decision } from '../model/records.ts';
import { parseIp } from '../../lib/ip.ts';
import { DecisionIndex } from './decision-index.ts';
import { indexedDecision } from '../../../test/support/decision-builders.ts';
import { DecisionRows } from './decision-rows.ts';

// What the index keeps of a row is less than the decision (decision-rows.ts): shared strings as
// codes, a value the index can write back from its network not kept as text. Every decision must
// still read back exactly as given.

const NOW = Date.UTC(2026, 11, 8, 0, 30, 0);
const MIN = 60_000;

// Each its own expiry, so that a row read back with another's time shows.
function dec(id: number, scope: string, value: string, over: Partial<Decision> = {}): Decision {
  return indexedDecision(NOW, id, scope, value, { until: NOW + 60 * MIN + id, ...over });
}

describe('DecisionIndex: values read back as given', () => {
  // Texts the index writes back (canonical) and texts it must keep (host bits set, mapped, upper
  // case, a /32 written out, a zero group spelled out), several on the same network.
  const values: Array<[string, string]> = [
    ['Ip', '10.0.0.1'],
    ['Range', '10.0.0.0/24'],
    ['Range', '10.0.0.7/24'],
    ['Ip', '::ffff:10.0.0.1'],
    ['Ip', '1.2.3.4/32'],
    ['Ip', '1.2.3.4'],
    ['Ip', '2001:db8::1'],
    ['Ip', '2001:DB8::1'],
    ['Ip', '2001:db8:0:0::1'],
    ['Range', '2001:db8::/64'],
    ['Range', '2001:db8:0::/64'],
    ['Country', 'FR'],
    ['Username', '10.0.0.1'],
  ];
  const build = () => {
    const index = new DecisionIndex();
    for (const [i, [scope, value]] of values.entries()) index.upsert(dec(i + 1, scope, value));
    return index;
  };

  it('answers every lookup with the value each decision was given', () => {
    const index = build();
    for (const [i, [, value]] of values.entries()) expect(index.get(i + 1)?.value).toBe(value);
    expect(index.active(NOW).map((d) => [d.id, d.value])).toEqual(values.map(([, v], i) => [i + 1, v]));
    expect(
      index
        .matchIp(parseIp('10.0.0.1'), NOW)
        .map((d) => d.value)
        .sort(),
    ).toEqual(['10.0.0.0/24', '10.0.0.1', '10.0.0.7/24', '::ffff:10.0.0.1']);
    expect(index.strongestMatch(4, parseIp('1.2.3.4').words, NOW, () => 1)?.value).toBe('1.2.3.4');
  });

  it('finds by value exactly the decisions written with that text, in any scope', () => {
    const index = build();
    for (const [, value] of values) {
      const want = values.flatMap(([, v], i) => (v === value ? [i + 1] : []));
      expect(
        index.byValue(value, NOW).map((d) => d.id),
        value,
      ).toEqual(want);
      expect(index.valueCount(value), value).toBe(want.length);
    }
    // Same network, a text nobody wrote: nothing.
    expect(index.byValue('10.0.0.9/24', NOW)).toEqual([]);
    expect(index.valueCount('2001:db8:0:0:0::1')).toBe(0);
  });

  it('says a decision is alone with its value exactly when valueCount says 1 (the startup body asks it of every row)', () => {
    const index = build();
    index.upsert(dec(50, 'Ip', '192.0.2.50'));
    index.upsert(dec(51, 'Ip', '192.0.2.51'));
    index.upsert(dec(52, 'Username', '192.0.2.51'));
    index.upsert(dec(53, 'Range', '2001:db8:5::/48'));
    const list = index.activeList(NOW);
    const answers = Array.from({ length: list.length }, (_, i) => [list.at(i)!.value, list.alone(i)]);
    expect(answers).toEqual(Array.from({ length: list.length }, (_, i) => [list.at(i)!.value, index.valueCount(list.at(i)!.value) === 1]));
    expect(answers.filter(([, alone]) => alone).map(([v]) => v)).toEqual([
      '10.0.0.0/24',
      '10.0.0.7/24',
      '::ffff:10.0.0.1',
      '1.2.3.4/32',
      '1.2.3.4',
      '2001:db8::1',
      '2001:DB8::1',
      '2001:db8:0:0::1',
      '2001:db8::/64',
      '2001:db8:0::/64',
      'FR',
      '192.0.2.50',
      '2001:db8:5::/48',
    ]);
  });

  it('keeps by-value answers right as decisions on one network change and go', () => {
    const index = build();
    index.remove(2); // 10.0.0.0/24
    expect(index.byValue('10.0.0.7/24', NOW).map((d) => d.id)).toEqual([3]);
    expect(index.byValue('10.0.0.0/24', NOW)).toEqual([]);
    index.upsert(dec(3, 'Range', '10.0.0.0/24')); // same id, now the network's own text
    expect(index.byValue('10.0.0.0/24', NOW).map((d) => d.value)).toEqual(['10.0.0.0/24']);
    expect(index.byValue('10.0.0.7/24', NOW)).toEqual([]);
    index.upsert(dec(1, 'Ip', '10.0.0.1', { until: NOW - 1 })); // expired: not answered
    expect(index.byValue('10.0.0.1', NOW).map((d) => d.scope)).toEqual(['Username']);
  });
});

describe('DecisionRows: shared strings as codes', () => {
  it('reads back every string past 65,536 distinct ones (16-bit codes widen)', () => {
    const rows = new DecisionRows(false);
    const n = 70_000;
    for (let i = 0; i < n; i++) rows.add(dec(i + 1, 'Ip', '192.0.2.1', { scenario: `s${i}`, origin: `o${i % 3}` }));
    for (const i of [0, 65_535, 65_536, n - 1]) {
      expect(rows.scenarioOf(i)).toBe(`s${i}`);
      expect(rows.originOf(i)).toBe(`o${i % 3}`);
      expect(rows.decision(i, false).scenario).toBe(`s${i}`);
    }
  });

  it('drops strings no live row uses any more, and renumbers the rest without changing a row', () => {
    const rows = new DecisionRows(false);
    const keep = rows.add(dec(1, 'Ip', '192.0.2.1', { scenario: 'kept', type: 'captcha' }));
    let id = 2;
    for (let round = 0; round < 20; round++) {
      const added: number[] = [];
      for (let i = 0; i < 1000; i++) added.push(rows.add(dec(id++, 'Ip', '192.0.2.1', { scenario: `r${round}-${i}` })));
      for (const r of added) rows.retire(r);
      rows.release(added);
    }
    // 20,000 scenarios went through: the table holds about what live rows use (plus its slack).
    expect(rows.sharedStrings).toBeLessThan(5_000);
    expect([rows.scenarioOf(keep), rows.typeOf(keep), rows.originOf(keep), rows.scopeOf(keep)]).toEqual(['kept', 'captcha', 'cscli', 'Ip']);
  });
});
