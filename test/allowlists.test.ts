import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';

/**
 * Centralized allowlists end to end (issue 29 item 1): a real `vigil serve` process on each database,
 * the real `vigil` binary for `vigil allowlists …` and `vigil decisions …`, the four routes over real
 * HTTP with a machine's JWT, an agent's alert on an allowlisted source dropped, and a stream
 * bouncer receiving in `deleted` the decision an added item expired. Bodies and statuses are
 * CrowdSec 1.7.8's (controllers/v1/allowlist.go; docs/reference/crowdsec-1.6-1.7.md §3).
 */
const BIN = path.resolve(import.meta.dirname, '../bin/vigil.js');
const UA = 'crowdsec/v1.6.9-debian-pragmatic-amd64';
const PASSWORD = 'allowlists-test-password-0123456789';
/** Each test runs the real binary up to 20 times: seconds each on a loaded machine. */
const SLOW = 240_000;
const STRFMT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const agentAlert = (ip: string) => ({
  capacity: 5,
  decisions: null,
  events: [{ meta: [{ key: 'source_ip', value: ip }], timestamp: new Date().toISOString() }],
  events_count: 6,
  labels: null,
  leakspeed: '10s',
  message: `Ip ${ip} performed 'crowdsecurity/ssh-bf' (6 events over 2s)`,
  remediation: true,
  scenario: 'crowdsecurity/ssh-bf',
  scenario_hash: 'h',
  scenario_version: '0.1',
  simulated: false,
  source: { ip, scope: 'Ip', value: ip },
  start_at: new Date().toISOString(),
  stop_at: new Date().toISOString(),
});

for (const dialect of DIALECTS) {
  describe(`${dialect}: allowlists through vigil serve, the CLI and the Local API`, () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-allowlists-'));
    let vigil: VigilServe;
    let cleanup: () => Promise<void>;
    let token = '';
    let bouncerKey = '';

    /** The real binary on serve's config: exit code, stdout, stderr (a refusal is an answer too). */
    const cli = (...args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(
          process.execPath,
          [BIN, ...args],
          { cwd: vigil.dir, env: { ...process.env, VIGIL_CONFIG: vigil.configPath }, timeout: 60_000 },
          (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
        );
      });
    const api = async (p: string, init: { method?: string; body?: string } = {}) => {
      const r = await fetch(`${vigil.url}${p.slice(1)}`, {
        method: init.method ?? 'GET',
        headers: { Authorization: `Bearer ${token}`, 'User-Agent': UA, 'Content-Type': 'application/json' },
        body: init.body,
      });
      return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
    };
    const stream = async (startup: boolean) => {
      const r = await fetch(`${vigil.url}v1/decisions/stream?startup=${startup}`, {
        headers: { 'X-Api-Key': bouncerKey, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.34' },
      });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { new: Array<{ value: string }> | null; deleted: Array<{ value: string }> | null };
      return { new: (body.new ?? []).map((d) => d.value), deleted: (body.deleted ?? []).map((d) => d.value) };
    };

    beforeAll(async () => {
      const db = await freshDbUrl(dialect);
      cleanup = db.cleanup;
      vigil = await startVigilServe({ workDir: work, db: db.url });
      expect((await cli('machines', 'add', 'agent-1', '-p', PASSWORD, '-f', path.join(vigil.dir, 'creds.yaml'))).code).toBe(0);
      bouncerKey = (await vigil.cli('bouncers', 'add', 'fw', '-o', 'raw')).trim();
      const login = await fetch(`${vigil.url}v1/watchers/login`, {
        method: 'POST',
        headers: { 'User-Agent': UA, 'Content-Type': 'application/json' },
        body: JSON.stringify({ machine_id: 'agent-1', password: PASSWORD, scenarios: [] }),
      });
      expect(login.status).toBe(200);
      token = ((await login.json()) as { token: string }).token;
    }, 60_000);
    afterAll(async () => {
      await vigil?.stop();
      await cleanup?.();
      fs.rmSync(work, { recursive: true, force: true });
    }, SLOW);

    it(
      'empty: [] for the lists, {} for a check, 204 for HEAD, a 500 naming a list that does not exist; JWT only',
      async () => {
        expect(await api('/v1/allowlists?with_content=true')).toMatchObject({ status: 200, text: '[]', type: 'application/json; charset=utf-8' });
        expect(await api('/v1/allowlists/check/192.0.2.1')).toMatchObject({ status: 200, text: '{}' });
        expect((await api('/v1/allowlists/check/192.0.2.1', { method: 'HEAD' })).status).toBe(204);
        // CrowdSec's GetAllowList error is not ItemNotFound: HandleDBErrors answers 500.
        expect(await api('/v1/allowlists/nope')).toMatchObject({ status: 500, text: `{"message":"allowlist 'nope' not found"}` });
        const anonymous = await fetch(`${vigil.url}v1/allowlists`, { headers: { 'X-Api-Key': bouncerKey } });
        expect(anonymous.status).toBe(401);
      },
      SLOW,
    );

    it(
      'create, add and check in cscli words; the routes answer CrowdSec bodies; an agent alert on an allowlisted source is dropped',
      async () => {
        expect(await cli('allowlists', 'create', 'office')).toMatchObject({ code: 1 });
        expect(await cli('allowlists', 'create', 'office', '-d', 'Office network')).toMatchObject({
          code: 0,
          out: "allowlist 'office' created successfully\n",
        });
        expect((await cli('allowlists', 'create', 'office', '-d', 'again')).err).toContain("allowlist 'office' already exists");
        expect(await cli('allowlists', 'add', 'office', '192.168.0.0/16', '10.1.2.3', '-e', '1h', '-d', 'vpn')).toMatchObject({
          code: 0,
          out: 'added 2 values to allowlist office\n',
        });
        const again = await cli('allowlists', 'add', 'office', '10.1.2.3');
        expect(again).toMatchObject({ code: 0, out: 'no new values for allowlist\n' });
        expect(again.err).toContain('value 10.1.2.3 already in allowlist');
        const bad = await cli('allowlists', 'add', 'office', 'bar', '10.9.9.9');
        expect([bad.code, bad.err]).toEqual([1, expect.stringContaining("invalid ip address 'bar'")]);
        expect((await cli('allowlists', 'add', 'nope', '10.9.9.9')).err).toContain("allowlist 'nope' not found");

        const lists = JSON.parse((await api('/v1/allowlists')).text);
        expect(lists).toEqual([
          { created_at: expect.stringMatching(STRFMT), description: 'Office network', items: [], name: 'office', updated_at: expect.stringMatching(STRFMT) },
        ]);
        const one = await api('/v1/allowlists/office?with_content=true');
        expect(one.status).toBe(200);
        const body = JSON.parse(one.text);
        expect(Object.keys(body)).toEqual(['created_at', 'description', 'items', 'name', 'updated_at']);
        expect(body.items.map((i: Record<string, string>) => [Object.keys(i), i.value, i.description ?? null])).toEqual([
          [['created_at', 'description', 'expiration', 'value'], '192.168.0.0/16', 'vpn'],
          [['created_at', 'description', 'expiration', 'value'], '10.1.2.3', 'vpn'],
        ]);
        expect(body.items[0].expiration).not.toBe('0001-01-01T00:00:00.000Z');

        expect(await api('/v1/allowlists/check/192.168.1.1')).toMatchObject({
          status: 200,
          text: '{"allowlisted":true,"reason":"192.168.0.0/16 from office (vpn)"}',
        });
        expect((await api('/v1/allowlists/check/192.168.10.0%2F24', { method: 'HEAD' })).status).toBe(200);
        expect((await api('/v1/allowlists/check/10.1.2.0%2F24', { method: 'HEAD' })).status).toBe(200);
        expect((await api('/v1/allowlists/check/10.1.3.0%2F24', { method: 'HEAD' })).status).toBe(204);
        expect(await api('/v1/allowlists/check/bar')).toMatchObject({ status: 500, text: `{"message":"invalid ip address 'bar'"}` });
        expect(await api('/v1/allowlists/check', { method: 'POST', body: '{"targets":["192.168.1.1","8.8.8.8"]}' })).toMatchObject({
          status: 200,
          text: '{"results":[{"allowlists":["192.168.0.0/16 from office (vpn)"],"target":"192.168.1.1"}]}',
        });
        expect(await api('/v1/allowlists/check', { method: 'POST', body: '{"targets":[]}' })).toMatchObject({
          status: 400,
          text: '{"message":"targets list cannot be empty"}',
        });
        expect(await api('/v1/allowlists/check', { method: 'POST', body: '' })).toMatchObject({ status: 400, text: '{"message":"EOF"}' });
        expect((await cli('allowlists', 'check', '192.168.0.1', '1.1.1.1')).out).toBe(
          '192.168.0.1 is allowlisted by item 192.168.0.0/16 from office (vpn)\n1.1.1.1 is not allowlisted\n',
        );

        // The agent's push: the allowlisted source is dropped (201 with only the other alert's id).
        const push = await api('/v1/alerts', { method: 'POST', body: JSON.stringify([agentAlert('192.168.7.7'), agentAlert('203.0.113.50')]) });
        expect(push.status).toBe(201);
        expect(JSON.parse(push.text)).toHaveLength(1);
        const onlyDropped = await api('/v1/alerts', { method: 'POST', body: JSON.stringify([agentAlert('192.168.7.8')]) });
        expect(onlyDropped).toMatchObject({ status: 201, text: '[]' });
        const listed = JSON.parse((await cli('decisions', 'list', '-o', 'json')).out) as Array<{ source: { value: string } }> | null;
        expect((listed ?? []).map((a) => a.source.value)).toEqual(['203.0.113.50']);
      },
      SLOW,
    );

    it(
      'decisions add refuses an allowlisted value unless -B; decisions import skips allowlisted values and says which',
      async () => {
        const refused = await cli('decisions', 'add', '-i', '192.168.1.1');
        expect(refused.code).toBe(1);
        expect(refused.err).toContain('192.168.1.1 is allowlisted by item 192.168.0.0/16 from office (vpn), use --bypass-allowlist to add the decision anyway');
        expect((await cli('decisions', 'add', '-r', '192.168.10.20/24')).err).toContain('is allowlisted by item 192.168.0.0/16 from office (vpn)');
        expect((await cli('decisions', 'add', '-i', '192.168.1.1', '--bypass-allowlist')).code).toBe(0);
        const file = path.join(vigil.dir, 'import.csv');
        fs.writeFileSync(file, 'value,duration\n192.168.1.2,1h\n198.51.100.1,1h\n');
        const imported = await cli('decisions', 'import', '-i', file);
        expect(imported.code, imported.err).toBe(0);
        expect(imported.out).toBe('Value 192.168.1.2 is allowlisted by [192.168.0.0/16 from office (vpn)]\n');
        expect(imported.err).toContain('1 decisions successfully imported');
      },
      SLOW,
    );

    it(
      'adding an item expires the active decisions it covers; the stream bouncer receives them in deleted',
      async () => {
        expect((await cli('decisions', 'add', '-i', '172.16.0.5', '-d', '4h')).code).toBe(0);
        expect((await stream(true)).new).toContain('172.16.0.5');
        const added = await cli('allowlists', 'add', 'office', '172.16.0.0/12');
        // Two: 172.16.0.5, and the 192.168.1.1 ban added above with --bypass-allowlist (CrowdSec's
        // ApplyAllowlistsToExistingDecisions applies every active item, not only the new one).
        expect(added).toMatchObject({ code: 0, out: 'added 1 values to allowlist office\n2 decisions deleted by allowlists\n' });
        let delta = { new: [] as string[], deleted: [] as string[] };
        for (let i = 0; i < 40 && !delta.deleted.includes('172.16.0.5'); i++) {
          await new Promise((r) => setTimeout(r, 250));
          const d = await stream(false);
          delta = { new: [...delta.new, ...d.new], deleted: [...delta.deleted, ...d.deleted] };
        }
        expect(delta.deleted).toContain('172.16.0.5');
        expect(delta.new).not.toContain('172.16.0.5');
      },
      SLOW,
    );

    it(
      "list, inspect, remove, import and delete print cscli's outputs",
      async () => {
        const human = (await cli('allowlists', 'list')).out.split('\n');
        expect(human[1]).toBe(' Name    Description     Created at                Updated at                Managed by Console  Size ');
        expect(human[3]).toMatch(/^ office {2}Office network {2}\S{24} {2}\S{24} {2}no {21}3 $/);
        expect(human[0]).toBe('-'.repeat(human[1]!.length));
        expect((await cli('allowlists', 'list', '-o', 'raw')).out).toMatch(
          /^name,description,created_at,updated_at,console_managed,size\noffice,Office network,\S+Z,\S+Z,false,3\n$/,
        );
        const inspect = (await cli('allowlists', 'inspect', 'office')).out;
        expect(inspect).toMatch(/^-+\n Allowlist: office +\n-+\n Name +office +\n Description +Office network +\n/);
        expect(inspect).toContain(' Managed by Console  no ');
        expect(inspect).toMatch(/\n Value +Comment +Expiration +Created at +\n-+\n 192\.168\.0\.0\/16 +vpn +\S+ +\S+ \n/);
        expect(inspect).toMatch(/ 172\.16\.0\.0\/12 +never +\S+Z \n-+\n$/);
        const json = JSON.parse((await cli('allowlists', 'inspect', 'office', '-o', 'json')).out);
        expect(json.items.map((i: { value: string }) => i.value)).toEqual(['192.168.0.0/16', '10.1.2.3', '172.16.0.0/12']);
        expect(await cli('allowlists', 'remove', 'office', '10.1.2.3', '9.9.9.9')).toMatchObject({ code: 0, out: 'removed 1 values from allowlist office\n' });
        expect(await cli('allowlists', 'remove', 'office', '9.9.9.9')).toMatchObject({ code: 0, out: 'no value to remove from allowlist\n' });
        const csv = path.join(vigil.dir, 'allow.csv');
        fs.writeFileSync(csv, 'value,expiration,comment\n198.51.100.0/24,24h,partner\n2001:db8::/32,,docs\n');
        expect(await cli('allowlists', 'import', 'office', '-i', csv)).toMatchObject({
          code: 0,
          out: 'added 2 values to allowlist office\n1 decisions deleted by allowlists\n',
        });
        expect(await api('/v1/allowlists/check/2001:db8::1')).toMatchObject({ text: '{"allowlisted":true,"reason":"2001:db8::/32 from office (docs)"}' });
        expect(await cli('allowlists', 'delete', 'office')).toMatchObject({ code: 0, out: "allowlist 'office' deleted successfully\n" });
        expect((await cli('allowlists', 'delete', 'office')).err).toContain("allowlist 'office' not found");
        expect((await api('/v1/allowlists/check/192.168.1.1')).text).toBe('{}');
        expect((await cli('allowlists', 'list', '-o', 'json')).out).toBe('[]\n');
      },
      SLOW,
    );
  });
}
