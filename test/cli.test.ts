import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliRunner, useCliTest } from './support/cli.ts';
import { DIALECTS } from './support/databases.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { getBouncer, listBouncers } from '../src/store/bouncers.ts';
import { activeDecisions, expiredDecisions } from '../src/store/decisions.ts';

/** The cscli-style CLI, run in-process through main(argv, io), on each database. */
const T0 = Date.UTC(2026, 10, 24, 4, 17, 15);

for (const dialect of DIALECTS) {
  describe(`${dialect}: vigil CLI`, () => {
    const { workspace, clock, vigil, withStore } = useCliTest(dialect, 'vigil-cli-', T0);
    it('bouncers add prints the key exactly as cscli, stores only its SHA-512', async () => {
      const human = await vigil('bouncers', 'add', 'testbouncer1');
      expect(human.code).toBe(0);
      const m = /^Api key for 'testbouncer1':\n\n {3}([0-9a-f]{32})\n\nPlease keep this key since you will not be able to retrieve it!\n$/.exec(human.out);
      expect(m).not.toBeNull();
      const json = await vigil('bouncers', 'add', 'b-json', '-o', 'json');
      expect(json.out).toMatch(/^"[0-9a-f]{32}"$/);
      const raw = await vigil('bouncers', 'add', 'b-raw', '-o', 'raw', '-l', '24');
      expect(raw.out).toMatch(/^[0-9a-f]{48}$/);
      const keyed = await vigil('bouncers', 'add', 'keyed', '-k', 'mysecretkey123', '-o', 'raw');
      expect(keyed.out).toBe('mysecretkey123');
      const stored = await withStore((s) => listBouncers(s));
      expect(stored.map((b) => b.apiKeyHash)).toContain(hashApiKey(m![1]!));
      expect(stored.find((b) => b.name === 'keyed')!.apiKeyHash).toBe(hashApiKey('mysecretkey123'));
    });

    it('refuses a duplicate, a bad name and a bad key with one line, harming nothing', async () => {
      await vigil('bouncers', 'add', 'nginx', '-k', 'first-key');
      const dup = await vigil('bouncers', 'add', 'nginx');
      expect(dup).toEqual({ code: 1, out: '', err: 'level=fatal msg="unable to create bouncer: bouncer nginx already exists"\n' });
      const badName = await vigil('bouncers', 'add', 'weird name/x');
      expect(badName.code).toBe(1);
      expect(badName.err).toMatch(/^level=fatal msg="bouncer name "weird name\/x": use 1 to 128 letters/);
      const badKey = await vigil('bouncers', 'add', 'other', '-k', 'has space');
      expect(badKey.code).toBe(1);
      expect(badKey.err).toContain('--key');
      const badLen = await vigil('bouncers', 'add', 'other', '-l', 'x');
      expect(badLen.err).toContain('--length');
      const list = await withStore((s) => listBouncers(s));
      expect(list.map((b) => [b.name, b.apiKeyHash])).toEqual([['nginx', hashApiKey('first-key')]]);
    });

    it('lists, inspects, deletes and prunes bouncers', async () => {
      await vigil('bouncers', 'add', 'a', '-k', 'ka');
      clock.advance(2 * 3600_000);
      await vigil('bouncers', 'add', 'b', '-k', 'kb');
      const json = JSON.parse((await vigil('bouncers', 'list', '-o', 'json')).out);
      expect(json.map((b: { name: string }) => b.name)).toEqual(['a', 'b']);
      expect(json[0]).toMatchObject({ api_key: hashApiKey('ka'), revoked: false, last_pull: null, auth_type: 'api-key' });
      const raw = (await vigil('bouncers', 'list', '-o', 'raw')).out;
      expect(raw.split('\n')[0]).toBe('name,ip,revoked,last_pull,type,version,auth_type');
      const human = (await vigil('bouncers', 'list')).out;
      expect(human).toContain(' Name   IP Address   Valid   Last API pull   Type   Version   Auth Type ');
      const inspect = await vigil('bouncers', 'inspect', 'a', '-o', 'json');
      expect(JSON.parse(inspect.out)).toMatchObject({ name: 'a', lastPullAt: null });
      expect((await vigil('bouncers', 'inspect', 'ghost')).code).toBe(1);

      // Under 2 minutes only with --force (cscli's guard): nothing is pruned without it.
      const tooShort = await vigil('bouncers', 'prune', '-d', '1m');
      expect(tooShort).toMatchObject({ code: 1 });
      expect(tooShort.err).toContain('--duration 1m: under 2m may remove active bouncers; add --force if you mean it');
      expect(await withStore((s) => listBouncers(s))).toHaveLength(2);

      const refused = await vigil('bouncers', 'prune', '-d', '60m', '--force');
      expect(refused.code).toBe(0);
      expect(refused.err).toBe('level=info msg="1 bouncer(s) pruned successfully"\n');
      expect((await withStore((s) => listBouncers(s))).map((b) => b.name)).toEqual(['b']);

      const del = await vigil('bouncers', 'delete', 'b', 'nonexist');
      expect(del).toMatchObject({ code: 1, err: `level=fatal msg="unable to delete bouncer 'nonexist': bouncer doesn't exist"\n` });
      expect(await withStore((s) => listBouncers(s))).toHaveLength(1);
      expect((await vigil('bouncers', 'delete', 'b')).err).toBe(`level=info msg="bouncer 'b' deleted successfully"\n`);
    });

    it('revokes and sets the kind of a bouncer', async () => {
      await vigil('bouncers', 'add', 'fw', '-k', 'k');
      expect((await vigil('bouncers', 'revoke', 'fw')).code).toBe(0);
      expect((await vigil('bouncers', 'list', '-o', 'raw')).out).toContain('fw,,pending,');
      expect((await vigil('bouncers', 'set', 'fw', '--kind', 'firewall')).code).toBe(0);
      expect((await withStore((s) => getBouncer(s, 'fw')))!.kindOverride).toBe('firewall');
      expect((await vigil('bouncers', 'set', 'fw', '--kind', 'bogus')).code).toBe(1);
    });

    it('adds decisions with cscli defaults and lists them', async () => {
      expect((await vigil('decisions', 'add', '--ip', '192.0.2.1', '--duration', '5m', '--reason', 'test')).err).toBe(
        'level=info msg="Decision successfully added"\n',
      );
      await vigil('decisions', 'add', '--range', '198.51.100.0/24', '-d', '7d');
      await vigil('decisions', 'add', '--scope', 'Country', '--value', 'FR', '-t', 'captcha');
      await vigil('decisions', 'add', '--ip', '2001:db8::1', '-d', '1h30m');
      const active = await withStore((s) => activeDecisions(s, T0));
      expect(active.map((d) => [d.scope, d.value, d.type, d.until - T0, d.scenario, d.origin])).toEqual([
        ['Ip', '192.0.2.1', 'ban', 5 * 60_000, 'test', 'cscli'],
        ['Ip', '2001:db8::1', 'ban', 90 * 60_000, "manual 'ban' from 'vigil'", 'cscli'],
        ['Country', 'FR', 'captcha', 4 * 3600_000, "manual 'captcha' from 'vigil'", 'cscli'],
        ['Range', '198.51.100.0/24', 'ban', 7 * 24 * 3600_000, "manual 'ban' from 'vigil'", 'cscli'],
      ]);
      const listed = JSON.parse((await vigil('decisions', 'list', '-o', 'json', '--ip', '198.51.100.9')).out);
      expect(listed).toHaveLength(1);
      expect(listed[0].decisions[0]).toMatchObject({ value: '198.51.100.0/24', scope: 'Range', duration: '168h0m0s' });
      const raw = (await vigil('decisions', 'list', '-o', 'raw')).out.split('\n');
      expect(raw[0]).toBe('id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id');
      expect(raw).toHaveLength(6);
      const human = (await vigil('decisions', 'list', '--type', 'captcha')).out;
      expect(human).toContain('| Country:FR ');
    });

    it('refuses malformed decisions, naming the flag, and stores nothing', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['--ip', '300.1.2.3'], /--ip|ip "300\.1\.2\.3"/],
        [['--ip', '10.0.0.0/8'], /scope Range/],
        [['--range', '10.0.0.0/33'], /range "10\.0\.0\.0\/33"/],
        [['--ip', '192.0.2.1', '-d', '5x'], /duration "5x"/],
        [['--ip', '192.0.2.1', '-d', '-1h'], /duration/],
        [['--ip', '192.0.2.1', '-t', 'b@n'], /type "b@n"/],
        [['--scope', 'bad scope', '--value', 'x'], /scope "bad scope"/],
        [['--ip', '192.0.2.1', '--range', '10.0.0.0/8'], /exactly one/],
        [[], /exactly one/],
      ];
      for (const [args, msg] of cases) {
        const r = await vigil('decisions', 'add', ...args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.err.split('\n')).toHaveLength(2);
        expect(r.err).toMatch(msg);
      }
      expect(await withStore((s) => activeDecisions(s, T0))).toEqual([]);
    });

    it('soft-deletes decisions by ip, id, range and all', async () => {
      await vigil('decisions', 'add', '--ip', '192.0.2.1');
      await vigil('decisions', 'add', '--ip', '192.0.2.2');
      await vigil('decisions', 'add', '--range', '198.51.100.0/24');
      await vigil('decisions', 'add', '--ip', '203.0.113.1');
      expect((await vigil('decisions', 'delete', '--ip', '192.0.2.1')).err).toBe('level=info msg="1 decision(s) deleted"\n');
      const [first] = await withStore((s) => activeDecisions(s, T0));
      expect((await vigil('decisions', 'delete', '--id', String(first!.id))).err).toContain('1 decision(s) deleted');
      expect((await vigil('decisions', 'delete', '--range', '198.51.100.0/16', '--contained')).err).toContain('1 decision(s)');
      expect((await vigil('decisions', 'delete')).code).toBe(1);
      expect((await vigil('decisions', 'delete', '--ip', 'nope')).code).toBe(1);
      expect((await vigil('decisions', 'delete', '--all')).err).toContain('1 decision(s) deleted');
      const expired = await withStore((s) => expiredDecisions(s, T0));
      expect(expired).toHaveLength(4);
      expect(expired.every((d) => d.deletedAt === T0 && d.until === T0)).toBe(true);
    });

    it('imports CSV and JSON all-or-nothing, naming a bad row', async () => {
      const { dir } = workspace();
      const csv = path.join(dir, 'd.csv');
      const lines = ['duration,scope,value,reason'];
      for (let i = 0; i < 2000; i++) lines.push(`24h,ip,10.0.${i >> 8}.${i & 255},perf`);
      lines.push('12h,range,100.65.0.0/16,ranges');
      fs.writeFileSync(csv, lines.join('\n') + '\n');
      const ok = await vigil('decisions', 'import', '-i', csv);
      expect(ok).toMatchObject({ code: 0, err: 'level=info msg="2001 decisions successfully imported"\n' });
      const stored = await withStore((s) => activeDecisions(s, T0));
      expect(stored).toHaveLength(2001);
      expect(stored.find((d) => d.value === '100.65.0.0/16')).toMatchObject({ scope: 'Range', origin: 'cscli-import', scenario: 'ranges' });

      const bad = path.join(dir, 'bad.json');
      fs.writeFileSync(bad, JSON.stringify([{ value: '192.0.2.10' }, { value: '192.0.2.11', duration: '1h' }, { value: 'not-an-ip', scope: 'ip' }]));
      const r = await vigil('decisions', 'import', '-i', bad);
      expect(r.code).toBe(1);
      expect(r.err).toContain('row 3');
      expect(r.err).toContain('not-an-ip');
      expect(await withStore((s) => activeDecisions(s, T0))).toHaveLength(2001);

      const missing = await vigil('decisions', 'import', '-i', path.join(dir, 'absent.csv'));
      expect(missing.err).toMatch(/cannot read \(ENOENT\)/);
      fs.writeFileSync(path.join(dir, 'broken.json'), '[{"value": ');
      expect((await vigil('decisions', 'import', '-i', path.join(dir, 'broken.json'))).err).toContain('not valid JSON');
    });

    it('reads the same configuration as the server: file, env, flags, with clear errors', async () => {
      const { dir, dbUrl } = workspace();
      const cfg = path.join(dir, 'vigil.yaml');
      fs.writeFileSync(cfg, `db: ${dbUrl}\nlisten: 127.0.0.1:9999\n`);
      const viaFile = cliRunner(() => ({ env: {}, cwd: dir, clock }));
      expect((await viaFile('bouncers', 'add', 'from-file', '-o', 'raw')).code).toBe(0);
      expect((await withStore((s) => listBouncers(s))).map((b) => b.name)).toEqual(['from-file']);
      fs.writeFileSync(cfg, 'db: [unclosed\n');
      const bad = await viaFile('bouncers', 'list');
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/vigil\.yaml: YAML syntax error at line \d+, column \d+/);
      fs.writeFileSync(cfg, 'lisen: 1.2.3.4:80\n');
      expect((await viaFile('bouncers', 'list')).err).toContain('unknown key lisen');
      fs.writeFileSync(cfg, 'health:\n  offline_after: 24x\n');
      expect((await viaFile('bouncers', 'list')).err).toContain('health.offline_after');
      fs.writeFileSync(cfg, 'db: mysql://x\n');
      expect((await viaFile('bouncers', 'list')).err).toMatch(/vigil\.yaml: db "mysql:\/\/x": use sqlite:PATH/);
      const missing = await viaFile('--config', 'nope.yaml', 'bouncers', 'list');
      expect(missing.err).toContain('nope.yaml: not found');
    });
  });
}
