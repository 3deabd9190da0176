import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { useCliTest } from './support/cli.ts';
import { DIALECTS } from './support/databases.ts';
import { createMachine, getMachine, listMachines, recordHeartbeat, recordLogin } from '../src/store/machines.ts';
import { HealthEngine } from '../src/health/engine.ts';
import { DEFAULT_RULES } from '../src/core/health/evaluate.ts';

/** `vigil machines …` run in-process through main(argv, io) on each database, and once as the real binary. */
const T0 = Date.UTC(2026, 10, 24, 4, 17, 15);
const bin = path.join(import.meta.dirname, '..', 'bin', 'vigil.js');

for (const dialect of DIALECTS) {
  describe(`${dialect}: vigil machines`, () => {
    const { workspace, clock, vigil, withStore } = useCliTest(dialect, 'vigil-machines-', T0);
    it('add --auto -f FILE writes the credentials the agent reads; the machine is validated and its password bcrypt-hashed', async () => {
      const { dir } = workspace();
      const r = await vigil('machines', 'add', 'agent1', '--auto', '-f', 'creds.yaml');
      expect(r).toMatchObject({ code: 0, out: '' });
      expect(r.err).toContain(`msg="Machine 'agent1' successfully added to the local API"`);
      const file = path.join(dir, 'creds.yaml');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const creds = YAML.parse(fs.readFileSync(file, 'utf8')) as { url: string; login: string; password: string };
      expect(Object.keys(creds)).toEqual(['url', 'login', 'password']);
      expect(creds.url).toBe('http://127.0.0.1:8080/');
      expect(creds.login).toBe('agent1');
      expect(creds.password).toMatch(/^[A-Za-z0-9]{64}$/);
      const m = (await withStore((s) => getMachine(s, 'agent1')))!;
      expect(m.isValidated).toBe(true);
      expect(m.passwordHash).toMatch(/^\$2[aby]\$10\$/);
      expect(await bcrypt.compare(creds.password, m.passwordHash)).toBe(true);
      expect(m.passwordHash).not.toContain(creds.password);
    });

    it('add without a name makes a 32-hex one; -f - and no -f print the file; --password and --url are used', async () => {
      const auto = await vigil('machines', 'add', '--auto', '-f', '-');
      expect(auto.code).toBe(0);
      const printed = YAML.parse(auto.out) as { login: string; password: string };
      expect(printed.login).toMatch(/^[0-9a-f]{32}$/);
      const given = await vigil('machines', 'add', 'agent2', '--password', 'pa ss:#1', '--url', 'https://lapi.example:8443');
      expect(given.code).toBe(0);
      expect(YAML.parse(given.out)).toEqual({ url: 'https://lapi.example:8443/', login: 'agent2', password: 'pa ss:#1' });
      const names = (await withStore(listMachines)).map((m) => m.machineId);
      expect(names).toEqual([printed.login, 'agent2']);
    });

    it('refuses bad input with one line, exit 1, nothing stored', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['machines', 'add', 'agent1'], /give --password P, or --auto/],
        [['machines', 'add'], /give a NAME, or --auto/],
        [['machines', 'add', 'a', '--auto', '--password', 'x'], /--password and --auto: give one or the other/],
        [['machines', 'add', 'bad name', '--auto'], /machine name "bad name": use 1 to 128 letters/],
        [['machines', 'add', 'a', '--password', 'x'.repeat(73)], /at most 72 bytes/],
        [['machines', 'add', 'a', '--auto', '--url', 'ftp://x'], /--url "ftp:\/\/x": use http:\/\/ or https:\/\//],
        [['machines', 'add', 'a', '--auto', '-f', 'no/such/dir/creds.yaml'], /folder .*no\/such\/dir doesn't exist/],
        [['machines', 'prune', '-d', '5x'], /--duration "5x"/],
        [['machines', 'validate', 'ghost'], /machine 'ghost' doesn't exist \(see: vigil machines list\)/],
        [['machines', 'inspect', 'ghost'], /machine 'ghost' doesn't exist/],
      ];
      for (const [argv, msg] of cases) {
        const r = await vigil(...argv);
        expect(r.code, argv.join(' ')).toBe(1);
        expect(r.out, argv.join(' ')).toBe('');
        expect(r.err.trim().split('\n'), argv.join(' ')).toHaveLength(1);
        expect(r.err, argv.join(' ')).toMatch(/^level=fatal msg=/);
        expect(r.err, argv.join(' ')).toMatch(msg);
      }
      expect(await withStore(listMachines)).toEqual([]);
      expect(fs.readdirSync(workspace().dir)).toEqual([]);
    });

    it('an existing machine: refused without --force; --force changes only the password', async () => {
      await vigil('machines', 'add', 'agent1', '--password', 'first-password');
      await withStore((s) => recordLogin(s, 'agent1', { ipAddress: '10.0.0.7', version: 'v1.7.8', scenarios: 'a/b', now: T0 + 1000 }));
      const before = (await withStore((s) => getMachine(s, 'agent1')))!;
      const dup = await vigil('machines', 'add', 'agent1', '--password', 'second-password');
      expect(dup).toEqual({ code: 1, out: '', err: `level=fatal msg="machine 'agent1' already exists: add --force to give it a new password"\n` });
      expect((await withStore((s) => getMachine(s, 'agent1')))!.passwordHash).toBe(before.passwordHash);
      clock.set(T0 + 60_000);
      const forced = await vigil('machines', 'add', 'agent1', '--password', 'second-password', '--force', '-f', 'creds.yaml');
      expect(forced.code).toBe(0);
      const after = (await withStore((s) => getMachine(s, 'agent1')))!;
      expect(await bcrypt.compare('second-password', after.passwordHash)).toBe(true);
      expect(after).toMatchObject({ id: before.id, isValidated: true, ipAddress: '10.0.0.7', createdAt: before.createdAt, updatedAt: T0 + 60_000 });
    });

    it('list in the three formats, validate, inspect and delete', async () => {
      await withStore(async (s) => {
        await createMachine(s, { machineId: 'agent1', passwordHash: '$2a$10$x', now: T0, isValidated: true });
        await recordLogin(s, 'agent1', { ipAddress: '127.0.0.1', version: 'v1.4.6', scenarios: '', now: T0 });
        await recordHeartbeat(s, 'agent1', T0);
        await createMachine(s, { machineId: 'newmachine1', passwordHash: '$2a$10$y', now: T0, ipAddress: '127.0.0.1' });
      });
      clock.set(T0 + 110_000);
      const human = await vigil('machines', 'list');
      expect(human.out.split('\n')[1]).toBe(' Name          IP Address   Last Update            Status   Version   Auth Type   Last Heartbeat ');
      expect(human.out).toContain(' agent1        127.0.0.1    2026-11-24T04:17:15Z   ✔️        v1.4.6    password    1m50s          ');
      expect(human.out).toContain(' newmachine1   127.0.0.1    2026-11-24T04:17:15Z   🚫                 password    ⚠️ -            ');
      const raw = await vigil('machines', 'list', '-o', 'raw');
      expect(raw.out).toBe(
        'machine_id,ip_address,updated_at,validated,version,auth_type,last_heartbeat\n' +
          'agent1,127.0.0.1,2026-11-24T04:17:15Z,true,v1.4.6,password,1m50s\n' +
          'newmachine1,127.0.0.1,2026-11-24T04:17:15Z,false,,password,-\n',
      );
      const json = JSON.parse((await vigil('machines', 'list', '-o', 'json')).out);
      expect(json.map((m: { machineId: string; isValidated: boolean }) => [m.machineId, m.isValidated])).toEqual([
        ['agent1', true],
        ['newmachine1', false],
      ]);
      expect(JSON.stringify(json)).not.toContain('$2a$');

      expect((await vigil('machines', 'inspect', 'newmachine1', '-o', 'json')).out).toContain('"health": "pending"');
      expect(await vigil('machines', 'validate', 'newmachine1')).toEqual({
        code: 0,
        out: '',
        err: `level=info msg="machine 'newmachine1' validated successfully"\n`,
      });
      expect((await withStore((s) => getMachine(s, 'newmachine1')))!.isValidated).toBe(true);
      expect((await vigil('machines', 'inspect', 'agent1')).out).toMatch(/ Health +healthy /);

      const partly = await vigil('machines', 'delete', 'agent1', 'ghost');
      expect(partly.code).toBe(1);
      expect(partly.err).toContain("machine 'ghost' doesn't exist");
      expect((await withStore(listMachines)).length).toBe(2);
      expect((await vigil('machines', 'remove', 'agent1', 'newmachine1')).code).toBe(0);
      expect(await withStore(listMachines)).toEqual([]);
      // No machines: the header alone, as cscli's table prints it.
      const empty = (await vigil('machines', 'list')).out.split('\n');
      expect(empty).toHaveLength(4);
      expect(empty[1]).toMatch(/^ Name +IP Address/);
    });

    it('prune: heartbeat older than -d (default 10m), pending ones as old; refuses without a terminal unless --force', async () => {
      await withStore(async (s) => {
        await createMachine(s, { machineId: 'fresh', passwordHash: 'h', now: T0, isValidated: true });
        await recordHeartbeat(s, 'fresh', T0 + 55 * 60_000);
        await createMachine(s, { machineId: 'stale', passwordHash: 'h', now: T0, isValidated: true });
        await recordHeartbeat(s, 'stale', T0 + 5 * 60_000);
        await createMachine(s, { machineId: 'pending-old', passwordHash: 'h', now: T0 });
        await createMachine(s, { machineId: 'pending-new', passwordHash: 'h', now: T0 + 58 * 60_000 });
      });
      clock.set(T0 + 60 * 60_000);
      const asked = await vigil('machines', 'prune');
      expect(asked.code).toBe(1);
      expect(asked.out).toContain(' stale ');
      expect(asked.out).toContain(' pending-old ');
      expect(asked.out).not.toContain(' fresh ');
      expect(asked.out).not.toContain(' pending-new ');
      expect(asked.err).toMatch(/no terminal to ask: nothing was deleted; run again with --force/);
      expect((await withStore(listMachines)).length).toBe(4);

      const pendingOnly = await vigil('machines', 'prune', '--not-validated-only', '--force');
      expect(pendingOnly.code).toBe(0);
      expect(pendingOnly.err).toContain('successfully deleted 1 machines');
      expect((await withStore(listMachines)).map((m) => m.machineId)).toEqual(['fresh', 'stale', 'pending-new']);

      expect((await vigil('machines', 'prune', '-d', '1m')).err).toMatch(/under 2m may remove agents/);
      const forced = await vigil('machines', 'prune', '--force');
      expect(forced.code).toBe(0);
      expect((await withStore(listMachines)).map((m) => m.machineId)).toEqual(['fresh', 'pending-new']);
      expect((await vigil('machines', 'prune', '-d', '24h')).out).toBe('No machines to prune.\n');
    });

    it('issues list and show name the machine, its cause and its runbook', async () => {
      await vigil('machines', 'add', 'agent1', '--auto', '-f', 'creds.yaml');
      clock.set(T0 + 25 * 3600_000);
      await withStore((s) => new HealthEngine(s, clock, DEFAULT_RULES).evaluateNow());
      const list = await vigil('issues', 'list', '-o', 'raw');
      const row = list.out.split('\n').find((l) => l.includes('lp_offline'))!;
      expect(row).toMatch(/^\d+,lp_offline,critical,machine:agent1,open,/);
      expect(row).toContain('added but the agent never logged in');
      const id = row.split(',')[0]!;
      const show = await vigil('issues', 'show', id);
      expect(show.code).toBe(0);
      expect(show.out).toContain("machine 'agent1' was added 25h0m0s ago and has never logged in");
      expect(show.out).toContain('LP Offline: `agent1` (CrowdSec agent)');
      expect(show.out).toContain('sudo vigil machines add agent1 --auto --force -f /etc/crowdsec/local_api_credentials.yaml');
    });

    it.runIf(dialect === 'sqlite')('the real binary: prune with stdin not a terminal refuses, then --force deletes', async () => {
      const { dir, dbUrl } = workspace();
      await withStore(async (s) => {
        await createMachine(s, { machineId: 'gone', passwordHash: 'h', now: Date.now() - 3600_000, isValidated: true });
      });
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [bin, 'machines', ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, VIGIL_DB: dbUrl }, input: 'y\n' });
      const refused = run('prune');
      expect(refused.status).toBe(1);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/^level=fatal msg=.*run again with --force/);
      expect((await withStore(listMachines)).length).toBe(1);
      const forced = run('prune', '--force');
      expect(forced.status).toBe(0);
      expect(await withStore(listMachines)).toEqual([]);
    });
  });
}
