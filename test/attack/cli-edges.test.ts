/**
 * CLI edges (issue 15): one key per bouncer, empty and dash-led arguments named, field lengths
 * capped with the cap in the message, and a refused command or import stores nothing.
 */
import { dbOf } from '../../src/store/store-db.ts';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, withStoreAt } from '../support/databases.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { cliRunner, useCliWorkspace } from '../support/cli.ts';

const T0 = Date.UTC(2026, 10, 24, 4, 17, 15);
const KEY = '0123456789abcdef0123456789abcdef';

for (const dialect of DIALECTS) {
  describe(`${dialect}: CLI edges`, () => {
    const workspace = useCliWorkspace(dialect, 'vigil-attack-cli-');
    let dir: string;
    let dbUrl: string;

    const vigil = cliRunner(() => ({ env: { VIGIL_DB: dbUrl }, cwd: dir, clock: new ManualClock(T0) }));
    /** Every bouncer and decision: what a refused command must leave as it was. */
    const contents = () =>
      withStoreAt(dbUrl, async (s) => ({
        bouncers: await dbOf(s).selectFrom('bouncers').selectAll().orderBy('id').execute(),
        decisions: await dbOf(s).selectFrom('decisions').selectAll().orderBy('id').execute(),
        alerts: await dbOf(s).selectFrom('alerts').selectAll().orderBy('id').execute(),
      }));
    const oneLine = (err: string) => expect(err.split('\n').filter(Boolean)).toHaveLength(1);

    beforeEach(() => {
      ({ dir, dbUrl } = workspace());
    });

    it('a key already used by another bouncer is refused: one line, exit 1, nothing stored', async () => {
      expect((await vigil('bouncers', 'add', 'nginx', '--key', KEY)).code).toBe(0);
      const before = await contents();
      const r = await vigil('bouncers', 'add', 'traefik', '--key', KEY);
      expect(r.code).toBe(1);
      oneLine(r.err);
      expect(r.err).toBe(
        'level=fatal msg="unable to create bouncer: this API key is already used by bouncer nginx; give traefik its own key (omit --key for a random one)"\n',
      );
      expect(r.out).toBe('');
      expect(await contents()).toEqual(before);
    });

    it('decisions add --ip "" names --ip', async () => {
      for (const [flag, example] of [
        ['--ip', 'an IPv4 or IPv6 address'],
        ['--range', 'a CIDR range'],
      ] as const) {
        const r = await vigil('decisions', 'add', flag, '');
        expect(r.code).toBe(1);
        oneLine(r.err);
        expect(r.err).toContain(`${flag} "": empty; give ${example}`);
      }
      const blank = await vigil('decisions', 'add', '--scope', 'Country', '--value', '  ');
      expect(blank.err).toContain('--value "  ": empty');
      expect((await contents()).decisions).toEqual([]);
    });

    it('a bouncer name starting with - names the argument and the fix; after -- the name rule says why', async () => {
      const r = await vigil('bouncers', 'add', '-x');
      expect(r.code).toBe(1);
      oneLine(r.err);
      expect(r.err).toBe(
        "level=fatal msg=\"unknown option '-x': if '-x' is a name or a value, not an option, put it after -- (vigil bouncers add -- -x); bouncer names start with a letter or digit; see --help for the options\"\n",
      );
      const after = await vigil('bouncers', 'add', '--', '-x');
      expect(after.code).toBe(1);
      expect(after.err).toContain('bouncer name "-x": use 1 to 128 letters');
      const withDb = await vigil('--db', dbUrl, 'bouncers', 'delete', '-nginx');
      expect(withDb.err).toContain('(vigil bouncers delete -- -nginx)');
      expect((await contents()).bouncers).toEqual([]);
    });

    it('--value, --reason and imported fields are capped, naming the cap; nothing is stored', async () => {
      const long = await vigil('decisions', 'add', '--scope', 'Username', '--value', 'u'.repeat(256));
      expect(long.code).toBe(1);
      oneLine(long.err);
      expect(long.err).toBe('level=fatal msg="--value: 256 characters; at most 255"\n');
      expect((await vigil('decisions', 'add', '--scope', 'Username', '--value', 'u'.repeat(255))).code).toBe(0);
      const reason = await vigil('decisions', 'add', '--ip', '192.0.2.7', '--reason', 'r'.repeat(1025));
      expect(reason.err).toBe('level=fatal msg="--reason: 1025 characters; at most 1024"\n');
      const before = await contents();

      const rows = (bad: Record<string, string>) => [{ value: '192.0.2.1' }, { value: '192.0.2.2', ...bad }, { value: '192.0.2.3' }];
      for (const [field, bad, cap] of [
        ['value', { scope: 'Username', value: 'v'.repeat(4097) }, 'value: 4097 characters; at most 255'],
        ['origin', { origin: 'o'.repeat(300) }, 'origin: 300 characters; at most 255'],
        ['reason', { reason: 's'.repeat(2000) }, 'reason: 2000 characters; at most 1024'],
        ['type', { type: 't'.repeat(40) }, 'type: 40 characters; at most 32'],
      ] as const) {
        const file = path.join(dir, `${field}.json`);
        fs.writeFileSync(file, JSON.stringify(rows(bad)));
        const r = await vigil('decisions', 'import', '-i', file);
        expect(r.code, field).toBe(1);
        oneLine(r.err);
        expect(r.err).toBe(`level=fatal msg="${file} row 2: ${cap}"\n`);
      }
      const csv = path.join(dir, 'long.csv');
      fs.writeFileSync(csv, `value,origin\n192.0.2.1,ok\n192.0.2.2,${'o'.repeat(256)}\n`);
      const r = await vigil('decisions', 'import', '-i', csv);
      expect(r.err).toBe(`level=fatal msg="${csv} row 2: origin: 256 characters; at most 255"\n`);
      expect(await contents()).toEqual(before);
    });
  });
}
