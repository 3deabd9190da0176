import fs from 'node:fs';
import { DECISIONS_HUMAN } from '../../../test/support/cscli-reference.ts';
import { describe, expect, it } from 'vitest';
import type { AlertWithDecisions, Decision } from '../../core/model/records.ts';
import { formatDecisionList } from './decisions.ts';
import type { OutputFormat } from './output-format.ts';

const RAW = `id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id
7,cscli,Country:FR,manual 'ban' from '3d1219c7c4c5404aaa1f6d2a48adfda4',ban,,,1,3h59m53.241844009s,false,7
4,cscli,username:foobar,usertest,ban,,,1,3h59m52.241830602s,false,4
1,cscli,Ip:192.0.2.1,test,ban,,,1,4m52.241824115s,false,1
`;
// test/fixtures/crowdsec-1.4.6/cscli-decisions-list.json (no trailing newline: cscli prints it with "%s").
const JSON_FIXTURE = fs.readFileSync(new URL('../../../test/fixtures/crowdsec-1.4.6/cscli-decisions-list.json', import.meta.url), 'utf8');

const MACHINE = '3d1219c7c4c5404aaa1f6d2a48adfda4';
const at = (iso: string): number => Date.parse(iso);
const NOW = at('2026-11-24T04:18:13Z');

/** One `cscli decisions add` = one alert with one decision (§3). */
function added(
  id: number,
  createdAt: string,
  startAt: string,
  scope: string,
  value: string,
  type: string,
  scenario: string,
  untilMs: number,
): AlertWithDecisions {
  return {
    alert: {
      id,
      createdAt: at(createdAt),
      scenario,
      message: scenario,
      machineId: MACHINE,
      sourceScope: scope,
      sourceValue: value,
      sourceIp: value, // cscli puts the value in source.ip whatever the scope
      eventsCount: 1,
      leakspeed: '0',
      startAt: at(startAt),
      stopAt: at(startAt),
      simulated: false,
    },
    decisions: [
      {
        id,
        alertId: id,
        origin: 'cscli',
        type,
        scope,
        value,
        scenario,
        createdAt: at(createdAt),
        until: untilMs,
        deletedAt: null,
        simulated: false,
      },
    ],
  };
}

const manual = (type: string): string => `manual '${type}' from '${MACHINE}'`;
const H = 3_600_000;
const M = 60_000;

/** The seven decisions of §3, shuffled: the formatter sorts as the LAPI does. */
function sevenDecisions(): AlertWithDecisions[] {
  return [
    added(3, '2026-11-24T04:18:06.300Z', '2026-11-24T04:18:06Z', 'Ip', '192.0.2.2', 'captcha', manual('captcha'), NOW + 2 * H),
    added(1, '2026-11-24T04:18:06.100Z', '2026-11-24T04:18:06Z', 'Ip', '192.0.2.1', 'ban', 'test', NOW + 5 * M),
    added(7, '2026-11-24T04:18:07.200Z', '2026-11-24T04:18:07Z', 'Country', 'FR', 'ban', manual('ban'), NOW + 4 * H),
    added(5, '2026-11-24T04:18:07.000Z', '2026-11-24T04:18:06Z', 'Ip', '2001:db8::1', 'ban', manual('ban'), NOW + 10 * M),
    added(2, '2026-11-24T04:18:06.200Z', '2026-11-24T04:18:06Z', 'Range', '198.51.100.0/24', 'ban', 'rangetest', NOW + H),
    added(6, '2026-11-24T04:18:07.100Z', '2026-11-24T04:18:07Z', 'Range', '2001:db8:1::/48', 'ban', manual('ban'), NOW + 10 * M),
    added(4, '2026-11-24T04:18:06.400Z', '2026-11-24T04:18:06Z', 'username', 'foobar', 'ban', 'usertest', NOW + 4 * H),
  ];
}

/**
 * What cscli printed for the §3 decisions in each format, with the nanosecond remaining times it
 * printed then (Vigil's own are in ms, tested below); `ids`: the alerts of the seven it was given.
 */
const CAPTURED: Array<{ output: OutputFormat; what: string; ids?: number[]; remaining: Record<number, string>; expected: string }> = [
  {
    output: 'human',
    what: 'the §3 table',
    remaining: {
      7: '3h59m53.512773607s',
      6: '9m53.512768215s',
      5: '9m52.51276522s',
      4: '3h59m52.512762546s',
      3: '1h59m52.51276004s',
      2: '59m52.512757445s',
      1: '4m52.512755s',
    },
    expected: DECISIONS_HUMAN,
  },
  { output: 'raw', what: 'the §3 CSV', ids: [7, 4, 1], remaining: { 7: '3h59m53.241844009s', 4: '3h59m52.241830602s', 1: '4m52.241824115s' }, expected: RAW },
  {
    output: 'json',
    what: 'test/fixtures/crowdsec-1.4.6/cscli-decisions-list.json',
    remaining: {
      7: '3h59m53.352848965s',
      6: '9m53.352845153s',
      5: '9m52.352842722s',
      4: '3h59m52.352840393s',
      3: '1h59m52.352838288s',
      2: '59m52.352833697s',
      1: '4m52.352831672s',
    },
    expected: JSON_FIXTURE,
  },
];

describe('formatDecisionList: what cscli printed, byte for byte', () => {
  it.each(CAPTURED)('$output reproduces $what', ({ output, ids, remaining, expected }) => {
    const items = sevenDecisions().filter((i) => ids === undefined || ids.includes(i.alert.id));
    expect(formatDecisionList(items, output, NOW, { remaining: (d: Decision) => remaining[d.id] })).toBe(expected);
  });
});

describe('formatDecisionList human', () => {
  it('computes expiration as Go durations of until − now', () => {
    const item = added(1, '2026-11-24T04:18:06Z', '2026-11-24T04:18:06Z', 'Ip', '192.0.2.1', 'ban', 'test', NOW + 4 * M + 52_512);
    const out = formatDecisionList([item], 'human', NOW);
    expect(out.split('\n')[3]).toBe('| 1  | cscli  | Ip:192.0.2.1 | test   | ban    |         |    | 1      | 4m52.512s  | 1        |');
    const expired = formatDecisionList([item], 'raw', item.decisions[0].until + 1902);
    expect(expired).toContain(',-1.902s,');
  });

  it('says so when nothing is active', () => {
    expect(formatDecisionList([], 'human', NOW)).toBe('No active decisions\n');
  });

  it('marks simulated alerts and adds the machine column on request', () => {
    const made = added(9, '2026-11-24T04:18:06Z', '2026-11-24T04:18:06Z', 'Ip', '192.0.2.9', 'ban', 'sim', NOW + H);
    const item = { ...made, alert: { ...made.alert, simulated: true, machineId: '' } };
    const lines = formatDecisionList([item], 'human', NOW, { printMachine: true }).split('\n');
    expect(lines[1]).toBe('| ID | Source | Scope:Value  | Reason |   Action   | Country | AS | Events | expiration | Alert ID | Machine |');
    expect(lines[3]).toBe('| 9  | cscli  | Ip:192.0.2.9 | sim    | (simul)ban |         |    | 1      | 1h0m0s     | 9        | N/A     |');
  });

  it('shows each simulated/type/scope/value once and counts the rest', () => {
    const first = added(2, '2026-11-24T04:18:07Z', '2026-11-24T04:18:07Z', 'Ip', '192.0.2.1', 'ban', 'again', NOW + H);
    const second = added(1, '2026-11-24T04:18:06Z', '2026-11-24T04:18:06Z', 'Ip', '192.0.2.1', 'ban', 'test', NOW + 5 * M);
    const out = formatDecisionList([second, first], 'human', NOW);
    expect(out).toContain('| 2  |');
    expect(out).not.toContain('| 1  |');
    expect(out.endsWith('+\n1 duplicated entries skipped\n')).toBe(true);
    // json drops it too (cscli edits the alerts before choosing the format), leaving `[]`.
    const json = JSON.parse(formatDecisionList([second, first], 'json', NOW)) as Array<{ id: number; decisions: unknown[] }>;
    expect(json.map((a) => [a.id, a.decisions.length])).toEqual([
      [2, 1],
      [1, 0],
    ]);
  });
});

describe('formatDecisionList raw', () => {
  it('prints only the header when nothing is active, and a machine column on request', () => {
    expect(formatDecisionList([], 'raw', NOW)).toBe('id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id\n');
    expect(formatDecisionList([], 'raw', NOW, { printMachine: true })).toBe(
      'id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id,machine\n',
    );
  });

  it('quotes a reason holding a comma', () => {
    const item = added(1, '2026-11-24T04:18:06Z', '2026-11-24T04:18:06Z', 'Ip', '192.0.2.1', 'ban', 'a, "b"', NOW + H);
    expect(formatDecisionList([item], 'raw', NOW).split('\n')[1]).toBe('1,cscli,Ip:192.0.2.1,"a, ""b""",ban,,,1,1h0m0s,false,1');
  });
});

describe('formatDecisionList json', () => {
  it('prints null (no newline) when nothing is active, as cscli re-encodes the LAPI’s null', () => {
    expect(formatDecisionList([], 'json', NOW)).toBe('null');
  });

  it('omits source.ip when the alert has none, and prints fractional start times as Go does', () => {
    const made = added(1, '2026-11-24T04:18:06Z', '2026-11-24T04:18:06.25Z', 'Ip', '192.0.2.1', 'ban', 'test', NOW + H);
    const item = { ...made, alert: { ...made.alert, sourceIp: '' } };
    const [alert] = JSON.parse(formatDecisionList([item], 'json', NOW)) as Array<Record<string, unknown>>;
    expect(alert.source).toEqual({ scope: 'Ip', value: '192.0.2.1' });
    expect(alert.start_at).toBe('2026-11-24 04:18:06.25 +0000 UTC');
    expect(alert.created_at).toBe('2026-11-24T04:18:06Z');
  });
});
