import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBouncerRow, parseCrowdsecTime, parseCscliBouncersJson } from './crowdsec-bouncer.ts';

const T = Date.parse('2026-11-24T04:16:55.489Z');

describe('CrowdSec times', () => {
  it('reads every form the drivers and cscli hand out, as UTC', () => {
    expect(parseCrowdsecTime('2026-11-24 04:16:55.489468425+00:00')).toBe(T); // ent on SQLite
    expect(parseCrowdsecTime('2026-11-24T04:16:55.489468425Z')).toBe(T); // cscli -o json
    expect(parseCrowdsecTime('2026-11-24 04:16:55')).toBe(Date.parse('2026-11-24T04:16:55Z')); // MySQL, UTC session
    expect(parseCrowdsecTime('2026-11-24 06:16:55.489+02:00')).toBe(T);
    expect(parseCrowdsecTime('2026-11-24T06:16:55.489+0200')).toBe(T);
    expect(parseCrowdsecTime(new Date(T))).toBe(T); // pg
  });

  it("treats empty, null, Go's zero time and garbage as not set", () => {
    for (const v of [null, undefined, '', '0001-01-01 00:00:00+00:00', '0001-01-01T00:00:00Z', 'yesterday', {}]) expect(parseCrowdsecTime(v)).toBeNull();
  });
});

describe('bouncer rows across CrowdSec versions', () => {
  it('1.4: last_pull set at registration and no IP/type means never pulled', () => {
    const b = parseBouncerRow(
      {
        name: 'fresh',
        ip_address: '',
        type: null,
        version: null,
        revoked: 0,
        auth_type: 'api-key',
        created_at: '2026-11-24 04:17:15.049267372+00:00',
        last_pull: '2026-11-24 04:17:15.049268494+00:00',
      },
      'test',
    );
    expect(b).toEqual({
      name: 'fresh',
      ipAddress: '',
      type: '',
      version: '',
      revoked: false,
      authType: 'api-key',
      createdAt: Date.parse('2026-11-24T04:17:15.049Z'),
      lastPullAt: null,
      autoCreated: false,
    });
  });

  it('1.4: a bouncer that pulled keeps its last pull, even when it pulled in its first second', () => {
    const row = { name: 'b', ip_address: '127.0.0.1', type: 'crowdsec-custom-bouncer', version: '-', revoked: false, created_at: '2026-11-24 04:17:15+00:00' };
    expect(parseBouncerRow({ ...row, last_pull: '2026-11-24 05:00:00+00:00' }, 't').lastPullAt).toBe(Date.parse('2026-11-24T05:00:00Z'));
    expect(parseBouncerRow({ ...row, last_pull: '2026-11-24 04:17:15.5+00:00' }, 't').lastPullAt).toBe(Date.parse('2026-11-24T04:17:15.5Z'));
  });

  it('1.6.3+: an empty last_pull is never pulled; auto_created children are marked', () => {
    const b = parseBouncerRow(
      { name: 'nginx@10.0.0.7', ip_address: '10.0.0.7', revoked: true, created_at: new Date(T), last_pull: null, auto_created: 1 },
      't',
    );
    expect(b).toMatchObject({ lastPullAt: null, autoCreated: true, revoked: true, createdAt: T });
  });

  it('refuses a row without a name, naming the source', () => {
    expect(() => parseBouncerRow({ ip_address: '' }, 'sqlite:/x.db')).toThrow(/sqlite:\/x\.db: a bouncer row has no name/);
  });
});

describe('cscli bouncers list -o json', () => {
  it('parses 1.4.6 output (verbatim shape, crowdsec-wire-protocol.md §2)', () => {
    // The fixture's bouncer before its first pull, and one that pulled (its key shortened).
    const beforePull = JSON.parse(
      fs.readFileSync(new URL('../../../test/fixtures/crowdsec-1.4.6/cscli-bouncers-list-before-pull.json', import.meta.url), 'utf8'),
    );
    const pulled = {
      id: 3,
      created_at: '2026-11-24T04:17:15.049267372Z',
      updated_at: '2026-11-24T04:18:35.1Z',
      name: 'testbouncer1',
      api_key: 'c262ae68',
      revoked: false,
      ip_address: '127.0.0.1',
      type: 'curl',
      version: '7.88.1',
      until: '2026-11-24T04:17:15.049268197Z',
      last_pull: '2026-11-24T04:18:35Z',
      auth_type: 'api-key',
    };
    const out = JSON.stringify([...beforePull, pulled], null, 2);
    const list = parseCscliBouncersJson(out, 'cscli');
    expect(list.map((b) => [b.name, b.lastPullAt, b.type])).toEqual([
      ['FirewallBouncer-9EBoeUleDMRsN2aATeF1KGcI1kwQ9ce3', null, ''],
      ['testbouncer1', Date.parse('2026-11-24T04:18:35Z'), 'curl'],
    ]);
  });

  it('parses 1.6+ output (no id, no key, null last_pull, auto_created)', () => {
    const out = JSON.stringify([
      {
        created_at: '2026-11-24T04:00:00Z',
        updated_at: '2026-11-24T04:00:00Z',
        name: 'traefik',
        revoked: false,
        ip_address: '10.0.0.2',
        type: 'traefik-plugin',
        version: '1.4.2',
        last_pull: '2026-11-24T05:00:00Z',
        auth_type: 'api-key',
        os: 'linux/?',
        auto_created: false,
      },
      {
        created_at: '2026-11-24T04:30:00Z',
        updated_at: '2026-11-24T04:30:00Z',
        name: 'traefik@10.0.0.3',
        revoked: false,
        ip_address: '10.0.0.3',
        type: 'traefik-plugin',
        version: '1.4.2',
        last_pull: null,
        auth_type: 'api-key',
        auto_created: true,
      },
    ]);
    const [parent, child] = parseCscliBouncersJson(out, 'cscli');
    expect(parent).toMatchObject({ name: 'traefik', lastPullAt: Date.parse('2026-11-24T05:00:00Z'), autoCreated: false });
    expect(child).toMatchObject({ name: 'traefik@10.0.0.3', lastPullAt: null, autoCreated: true });
  });

  it('accepts an empty list in any spelling', () => {
    expect(parseCscliBouncersJson('[]\n', 'c')).toEqual([]);
    expect(parseCscliBouncersJson('null', 'c')).toEqual([]);
    expect(parseCscliBouncersJson('', 'c')).toEqual([]);
  });

  it('says what is wrong with output that is not the list', () => {
    expect(() => parseCscliBouncersJson('Error: unknown command "bouncer"', "'cscli'")).toThrow(
      /'cscli': output is not JSON .*must print 'cscli bouncers list -o json'/,
    );
    expect(() => parseCscliBouncersJson('{"a":1}', 'c')).toThrow(/expected a JSON array of bouncers, got object/);
  });
});
